// The world's log and metrics sources, directly and through the emulator's pods/log and
// metrics.k8s.io endpoints as the product reads them; and startVlindersWorld wiring it all.
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.js';
import { KubeApiEmulator, type LogRequest } from '../../src/sandbox/kube/index.js';
import { type SeedOptions, type World, seedVlindersCluster, startVlindersWorld, vlindersLogs, vlindersMetrics } from '../../src/sandbox/kube/world/index.js';

const P = 'vlinders-platform';
let emu: KubeApiEmulator | undefined;
let running: World | undefined;
afterEach(async () => {
  running?.stop();
  running = undefined;
  await emu?.close();
  emu = undefined;
});

async function seeded(opts: SeedOptions = {}) {
  emu = await KubeApiEmulator.start({ tls: false });
  return { e: emu, cluster: seedVlindersCluster(emu, opts) };
}

function client(e: KubeApiEmulator): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(e.kubeconfig());
  return new KubeClient('emulator', kc, 5000);
}

async function lines(source: ReturnType<typeof vlindersLogs>, req: Omit<LogRequest, 'namespace' | 'container'>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of source({ namespace: P, container: 'api', ...req })) out.push(l);
  return out;
}

const TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (INFO |WARN |ERROR) \[[\w.]+\] /;

describe('vlinders-api logs', () => {
  it('has an hour of timestamped INFO/ERROR lines, stable across reads, honouring sinceSeconds and tailLines', async () => {
    const { e, cluster } = await seeded();
    const now = Date.parse('2026-07-14T09:00:00.000Z');
    const logs = vlindersLogs({ state: e, now: () => now });
    const pod = cluster.apiPods[0] as string;
    const all = await lines(logs, { pod });
    expect(all).toHaveLength(720); // one per 5 s
    for (const l of all) expect(l).toMatch(TS);
    expect(all.some((l) => l.includes(' ERROR '))).toBe(true);
    expect(all.some((l) => l.includes(' INFO '))).toBe(true);
    const times = all.map((l) => Date.parse(TS.exec(l)?.[1] as string));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times.at(-1)).toBeLessThanOrEqual(now);
    expect(await lines(logs, { pod })).toEqual(all);

    const recent = await lines(logs, { pod, sinceSeconds: 60 });
    expect(recent).toEqual(all.slice(-13)); // 08:59:00 .. 09:00:00 inclusive
    expect(await lines(logs, { pod, tailLines: 3 })).toEqual(all.slice(-3));
    expect(await lines(logs, { pod, tailLines: 0 })).toEqual([]);
  });

  it('shows why a crash-looping pod dies, and nothing for pods it does not know', async () => {
    const { e, cluster } = await seeded({ crashLoopApiPod: true });
    const logs = vlindersLogs({ state: e });
    const crash = await lines(logs, { pod: cluster.broken.crashLoopPod as string });
    expect(crash.at(-1)).toMatch(/ERROR \[uvicorn\.error\] Application startup failed\. Exiting\.$/);
    expect(crash.join('\n')).not.toMatch(/postgres(ql)?:\/\/[^\s]*:[^\s]*@/); // no connection string with a password
    expect(await lines(logs, { pod: cluster.apiPods[1] as string, tailLines: 1 })).toHaveLength(1);
    expect([...(logs({ namespace: P, pod: 'postgres-0', container: 'postgres' }) as Iterable<string>)]).toEqual([]);
  });

  it('follows: new lines keep coming until the reader stops', async () => {
    const { e, cluster } = await seeded();
    const logs = vlindersLogs({ state: e, intervalMs: 20 });
    const got: string[] = [];
    for await (const l of logs({ namespace: P, pod: cluster.apiPods[0] as string, container: 'api', tailLines: 1, follow: true })) {
      got.push(l);
      if (got.length === 4) break;
    }
    expect(got).toHaveLength(4);
  });
});

describe('metrics', () => {
  it('reports usage for Ready nodes and running pods in metrics-server units, with test overrides', async () => {
    const { e, cluster } = await seeded({ notReadyGpuNode: true, pendingPod: true });
    const cpuNode = cluster.nodes.cpu[0] as string;
    const m = vlindersMetrics({ state: e, nodes: { [cpuNode]: { memory: '60Gi' } } });
    const gpu = m.node(cluster.nodes.gpu[0] as string);
    expect(gpu?.cpu).toMatch(/^\d+n$/);
    expect(gpu?.memory).toMatch(/^\d+Ki$/);
    const cores = Number(gpu?.cpu.slice(0, -1)) / 1e9;
    expect(cores).toBeGreaterThan(0);
    expect(cores).toBeLessThan(16);
    expect(m.node(cpuNode)?.memory).toBe('60Gi');
    expect(m.node(cluster.broken.notReadyNode as string)).toBeUndefined();
    expect(m.node('no-such-node')).toBeUndefined();
    expect(m.node(cpuNode)).toEqual(m.node(cpuNode)); // stable

    const pg = m.pod(P, 'postgres-0');
    expect(pg).toEqual([{ name: 'postgres', cpu: expect.stringMatching(/^\d+n$/), memory: expect.stringMatching(/^\d+Ki$/) }]);
    expect(m.pod('vlinders-inference', cluster.broken.pendingPod as string)).toBeUndefined();
  });

  it('serves logs and metrics through the emulator once startVlindersWorld registers the hooks', async () => {
    emu = await KubeApiEmulator.start({ tls: false });
    running = startVlindersWorld(emu, { readyDelayMs: 50 });
    const kube = client(emu);
    const nodes = await kube.nodeMetrics();
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual([...running.cluster.nodes.cpu, ...running.cluster.nodes.gpu].sort());
    const pods = await kube.podMetrics(P);
    expect(pods.items.map((p) => p.metadata.name)).toContain('postgres-0');
    const got: string[] = [];
    for await (const l of kube.logLines(P, running.cluster.apiPods[0] as string, 'api', { tailLines: 5 })) got.push(l);
    expect(got).toHaveLength(5);
    for (const l of got) expect(l).toMatch(TS);
    // The controllers run too: a patched RayCluster grows.
    const rc = emu.get('ray.io/v1', 'RayCluster', 'vlinders-inference', running.cluster.ray.cluster);
    (rc?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]!.replicas = 4;
    emu.replace(rc!);
    const deadline = Date.now() + 5000;
    while (((emu.get('ray.io/v1', 'RayCluster', 'vlinders-inference', running.cluster.ray.cluster)?.status as { readyWorkerReplicas?: number }).readyWorkerReplicas ?? 0) < 4) {
      if (Date.now() > deadline) throw new Error('RayCluster did not reach 4 ready workers');
      await new Promise((r) => setTimeout(r, 10));
    }
  });

  it('a log reader that stops early ends the download cleanly, with no error left over', async () => {
    emu = await KubeApiEmulator.start({ tls: false });
    running = startVlindersWorld(emu, { readyDelayMs: 50 });
    // A log far longer than one read: the reader stops after 3 lines, mid-stream.
    let served = 0;
    emu.setHooks({ ...running.hooks, logs: function* () {
      for (let i = 0; i < 2_000_000; i++, served++) yield `2026-11-25T08:00:00.000Z INFO line ${i} ${'x'.repeat(100)}`;
    } });
    const unhandled: unknown[] = [];
    const onError = (err: unknown) => unhandled.push(err);
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
    try {
      const got: string[] = [];
      for await (const l of client(emu).logLines(P, running.cluster.apiPods[0] as string, 'api')) {
        got.push(l);
        if (got.length === 3) break;
      }
      expect(got).toHaveLength(3);
      await new Promise((r) => setTimeout(r, 300));
      expect(unhandled).toEqual([]);
      // The server stopped producing: the connection was closed, not left to drain.
      expect(served).toBeLessThan(2_000_000);
    } finally {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    }
  });
});
