// The emulator held to the real kubectl 1.35 (extracted into .tools/bin by test/tools/extract-tools.ts).
import { writeFile } from 'node:fs/promises';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExecRequest, KubeApiEmulator, type KubeObject } from '../../src/sandbox/kube/index.js';
import { Kubectl, namespace, node, pod, rayCluster } from './kube-helpers.js';

const NS = 'vlinders-inference';
let emu: KubeApiEmulator;
let kubectl: Kubectl;

function exec(r: ExecRequest): Promise<number> | undefined {
  const [cmd, ...args] = r.command;
  if (cmd === 'echo') return (r.stdout.write(`${args.join(' ')}\n`), Promise.resolve(0));
  if (cmd === 'sh' && args[0] === '-c' && /^exit \d+$/.test(args[1] ?? '')) return (r.stderr.write('about to fail\n'), Promise.resolve(Number(args[1]?.slice(5))));
  if (cmd === 'cat')
    return new Promise((ok) => {
      r.stdin?.pipe(r.stdout);
      r.stdin?.on('end', () => ok(0));
    });
  return undefined;
}

const lines = (text: unknown): string[][] =>
  String(text)
    .trimEnd()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));

beforeAll(async () => {
  emu = await KubeApiEmulator.start({ hooks: { exec, logs: (r) => (r.container === 'main' ? ['starting', 'listening on :8080', 'GET /healthz 200'] : ['sidecar up']) } });
  for (const ns of ['default', NS, 'vlinders-platform']) emu.create(namespace(ns));
  emu.create(node('cpu-1', { roles: ['control-plane'] }));
  emu.create(node('gpu-1', { gpus: 8, ready: false }));
  emu.create(pod(NS, 'api-1', { containers: ['main', 'proxy'], node: 'cpu-1' }));
  emu.create(pod(NS, 'api-2', { state: 'crashloop', node: 'cpu-1' }));
  emu.create(pod(NS, 'worker-1', { state: 'pending' }));
  emu.create(pod('vlinders-platform', 'postgres-0'));
  emu.create(pod('vlinders-platform', 'backup-1', { state: 'completed' }));
  emu.create(rayCluster(NS, 'vlinders-ray-cluster', 3));
  kubectl = await Kubectl.for(emu);
});

afterAll(async () => {
  await kubectl?.cleanup();
  await emu?.close();
});

describe('kubectl get', () => {
  it('get pods -A: statuses computed like kubectl, with the NAMESPACE column', async () => {
    const r = await kubectl.run(['get', 'pods', '-A']);
    expect(r.exitCode).toBe(0);
    const rows = lines(r.stdout);
    expect(rows[0]).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(rows.slice(1).map((row) => row.slice(0, 4))).toEqual([
      [NS, 'api-1', '2/2', 'Running'],
      [NS, 'api-2', '0/1', 'CrashLoopBackOff'],
      [NS, 'worker-1', '0/1', 'Pending'],
      ['vlinders-platform', 'backup-1', '0/1', 'Completed'],
      ['vlinders-platform', 'postgres-0', '1/1', 'Running'],
    ]);
    expect(rows[2]?.[4]).toMatch(/^7 \(2m(\d+s)? ago\)$/);
  });

  it('get pods -o wide adds IP and NODE', async () => {
    const r = await kubectl.run(['get', 'pods', '-n', NS, '-o', 'wide']);
    const rows = lines(r.stdout);
    expect(rows[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(rows[3]).toEqual(['worker-1', '0/1', 'Pending', '0', expect.stringMatching(/^\d+s$/), '<none>', '<none>', '<none>', '<none>']);
  });

  it('get nodes: STATUS and ROLES', async () => {
    const r = await kubectl.run(['get', 'nodes']);
    expect(r.exitCode).toBe(0);
    expect(lines(r.stdout).map((row) => [row[0], row[1], row[2], row[4]])).toEqual([
      ['NAME', 'STATUS', 'ROLES', 'VERSION'],
      ['cpu-1', 'Ready', 'control-plane', 'v1.34.2'],
      ['gpu-1', 'NotReady', '<none>', 'v1.34.2'],
    ]);
  });

  it('get pods -A -o json, paged by kubectl with --chunk-size', async () => {
    const r = await kubectl.run(['get', 'pods', '-A', '-o', 'json', '--chunk-size=2']);
    expect(r.exitCode).toBe(0);
    const list = JSON.parse(String(r.stdout)) as { kind: string; items: Array<{ kind: string; metadata: { name: string; namespace: string } }> };
    expect(list.kind).toBe('List');
    expect(list.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual([
      `${NS}/api-1`,
      `${NS}/api-2`,
      `${NS}/worker-1`,
      'vlinders-platform/backup-1',
      'vlinders-platform/postgres-0',
    ]);
    expect(list.items.every((p) => p.kind === 'Pod')).toBe(true);
    expect(emu.requests.filter((q) => q.path === '/api/v1/pods' && q.query.includes('continue=')).length).toBe(2);
  });

  it('get rayclusters shows the CRD printer columns', async () => {
    const r = await kubectl.run(['get', 'rayclusters', '-n', NS]);
    expect(lines(r.stdout).map((row) => row.slice(0, 7))).toEqual([
      ['NAME', 'DESIRED WORKERS', 'AVAILABLE WORKERS', 'CPUS', 'MEMORY', 'GPUS', 'STATUS'],
      ['vlinders-ray-cluster', '3', '3', '9', '36G', '3', 'ready'],
    ]);
  });

  it('a missing object and a wrong token give kubectl\'s usual errors', async () => {
    const missing = await kubectl.run(['get', 'pod', 'ghost', '-n', NS]);
    expect(missing.exitCode).toBe(1);
    expect(String(missing.stderr).trim()).toBe('Error from server (NotFound): pods "ghost" not found');
    const stranger = await Kubectl.for(emu, { kubeconfig: emu.kubeconfig().replace(emu.token, 'wrong-token') });
    try {
      const denied = await stranger.run(['get', 'pods']);
      expect(denied.exitCode).toBe(1);
      // Recent kubectl words a 401 this way (client-go's generic text for the code).
      expect(String(denied.stderr)).toContain('error: You must be logged in to the server (the server has asked for the client to provide credentials)');
    } finally {
      await stranger.cleanup();
    }
  });
});

describe('kubectl patch', () => {
  const scale = (from: number, to: number): string =>
    JSON.stringify([
      { op: 'test', path: '/spec/workerGroupSpecs/0/replicas', value: from },
      { op: 'replace', path: '/spec/workerGroupSpecs/0/replicas', value: to },
    ]);

  it('--type=json with a test op: applies once, then refuses the stale guard', async () => {
    const ok = await kubectl.run(['patch', 'raycluster', 'vlinders-ray-cluster', '-n', NS, '--type=json', '-p', scale(3, 5)]);
    expect(ok.exitCode).toBe(0);
    expect(String(ok.stdout).trim()).toBe('raycluster.ray.io/vlinders-ray-cluster patched');
    expect(emu.get('ray.io/v1', 'RayCluster', NS, 'vlinders-ray-cluster')?.spec?.workerGroupSpecs).toMatchObject([{ replicas: 5 }]);
    const stale = await kubectl.run(['patch', 'raycluster', 'vlinders-ray-cluster', '-n', NS, '--type=json', '-p', scale(3, 4)]);
    expect(stale.exitCode).toBe(1);
    expect(String(stale.stderr).trim()).toBe('The request is invalid: the server rejected our request due to an error in our request');
  });

  it('--type=merge, and a strategic patch (the default) on a pod', async () => {
    const merge = await kubectl.run(['patch', 'raycluster', 'vlinders-ray-cluster', '-n', NS, '--type=merge', '-p', '{"spec":{"workerGroupSpecs":[{"groupName":"gpu-workers","replicas":2,"minReplicas":1,"maxReplicas":8}]}}']);
    expect(merge.exitCode).toBe(0);
    // The merge patch replaces the list; the CRD's defaults fill in what the new item leaves out.
    expect(emu.get('ray.io/v1', 'RayCluster', NS, 'vlinders-ray-cluster')?.spec?.workerGroupSpecs).toEqual([{ groupName: 'gpu-workers', replicas: 2, minReplicas: 1, maxReplicas: 8, numOfHosts: 1, priority: 0 }]);
    const smp = await kubectl.run(['patch', 'pod', 'api-1', '-n', NS, '-p', '{"metadata":{"labels":{"patched":"yes"}},"spec":{"containers":[{"name":"proxy","image":"envoy:1.31"}]}}']);
    expect(smp.exitCode).toBe(0);
    const p = emu.get('v1', 'Pod', NS, 'api-1');
    expect(p?.metadata.labels).toEqual({ app: 'api-1', patched: 'yes' });
    expect((p?.spec?.containers as Array<{ name: string; image: string }>).map((c) => `${c.name}=${c.image}`)).toEqual(['main=busybox:1.36', 'proxy=envoy:1.31']);
    const noSmp = await kubectl.run(['patch', 'raycluster', 'vlinders-ray-cluster', '-n', NS, '-p', '{"spec":{}}']);
    expect(noSmp.exitCode).toBe(1);
    expect(String(noSmp.stderr)).toContain('application/strategic-merge-patch+json is not supported by ray.io/v1, Kind=RayCluster');
  });

  it('label and annotate go through merge patches', async () => {
    expect((await kubectl.run(['label', 'pod', 'postgres-0', '-n', 'vlinders-platform', 'backup=daily'])).exitCode).toBe(0);
    expect(emu.get('v1', 'Pod', 'vlinders-platform', 'postgres-0')?.metadata.labels).toMatchObject({ backup: 'daily' });
    const sel = await kubectl.run(['get', 'pods', '-A', '-l', 'backup=daily', '-o', 'name']);
    expect(String(sel.stdout).trim()).toBe('pod/postgres-0');
  });
});

describe('kubectl create/apply from files', () => {
  it('works with --validate=false (no /openapi is served, so client-side validation cannot run)', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = `${kubectl.dir}/raycluster.json`;
    await writeFile(file, JSON.stringify(rayCluster('default', 'applied', 2)));
    const first = await kubectl.run(['apply', '-f', file, '--validate=false']);
    expect(String(first.stdout).trim()).toBe('raycluster.ray.io/applied created');
    expect(emu.get('ray.io/v1', 'RayCluster', 'default', 'applied')?.metadata.annotations).toHaveProperty(['kubectl.kubernetes.io/last-applied-configuration']);
    const validating = await kubectl.run(['apply', '-f', file]);
    expect(String(validating.stderr)).toContain('failed to download openapi');
    expect((await kubectl.run(['delete', '-f', file])).exitCode).toBe(0);
  });
});

describe("a RayCluster's CRD defaults", () => {
  /** A worker group declared with minReplicas only, as manifests written for the autoscaler often are. */
  function withoutReplicas(name: string): KubeObject {
    const rc = rayCluster('default', name, 2);
    const group = (rc.spec as { workerGroupSpecs: Array<Record<string, unknown>> }).workerGroupSpecs[0] as Record<string, unknown>;
    delete group.replicas;
    group.minReplicas = 2;
    delete group.maxReplicas;
    delete rc.status;
    return rc;
  }
  const get = (name: string, path: string) => kubectl.run(['get', 'raycluster', name, '-n', 'default', '-o', `jsonpath={${path}}`]);

  it('kubectl create without replicas reads back replicas 0 and the other worker-group defaults', async () => {
    const file = `${kubectl.dir}/no-replicas.json`;
    await writeFile(file, JSON.stringify(withoutReplicas('no-replicas')));
    const created = await kubectl.run(['create', '-f', file, '--validate=false', '-o', 'json']);
    expect(created.exitCode).toBe(0);
    // The create response already carries them: the apiserver defaults before it stores.
    expect(JSON.parse(String(created.stdout)).spec.workerGroupSpecs[0]).toMatchObject({ replicas: 0, minReplicas: 2, maxReplicas: 2147483647, numOfHosts: 1, priority: 0 });
    expect(String((await get('no-replicas', '.spec.workerGroupSpecs[0].replicas')).stdout)).toBe('0');
    expect(String((await get('no-replicas', '.spec.workerGroupSpecs[0].maxReplicas')).stdout)).toBe('2147483647');
  });

  it('a JSON patch removing replicas, or a merge patch setting it to null, leaves replicas 0', async () => {
    const file = `${kubectl.dir}/patched.json`;
    await writeFile(file, JSON.stringify(rayCluster('default', 'patched', 3)));
    expect((await kubectl.run(['create', '-f', file, '--validate=false'])).exitCode).toBe(0);
    expect(String((await get('patched', '.spec.workerGroupSpecs[0].replicas')).stdout)).toBe('3');
    const removed = await kubectl.run(['patch', 'raycluster', 'patched', '-n', 'default', '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/workerGroupSpecs/0/replicas' }])]);
    expect(removed.exitCode).toBe(0);
    expect(String((await get('patched', '.spec.workerGroupSpecs[0].replicas')).stdout)).toBe('0');
    await kubectl.run(['patch', 'raycluster', 'patched', '-n', 'default', '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/spec/workerGroupSpecs/0/replicas', value: 4 }])]);
    const nulled = await kubectl.run(['patch', 'raycluster', 'patched', '-n', 'default', '--type=merge', '-p', JSON.stringify({ spec: { workerGroupSpecs: [{ groupName: 'gpu-workers', replicas: null, minReplicas: 1, maxReplicas: 8, rayStartParams: {}, template: { spec: { containers: [{ name: 'ray-worker', image: 'rayproject/ray:2.41.0' }] } } }] } })]);
    expect(nulled.exitCode).toBe(0);
    expect(String((await get('patched', '.spec.workerGroupSpecs[0].replicas')).stdout)).toBe('0');
  });

  it('through @kubernetes/client-node too: a created RayCluster without replicas reads back 0', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(emu.kubeconfig());
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({ group: 'ray.io', version: 'v1', namespace: 'default', plural: 'rayclusters', body: withoutReplicas('client-node') });
    const read = (await custom.getNamespacedCustomObject({ group: 'ray.io', version: 'v1', namespace: 'default', plural: 'rayclusters', name: 'client-node' })) as { spec: { workerGroupSpecs: Array<{ replicas?: number; minReplicas?: number }> } };
    expect(read.spec.workerGroupSpecs[0]).toMatchObject({ replicas: 0, minReplicas: 2 });
  });
});

describe('kubectl exec and logs', () => {
  it('exec prints stdout', async () => {
    const r = await kubectl.run(['exec', 'postgres-0', '-n', 'vlinders-platform', '--', 'echo', 'hello', 'from', 'the', 'pod']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('hello from the pod');
    const ws = emu.requests.filter((q) => q.path.endsWith('/exec'));
    expect(ws.at(-1)?.status).toBe(101);
  });

  it('exec propagates a non-zero exit code and stderr', async () => {
    const r = await kubectl.run(['exec', 'postgres-0', '-n', 'vlinders-platform', '--', 'sh', '-c', 'exit 42']);
    expect(r.exitCode).toBe(42);
    expect(String(r.stderr)).toContain('about to fail');
    expect(String(r.stderr)).toContain('command terminated with exit code 42');
    const missing = await kubectl.run(['exec', 'postgres-0', '-n', 'vlinders-platform', '--', 'nvidia-smi']);
    expect(missing.exitCode).toBe(127);
  });

  it('exec into a container that is not running fails like the kubelet', async () => {
    const crashing = await kubectl.run(['exec', 'api-2', '-n', NS, '--', 'echo']);
    expect(crashing.exitCode).toBe(1);
    expect(String(crashing.stderr)).toContain('container not found ("main")');
    const unscheduled = await kubectl.run(['exec', 'worker-1', '-n', NS, '--', 'echo']);
    expect(String(unscheduled.stderr)).toContain('pod worker-1 does not have a host assigned');
  });

  it('exec -i feeds stdin; -c picks the container', async () => {
    const r = await kubectl.run(['exec', '-i', 'api-1', '-n', NS, '-c', 'proxy', '--', 'cat'], { input: 'line 1\nline 2\n' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('line 1\nline 2');
    const bad = await kubectl.run(['exec', 'api-1', '-n', NS, '-c', 'nope', '--', 'echo']);
    expect(bad.exitCode).toBe(1);
    expect(String(bad.stderr).trim()).toBe('Error from server (BadRequest): container nope is not valid for pod api-1');
  });

  it('logs, with --tail and -c', async () => {
    const all = await kubectl.run(['logs', 'api-2', '-n', NS]);
    expect(all.stdout).toBe('starting\nlistening on :8080\nGET /healthz 200');
    const tail = await kubectl.run(['logs', 'api-2', '-n', NS, '--tail=1']);
    expect(tail.stdout).toBe('GET /healthz 200');
    const side = await kubectl.run(['logs', 'api-1', '-n', NS, '-c', 'proxy']);
    expect(side.stdout).toBe('sidecar up');
    const previous = await kubectl.run(['logs', 'api-1', '-n', NS, '-c', 'main', '--previous']);
    expect(String(previous.stderr).trim()).toBe('Error from server (BadRequest): previous terminated container "main" in pod "api-1" not found');
    const stamped = await kubectl.run(['logs', 'api-2', '-n', NS, '--previous', '--timestamps', '--tail=1']);
    expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z GET \/healthz 200$/);
    expect((await kubectl.run(['logs', 'worker-1', '-n', NS])).stdout).toBe('');
  });

  it("logs the kubelet can't serve: a NotReady node's (the dial times out) and a container with no status yet", async () => {
    emu.create(pod('default', 'on-lost-node', { node: 'gpu-1' }));
    const lost = await kubectl.run(['logs', 'on-lost-node', '-n', 'default', '--tail=5']);
    expect(lost.exitCode).toBe(1);
    expect(String(lost.stderr).trim()).toBe('Error from server: Get "https://10.0.0.10:10250/containerLogs/default/on-lost-node/main?tailLines=5": dial tcp 10.0.0.10:10250: i/o timeout');
    const starting = pod('default', 'just-scheduled', { node: 'cpu-1' });
    emu.create({ ...starting, status: { phase: 'Pending' } });
    const unknown = await kubectl.run(['logs', 'just-scheduled', '-n', 'default']);
    expect(String(unknown.stderr).trim()).toBe('Error from server (BadRequest): container "main" in pod "just-scheduled" is not available');
    emu.create(pod('default', 'on-gone-node', { node: 'node-gone' }));
    expect(String((await kubectl.run(['logs', 'on-gone-node', '-n', 'default'])).stderr).trim()).toBe('Error from server (NotFound): nodes "node-gone" not found');
  });
});

describe('plain http', () => {
  it('kubectl works without TLS (and so without a token)', async () => {
    const plain = await KubeApiEmulator.start({ tls: false });
    const k = await Kubectl.for(plain);
    try {
      plain.create(namespace('default'));
      plain.create(pod('default', 'web-0'));
      const r = await k.run(['get', 'pods']);
      expect(r.exitCode).toBe(0);
      expect(lines(r.stdout)[1]?.slice(0, 3)).toEqual(['web-0', '1/1', 'Running']);
    } finally {
      await k.cleanup();
      await plain.close();
    }
  });
});
