// Wire-level checks of the emulator: exact Status bodies, discovery, Table shapes, watch edge
// cases, paging tokens, fault injection and the exec channel protocols, over raw HTTPS/WebSocket.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { namespace, node, pod } from './kube-helpers.js';

let emu: KubeApiEmulator;

interface Raw {
  status: number;
  type: string;
  text: string;
  json: () => Record<string, unknown>;
}

function raw(method: string, path: string, opts: { headers?: Record<string, string>; body?: string; token?: string; timeoutMs?: number } = {}): Promise<Raw> {
  const url = new URL(path, emu.url);
  return new Promise((ok, fail) => {
    const req = request(url, { method, ca: emu.caPem, headers: { authorization: `Bearer ${opts.token ?? emu.token}`, ...opts.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text, json: () => JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', fail);
    if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error('timed out')));
    req.end(opts.body);
  });
}

const events = (text: string): Array<{ type: string; object: { metadata?: { name?: string }; code?: number; reason?: string } }> =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

beforeAll(async () => {
  emu = await KubeApiEmulator.start({
    hooks: {
      exec: (r) => {
        if (r.command[0] === 'fail') return Promise.resolve(2);
        if (r.command[0] === 'crash') return Promise.reject(new Error('runtime exploded'));
        r.stdout.write('ok\n');
        return Promise.resolve(0);
      },
    },
  });
  emu.create(namespace('default'));
  emu.create(node('node-a'));
  for (const name of ['a', 'b', 'c']) emu.create(pod('default', name, { labels: { app: name, group: 'abc' } }));
});

afterAll(async () => {
  await emu?.close();
});

describe('status bodies and auth', () => {
  it('answers a missing or wrong token with the exact 401 Status', async () => {
    for (const token of ['', 'nope']) {
      const r = await raw('GET', '/api/v1/pods', { token });
      expect(r.status).toBe(401);
      expect(r.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
  });

  it('names grouped resources like the real server', async () => {
    const r = await raw('GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(r.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'deployments.apps "web" not found', reason: 'NotFound', details: { name: 'web', group: 'apps', kind: 'deployments' }, code: 404 });
    expect((await raw('GET', '/api/v1/widgets')).json()).toMatchObject({ code: 404, message: 'the server could not find the requested resource' });
  });
});

describe('discovery', () => {
  it('serves /version, legacy /api and /apis, and group versions', async () => {
    expect((await raw('GET', '/version')).json()).toMatchObject({ major: '1', gitVersion: expect.stringMatching(/^v1\.\d+\.\d+$/) });
    expect((await raw('GET', '/api')).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await raw('GET', '/apis')).json() as { groups: Array<{ name: string }> };
    expect(groups.groups.map((g) => g.name)).toEqual(['apps', 'batch', 'policy', 'storage.k8s.io', 'coordination.k8s.io', 'metrics.k8s.io', 'ray.io']);
    const v1 = (await raw('GET', '/api/v1')).json() as { resources: Array<{ name: string; verbs: string[] }> };
    expect(v1.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/log', 'pods/exec', 'nodes', 'configmaps', 'events', 'serviceaccounts']));
    const ray = (await raw('GET', '/apis/ray.io/v1')).json() as { groupVersion: string; resources: Array<{ name: string }> };
    expect(ray.resources.map((r) => r.name)).toEqual(['rayclusters', 'rayclusters/status', 'rayservices', 'rayservices/status', 'rayjobs', 'rayjobs/status']);
    expect((await raw('GET', '/apis/nope.io/v1')).status).toBe(404);
  });

  it('answers aggregated discovery (apidiscovery.k8s.io/v2) when asked', async () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';
    const r = await raw('GET', '/apis', { headers: { accept } });
    expect(r.type).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const list = r.json() as { items: Array<{ metadata: { name: string }; versions: Array<{ resources: Array<{ resource: string; scope: string }> }> }> };
    const apps = list.items.find((i) => i.metadata.name === 'apps');
    expect(apps?.versions[0]?.resources.find((x) => x.resource === 'deployments')).toMatchObject({ scope: 'Namespaced', verbs: expect.arrayContaining(['patch', 'watch']) });
  });
});

describe('tables', () => {
  const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

  it('lists pods as a Table with PartialObjectMetadata rows by default', async () => {
    const t = (await raw('GET', '/api/v1/namespaces/default/pods', { headers: { accept: TABLE } })).json() as {
      kind: string;
      columnDefinitions: Array<{ name: string; priority: number }>;
      rows: Array<{ cells: unknown[]; object: { kind: string; metadata: { name: string } } }>;
    };
    expect(t.kind).toBe('Table');
    expect(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(t.rows[0]?.cells.slice(0, 4)).toEqual(['a', '1/1', 'Running', '0']);
    expect(t.rows[0]?.object).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'a', namespace: 'default' } });
    const full = (await raw('GET', '/api/v1/namespaces/default/pods/b?includeObject=Object', { headers: { accept: TABLE } })).json() as { rows: Array<{ object: { kind: string; spec: unknown } }> };
    expect(full.rows[0]?.object.kind).toBe('Pod');
    expect(full.rows[0]?.object.spec).toBeDefined();
  });
});

describe('watch edge cases', () => {
  it('a resourceVersion older than the history is an ERROR event with 410 Expired', async () => {
    const r = await raw('GET', '/api/v1/pods?watch=1&resourceVersion=5');
    expect(r.status).toBe(200);
    const [ev] = events(r.text);
    expect(ev).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
  });

  it('honours timeoutSeconds, starts with ADDED without a resourceVersion, ends with a bookmark for sendInitialEvents', async () => {
    const started = Date.now();
    const r = await raw('GET', '/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const evs = events(r.text);
    expect(evs.map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`.trim())).toEqual(['ADDED a', 'ADDED b', 'ADDED c', 'BOOKMARK']);
    expect(evs[3]?.object.metadata).toMatchObject({ annotations: { 'k8s.io/initial-events-end': 'true' } });
  });

  it('an object leaving the selector is DELETED for a selector watch', async () => {
    const rv = ((await raw('GET', '/api/v1/namespaces/default/pods')).json().metadata as { resourceVersion: string }).resourceVersion;
    const watching = raw('GET', `/api/v1/namespaces/default/pods?watch=1&labelSelector=group%3Dabc&resourceVersion=${rv}&timeoutSeconds=1`);
    await new Promise((ok) => setTimeout(ok, 100));
    const merge = { 'content-type': 'application/merge-patch+json' };
    await raw('PATCH', '/api/v1/namespaces/default/pods/a', { headers: merge, body: '{"metadata":{"labels":{"group":"other"}}}' });
    await raw('PATCH', '/api/v1/namespaces/default/pods/a', { headers: merge, body: '{"metadata":{"labels":{"group":"abc"}}}' });
    expect(events((await watching).text).map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['DELETED a', 'ADDED a']);
  });
});

describe('writes', () => {
  const merge = { 'content-type': 'application/merge-patch+json' };

  it('the status subresource: main writes keep status, /status writes change only status', async () => {
    await raw('PATCH', '/api/v1/namespaces/default/pods/c', { headers: merge, body: '{"metadata":{"labels":{"x":"1"}},"status":{"phase":"Failed"}}' });
    expect(emu.get('v1', 'Pod', 'default', 'c')?.status?.phase).toBe('Running');
    const r = await raw('PATCH', '/api/v1/namespaces/default/pods/c/status', { headers: merge, body: '{"metadata":{"labels":{"y":"2"}},"status":{"phase":"Succeeded"}}' });
    expect(r.status).toBe(200);
    const c = emu.get('v1', 'Pod', 'default', 'c');
    expect([c?.status?.phase, c?.metadata.labels]).toEqual(['Succeeded', { app: 'c', group: 'abc', x: '1' }]);
  });

  it('secrets: stringData is stored base64 in data; deletecollection honours selectors', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', labels: { tmp: '1' } }, stringData: { password: 'hunter2' } });
    const created = (await raw('POST', '/api/v1/namespaces/default/secrets', { headers: { 'content-type': 'application/json' }, body })).json();
    expect(created.data).toEqual({ password: Buffer.from('hunter2').toString('base64') });
    expect(created.stringData).toBeUndefined();
    const gone = (await raw('DELETE', '/api/v1/namespaces/default/secrets?labelSelector=tmp%3D1')).json() as { kind: string; items: unknown[] };
    expect([gone.kind, gone.items.length]).toEqual(['SecretList', 1]);
    expect(emu.list('v1', 'Secret')).toEqual([]);
  });

  it('dryRun=All renders the result without storing it', async () => {
    const before = emu.get('v1', 'Pod', 'default', 'b');
    const r = (await raw('PATCH', '/api/v1/namespaces/default/pods/b?dryRun=All', { headers: merge, body: '{"metadata":{"labels":{"dry":"run"}}}' })).json() as { metadata: { labels: Record<string, string>; resourceVersion: string } };
    expect(r.metadata.labels.dry).toBe('run');
    expect(r.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(emu.get('v1', 'Pod', 'default', 'b')).toEqual(before);
    expect((await raw('DELETE', '/api/v1/namespaces/default/pods/b?dryRun=All')).status).toBe(200);
    expect(emu.get('v1', 'Pod', 'default', 'b')).toEqual(before);
  });

  it('protobuf bodies (kubectl create of built-in kinds) are a 415', async () => {
    const r = await raw('POST', '/api/v1/namespaces/default/configmaps', { headers: { 'content-type': 'application/vnd.kubernetes.protobuf' }, body: 'k8s\u0000' });
    expect(r.json()).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
  });
});

describe('paging tokens', () => {
  it('rejects a garbled continue token (400) and an expired snapshot (410)', async () => {
    expect((await raw('GET', '/api/v1/pods?limit=1&continue=garbage')).json()).toMatchObject({ code: 400, reason: 'BadRequest' });
    const forged = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start: 'x\u0000', snap: 'gone', i: 1 })).toString('base64url');
    expect((await raw('GET', `/api/v1/pods?limit=1&continue=${forged}`)).json()).toMatchObject({ code: 410, reason: 'Expired' });
  });
});

describe('fault injection', () => {
  it('fails the next N matching requests, then answers normally', async () => {
    emu.failNext({ method: 'GET', path: /^\/api\/v1\/nodes$/ }, { status: 500, message: 'etcdserver: request timed out' }, 2);
    expect((await raw('GET', '/api/v1/nodes')).json()).toMatchObject({ code: 500, reason: 'InternalError', message: 'etcdserver: request timed out' });
    expect((await raw('GET', '/api/v1/nodes')).status).toBe(500);
    expect((await raw('GET', '/api/v1/nodes')).status).toBe(200);
    expect(emu.requests.filter((r) => r.path === '/api/v1/nodes').map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it("'hang' never answers (the client's timeout fires), and close() still returns", async () => {
    emu.failNext({ path: /\/pods\/b$/ }, 'hang');
    await expect(raw('GET', '/api/v1/namespaces/default/pods/b', { timeoutMs: 300 })).rejects.toThrow('timed out');
    expect((await raw('GET', '/api/v1/namespaces/default/pods/b')).status).toBe(200);
  });
});

describe('logs of a container that has not started', () => {
  it('is a 400 naming the waiting reason', async () => {
    const p = pod('default', 'starting');
    (p.status as { containerStatuses: Array<{ state: unknown }> }).containerStatuses[0]!.state = { waiting: { reason: 'ContainerCreating' } };
    emu.create(p);
    const r = await raw('GET', '/api/v1/namespaces/default/pods/starting/log');
    expect(r.json()).toMatchObject({ code: 400, reason: 'BadRequest', message: 'container "main" in pod "starting" is waiting to start: ContainerCreating' });
  });
});

describe('exec protocols', () => {
  function execWs(protocols: string[], cmd: string, podName = 'a'): Promise<{ protocol: string; frames: Array<[number, string]>; code?: number; status?: number }> {
    const url = `${emu.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/${podName}/exec?command=${cmd}&stdout=true&stderr=true`;
    return new Promise((ok, fail) => {
      const ws = new WebSocket(url, protocols, { ca: emu.caPem, headers: { authorization: `Bearer ${emu.token}` } });
      const frames: Array<[number, string]> = [];
      ws.on('message', (d: Buffer) => frames.push([d[0] as number, d.subarray(1).toString()]));
      ws.on('close', (code) => ok({ protocol: ws.protocol, frames, code }));
      ws.on('unexpected-response', (_req, res) => ok({ protocol: '', frames, status: res.statusCode ?? 0 }));
      ws.on('error', fail);
    });
  }

  it('v4 sends a Status on channel 3, then closes normally', async () => {
    const r = await execWs(['v4.channel.k8s.io'], 'fail');
    expect(r.protocol).toBe('v4.channel.k8s.io');
    expect(r.code).toBe(1000);
    const [ch, body] = r.frames.at(-1) ?? [];
    expect(ch).toBe(3);
    expect(JSON.parse(body as string)).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [fail], exit code 2',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '2' }] },
    });
  });

  it('the client-preferred protocol wins; channel.k8s.io carries plain error text', async () => {
    expect((await execWs(['v5.channel.k8s.io', 'v4.channel.k8s.io'], 'hi')).protocol).toBe('v5.channel.k8s.io');
    const v1 = await execWs(['channel.k8s.io'], 'fail');
    expect(v1.frames.at(-1)).toEqual([3, 'command terminated with non-zero exit code: error executing command [fail], exit code 2']);
    const ok = await execWs(['channel.k8s.io'], 'hi');
    expect(ok.frames).toEqual([[1, 'ok\n']]);
  });

  it('a throwing handler is an InternalError Status; a missing pod is a 404 before the upgrade', async () => {
    const r = await execWs(['v5.channel.k8s.io'], 'crash');
    expect(JSON.parse(r.frames.at(-1)?.[1] as string)).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500, message: 'Internal error occurred: error executing command in container: runtime exploded' });
    expect((await execWs(['v5.channel.k8s.io'], 'hi', 'ghost')).status).toBe(404);
  });
});
