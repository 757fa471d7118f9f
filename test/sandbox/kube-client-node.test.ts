// The emulator driven by the real @kubernetes/client-node, as the product will drive a cluster.
import { PassThrough, Readable, Writable } from 'node:stream';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  Exec,
  KubeConfig,
  Log,
  Metrics,
  PatchStrategy,
  type V1ConfigMap,
  type V1Pod,
  type V1Status,
  Watch,
  makeInformer,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExecRequest, KubeApiEmulator, type LogRequest } from '../../src/sandbox/kube/index.js';
import { namespace, node, pod, rayCluster } from './kube-helpers.js';

const NS = 'vlinders-inference';
let emu: KubeApiEmulator;
let kc: KubeConfig;
let core: CoreV1Api;
const logRequests: LogRequest[] = [];

function execHook(r: ExecRequest): Promise<number> | undefined {
  const [cmd, ...args] = r.command;
  if (cmd === 'echo') return (r.stdout.write(`${args.join(' ')}\n`), Promise.resolve(0));
  if (cmd === 'fail') return (r.stdout.write('partial\n'), r.stderr.write('boom\n'), Promise.resolve(Number(args[0] ?? 1)));
  if (cmd === 'cat')
    return new Promise((ok) => {
      r.stdin?.pipe(r.stdout);
      r.stdin?.on('end', () => ok(0));
    });
  return undefined;
}

async function* logHook(r: LogRequest): AsyncIterable<string> {
  logRequests.push(r);
  yield `container ${r.container}`;
  yield 'INFO ready';
  if (r.follow) {
    for (let i = 0; i < 3; i++) {
      await new Promise((ok) => setTimeout(ok, 20));
      yield `tick ${i}`;
    }
  }
}

const collect = (): Writable & { text: () => string } => {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => Buffer.concat(chunks).toString('utf8');
  return w;
};

async function runExec(cmd: string[], stdin?: string): Promise<{ stdout: string; stderr: string; status: V1Status }> {
  const stdout = collect();
  const stderr = collect();
  const input = stdin === undefined ? null : Readable.from([Buffer.from(stdin)]);
  const status = await new Promise<V1Status>((ok, fail) => {
    void new Exec(kc).exec(NS, 'api-1', 'main', cmd, stdout, stderr, input, false, ok).catch(fail);
  });
  return { stdout: stdout.text(), stderr: stderr.text(), status };
}

const errorOf = async (p: Promise<unknown>): Promise<ApiException<string>> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return e as ApiException<string>;
    throw e;
  }
  throw new Error('expected the call to fail');
};

beforeAll(async () => {
  emu = await KubeApiEmulator.start({ hooks: { exec: execHook, logs: logHook, metrics: { node: (n) => (n === 'node-a' ? { cpu: '2500m', memory: '12Gi' } : undefined), pod: (_ns, name) => (name === 'api-1' ? [{ name: 'main', cpu: '150m', memory: '300Mi' }] : undefined) } } });
  for (const ns of ['default', NS]) emu.create(namespace(ns));
  emu.create(node('node-a', { roles: ['control-plane'] }));
  emu.create(node('gpu-1', { gpus: 8 }));
  emu.create(pod(NS, 'api-1', { labels: { app: 'api', tier: 'web' } }));
  emu.create(pod(NS, 'api-2', { state: 'crashloop', labels: { app: 'api', tier: 'web' }, node: 'gpu-1' }));
  emu.create(pod(NS, 'worker-1', { state: 'pending', labels: { app: 'ray', tier: 'gpu' } }));
  emu.create(pod(NS, 'job-1', { state: 'completed', labels: { app: 'job' } }));
  emu.create(rayCluster(NS, 'vlinders-ray-cluster', 3));
  kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfig());
  core = kc.makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await emu?.close();
});

describe('CoreV1Api', () => {
  it('lists and gets pods; a missing one is a 404 Status', async () => {
    const list = await core.listNamespacedPod({ namespace: NS });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['api-1', 'api-2', 'job-1', 'worker-1']);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
    const all = await core.listPodForAllNamespaces();
    expect(all.items).toHaveLength(4);
    const p = await core.readNamespacedPod({ name: 'api-2', namespace: NS });
    expect(p.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    const err = await errorOf(core.readNamespacedPod({ name: 'nope', namespace: NS }));
    expect(err.code).toBe(404);
    expect(JSON.parse(err.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'pods' }, code: 404 });
  });

  it('creates (201), refuses a duplicate (409 AlreadyExists) and an unknown namespace (404)', async () => {
    const cm: V1ConfigMap = { metadata: { name: 'settings', labels: { 'app.kubernetes.io/managed-by': 'vlinders-ops' } }, data: { a: '1' } };
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: cm });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const dup = await errorOf(core.createNamespacedConfigMap({ namespace: NS, body: cm }));
    expect(dup.code).toBe(409);
    expect(JSON.parse(dup.body)).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "settings" already exists' });
    const noNs = await errorOf(core.createNamespacedConfigMap({ namespace: 'nowhere', body: cm }));
    expect(JSON.parse(noNs.body)).toMatchObject({ code: 404, message: 'namespaces "nowhere" not found' });
  });

  it('replace with a stale resourceVersion is a 409 Conflict', async () => {
    const cm = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'claim' }, data: { owner: 'a' } } });
    const fresh = await core.replaceNamespacedConfigMap({ name: 'claim', namespace: NS, body: { ...cm, data: { owner: 'b' } } });
    expect(Number(fresh.metadata?.resourceVersion)).toBeGreaterThan(Number(cm.metadata?.resourceVersion));
    const stale = await errorOf(core.replaceNamespacedConfigMap({ name: 'claim', namespace: NS, body: { ...cm, data: { owner: 'c' } } }));
    expect(stale.code).toBe(409);
    expect(JSON.parse(stale.body)).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on configmaps "claim": the object has been modified; please apply your changes to the latest version and try again',
    });
    await core.deleteNamespacedConfigMap({ name: 'claim', namespace: NS });
    expect((await errorOf(core.readNamespacedConfigMap({ name: 'claim', namespace: NS }))).code).toBe(404);
  });

  it('patches: JSON patch (a failing test op is a 422), merge, strategic by merge key', async () => {
    const before = await core.readNamespacedPod({ name: 'api-1', namespace: NS });
    const failed = await errorOf(
      core.patchNamespacedPod({ name: 'api-1', namespace: NS, body: [{ op: 'test', path: '/metadata/labels/tier', value: 'db' }, { op: 'replace', path: '/metadata/labels/tier', value: 'x' }] }),
    );
    expect(failed.code).toBe(422);
    expect(JSON.parse(failed.body)).toMatchObject({ reason: 'Invalid', message: 'the server rejected our request due to an error in our request' });
    const patched = await core.patchNamespacedPod({ name: 'api-1', namespace: NS, body: [{ op: 'test', path: '/metadata/labels/tier', value: 'web' }, { op: 'add', path: '/metadata/annotations', value: { checked: 'yes' } }] });
    expect(patched.metadata?.annotations).toEqual({ checked: 'yes' });
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata?.resourceVersion));

    const merged = await core.patchNamespacedPod({ name: 'api-1', namespace: NS, body: { metadata: { annotations: { checked: null, by: 'merge' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(merged.metadata?.annotations).toEqual({ by: 'merge' });

    const body = { spec: { containers: [{ name: 'main', image: 'busybox:1.37' }, { name: 'sidecar', image: 'envoy:1.30' }] } };
    const smp: V1Pod = await core.patchNamespacedPod({ name: 'api-1', namespace: NS, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    expect(smp.spec?.containers.map((c) => [c.name, c.image, c.ports?.[0]?.containerPort])).toEqual([
      ['main', 'busybox:1.37', 8080],
      ['sidecar', 'envoy:1.30', undefined],
    ]);
    // A patch carrying a stale resourceVersion is refused like a stale update.
    const stale = await errorOf(core.patchNamespacedPod({ name: 'api-1', namespace: NS, body: { metadata: { resourceVersion: before.metadata?.resourceVersion, labels: { x: 'y' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
    expect(stale.code).toBe(409);
  });

  it('pages with limit/continue over a consistent snapshot', async () => {
    for (let i = 0; i < 25; i++) await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `page-${String(i).padStart(2, '0')}` } } });
    const first = await core.listNamespacedConfigMap({ namespace: 'default', limit: 10 });
    expect(first.items).toHaveLength(10);
    expect(first.metadata?.remainingItemCount).toBe(15);
    // Writes after the first page don't show up in later pages of the same list.
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'page-99' } } });
    const names = first.items.map((c) => c.metadata?.name);
    let token = first.metadata?._continue;
    while (token) {
      const page = await core.listNamespacedConfigMap({ namespace: 'default', limit: 10, _continue: token });
      expect(page.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
      names.push(...page.items.map((c) => c.metadata?.name));
      token = page.metadata?._continue;
    }
    expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `page-${String(i).padStart(2, '0')}`));
  });

  it('filters with label and field selectors', async () => {
    const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
      (await core.listPodForAllNamespaces({ ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) })).items.map((p) => p.metadata?.name as string);
    expect(await names('app=api')).toEqual(['api-1', 'api-2']);
    expect(await names('app==api,tier!=web')).toEqual([]);
    expect(await names('tier in (gpu, db)')).toEqual(['worker-1']);
    expect(await names('app notin (api,ray)')).toEqual(['job-1']);
    expect(await names('tier')).toEqual(['api-1', 'api-2', 'worker-1']);
    expect(await names('!tier')).toEqual(['job-1']);
    expect(await names(undefined, 'status.phase=Pending')).toEqual(['worker-1']);
    expect(await names(undefined, 'status.phase!=Running,metadata.namespace=vlinders-inference')).toEqual(['job-1', 'worker-1']);
    expect(await names(undefined, 'spec.nodeName=gpu-1')).toEqual(['api-2']);
    expect(await names('app=api', 'metadata.name!=api-1')).toEqual(['api-2']);
    const bad = await errorOf(core.listPodForAllNamespaces({ fieldSelector: 'spec.bogus=1' }));
    expect(JSON.parse(bad.body)).toMatchObject({ code: 400, message: 'field label not supported: spec.bogus' });
  });
});

describe('streams', () => {
  it('Watch receives ADDED, MODIFIED and DELETED', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    const events: string[] = [];
    const done = new Promise<void>((ok) => {
      void new Watch(kc).watch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: list.metadata?.resourceVersion, labelSelector: 'w=1' }, (phase, obj: V1ConfigMap) => {
        events.push(`${phase} ${obj.metadata?.name} ${obj.data?.v ?? ''}`.trim());
        if (phase === 'DELETED') ok();
      }, () => {}).then((ctl) => {
        watchers.push(ctl);
      });
    });
    const watchers: AbortController[] = [];
    await new Promise((ok) => setTimeout(ok, 50));
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'watched', labels: { w: '1' } }, data: { v: 'a' } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'ignored' } } });
    await core.patchNamespacedConfigMap({ name: 'watched', namespace: NS, body: { data: { v: 'b' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ name: 'watched', namespace: NS });
    await done;
    watchers.forEach((w) => w.abort());
    expect(events).toEqual(['ADDED watched a', 'MODIFIED watched b', 'DELETED watched b']);
  });

  it('an informer follows list+watch', async () => {
    const path = '/api/v1/namespaces/default/pods';
    const informer = makeInformer(kc, path, () => core.listNamespacedPod({ namespace: 'default' }));
    const seen: string[] = [];
    informer.on('add', (p: V1Pod) => seen.push(`add ${p.metadata?.name}`));
    informer.on('update', (p: V1Pod) => seen.push(`update ${p.metadata?.name} ${p.status?.phase}`));
    informer.on('delete', (p: V1Pod) => seen.push(`delete ${p.metadata?.name}`));
    emu.create(pod('default', 'early'));
    await informer.start();
    emu.create(pod('default', 'late', { state: 'pending' }));
    const late = emu.get('v1', 'Pod', 'default', 'late');
    if (!late?.status) throw new Error('seeded pod missing');
    late.status.phase = 'Running';
    emu.replace(late);
    emu.remove('v1', 'Pod', 'default', 'early');
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['add early', 'add late', 'update late Running', 'delete early']);
    expect(informer.list().map((p) => p.metadata?.name)).toEqual(['late']);
    await informer.stop();
  });

  it('Log streams lines, passes sinceSeconds, and follows', async () => {
    const out = collect();
    await new Log(kc).log(NS, 'api-1', 'main', out, { sinceSeconds: 60 });
    await expect.poll(() => out.text()).toBe('container main\nINFO ready\n');
    expect(logRequests.at(-1)).toMatchObject({ pod: 'api-1', container: 'main', sinceSeconds: 60 });
    const followed = new PassThrough();
    let text = '';
    followed.on('data', (c: Buffer) => (text += c.toString()));
    const ctl = await new Log(kc).log(NS, 'api-1', 'main', followed, { follow: true, tailLines: 5 });
    await expect.poll(() => text, { timeout: 5000 }).toContain('tick 2');
    ctl.abort();
    expect(logRequests.at(-1)).toMatchObject({ follow: true, tailLines: 5 });
  });

  it('Log: 400 for an unknown container, 404 for an unknown pod', async () => {
    const bad = await errorOf(core.readNamespacedPodLog({ name: 'api-1', namespace: NS, container: 'nope' }));
    expect(bad.code).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ reason: 'BadRequest', message: 'container nope is not valid for pod api-1' });
    expect((await errorOf(core.readNamespacedPodLog({ name: 'ghost', namespace: NS }))).code).toBe(404);
    // api-1 has a sidecar since the strategic patch above: the container must be named.
    expect(JSON.parse((await errorOf(core.readNamespacedPodLog({ name: 'api-1', namespace: NS }))).body).message).toBe('a container name must be specified for pod api-1, choose one of: [main sidecar]');
    expect(await core.readNamespacedPodLog({ name: 'api-1', namespace: NS, container: 'main', tailLines: 1 })).toBe('INFO ready\n');
  });

  it('Exec: stdout, stderr and exit codes on the status channel', async () => {
    const ok = await runExec(['echo', 'hello', 'gpu']);
    expect(ok).toEqual({ stdout: 'hello gpu\n', stderr: '', status: { metadata: {}, status: 'Success' } });
    const bad = await runExec(['fail', '3']);
    expect(bad.stdout).toBe('partial\n');
    expect(bad.stderr).toBe('boom\n');
    expect(bad.status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    const missing = await runExec(['nvidia-smi']);
    expect(missing.status.details?.causes?.[0]?.message).toBe('127');
    expect(missing.stderr).toContain('executable file not found in $PATH');
  });

  it('Exec: stdin reaches EOF without losing output (v5 close signal)', async () => {
    const r = await runExec(['cat'], 'fed through stdin\n');
    expect(r.stdout).toBe('fed through stdin\n');
    expect(r.status.status).toBe('Success');
    expect(emu.requests.filter((q) => q.path.endsWith('/exec')).every((q) => q.status === 101)).toBe(true);
  });
});

describe('other APIs', () => {
  it('CustomObjectsApi: get a RayCluster and scale it with a guarded JSON patch', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    const ref = { group: 'ray.io', version: 'v1', namespace: NS, plural: 'rayclusters', name: 'vlinders-ray-cluster' };
    const rc = (await api.getNamespacedCustomObject(ref)) as { spec: { workerGroupSpecs: Array<{ replicas: number }> } };
    expect(rc.spec.workerGroupSpecs[0]?.replicas).toBe(3);
    const scale = (from: number, to: number): unknown[] => [
      { op: 'test', path: '/spec/workerGroupSpecs/0/replicas', value: from },
      { op: 'replace', path: '/spec/workerGroupSpecs/0/replicas', value: to },
    ];
    const scaled = (await api.patchNamespacedCustomObject({ ...ref, body: scale(3, 5) }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch))) as typeof rc;
    expect(scaled.spec.workerGroupSpecs[0]?.replicas).toBe(5);
    const raced = await errorOf(api.patchNamespacedCustomObject({ ...ref, body: scale(3, 4) }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)));
    expect(raced.code).toBe(422);
    // Custom resources take no strategic merge patch, as on a real server.
    const smp = await errorOf(api.patchNamespacedCustomObject({ ...ref, body: { spec: {} } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)));
    expect(smp.code).toBe(415);
    expect((emu.get('ray.io/v1', 'RayCluster', NS, 'vlinders-ray-cluster')?.metadata.generation)).toBe(2);
  });

  it('Metrics: node and pod usage from metrics.k8s.io', async () => {
    const metrics = new Metrics(kc);
    const nodes = await metrics.getNodeMetrics();
    expect(nodes.kind).toBe('NodeMetricsList');
    expect(nodes.items.map((n) => [n.metadata.name, n.usage])).toEqual([['node-a', { cpu: '2500m', memory: '12Gi' }]]);
    const pods = await metrics.getPodMetrics(NS);
    expect(pods.items.map((p) => [p.metadata.name, p.containers])).toEqual([['api-1', [{ name: 'main', usage: { cpu: '150m', memory: '300Mi' } }]]]);
  });

  it('rejects a wrong token with 401 Unauthorized', async () => {
    const other = new KubeConfig();
    other.loadFromString(emu.kubeconfig().replace(emu.token, 'wrong-token'));
    const err = await errorOf(other.makeApiClient(CoreV1Api).listNamespace());
    // client-node drops the body of a 401; the raw Status is checked in kube-protocol.test.ts.
    expect(err.code).toBe(401);
  });

  it('failNext: a 403 names the verb and resource, like RBAC', async () => {
    emu.failNext({ method: 'PATCH', path: /rayclusters\/vlinders-ray-cluster$/ }, { status: 403 });
    const api = kc.makeApiClient(CustomObjectsApi);
    const err = await errorOf(api.patchNamespacedCustomObject({ group: 'ray.io', version: 'v1', namespace: NS, plural: 'rayclusters', name: 'vlinders-ray-cluster', body: [] }));
    expect(err.code).toBe(403);
    expect(JSON.parse(err.body).message).toBe(
      'rayclusters.ray.io "vlinders-ray-cluster" is forbidden: User "system:serviceaccount:vlinders-ops:vlinders-ops" cannot patch resource "rayclusters" in API group "ray.io" in the namespace "vlinders-inference"',
    );
  });
});
