// The daily digest on the seeded cluster: healthy, it names nothing; broken, it names exactly
// the broken things, and its ERROR counts match the world's log source counted here on its own.
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiErrorTally, buildDailyDigest } from '../../src/digest/daily.js';
import { vlindersLogs } from '../../src/sandbox/kube/world/index.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';

const NOW = Math.floor(Date.now() / 1000) * 1000;
const DAY = 86_400_000;

type Cluster = Awaited<ReturnType<typeof startCluster>>;

async function seeded(opts: Parameters<typeof startCluster>[0]): Promise<Cluster> {
  const c = await startCluster(opts);
  // The logs at a fixed time, so the digest and this test read the same lines.
  c.kube.setHooks({ ...c.world.hooks, logs: vlindersLogs({ state: c.kube, now: () => NOW }) });
  return c;
}

/** ERROR lines per vlinders-api pod over 24 h, and the messages, straight from the world's log source. */
async function expectedErrors(c: Cluster) {
  const source = vlindersLogs({ state: c.kube, now: () => NOW });
  const perPod = new Map<string, number>();
  const messages = new Map<string, number>();
  const pods = (await c.client.core.listNamespacedPod({ namespace: 'vlinders-platform', labelSelector: 'app.kubernetes.io/name=vlinders-api' })).items;
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    let n = 0;
    for await (const line of source({ namespace: 'vlinders-platform', pod: name, container: pod.spec?.containers[0]?.name ?? '', sinceSeconds: 86_400 })) {
      const m = /^\S+Z ERROR\s+(.*)$/.exec(line);
      if (!m) continue;
      n++;
      const msg = (m[1] ?? '').replace(/request_id=[0-9a-f]+/, 'request_id=…');
      messages.set(msg, (messages.get(msg) ?? 0) + 1);
    }
    perPod.set(name, n);
  }
  return { perPod, messages, pods: pods.map((p) => p.metadata?.name ?? '') };
}

async function tlsSecret(c: Cluster, name: string, days: number) {
  const pems = await generate([{ name: 'commonName', value: `${name}.vlinders.example` }], { notBeforeDate: new Date(NOW - DAY), notAfterDate: new Date(NOW + days * DAY + 3_600_000) });
  c.kube.create({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace: 'vlinders-platform' },
    data: { 'tls.crt': Buffer.from(pems.cert).toString('base64'), 'tls.key': Buffer.from(pems.private).toString('base64') },
  });
  return pems.private;
}

describe('daily digest, healthy cluster', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await seeded({});
  });
  afterAll(() => c.close());

  it('names nothing, and reports the cert and the ERROR counts', async () => {
    await tlsSecret(c, 'api-tls', 90);
    const config = clusterConfig();
    config.digest.tlsSecrets = [{ namespace: 'vlinders-platform', name: 'api-tls' }];
    const digest = await buildDailyDigest({ kube: c.client, config, signal: new AbortController().signal, now: () => NOW });
    expect(digest.findings).toEqual([]);
    // The platform's own certificate (platform.tlsSecret) without being listed, then the listed one.
    expect(digest.certs.map((x) => x.secret)).toEqual(['vlinders-platform/vlinders-tls', 'vlinders-platform/api-tls']);
    expect(digest.certs[1]?.daysLeft).toBe(90);
    const expected = await expectedErrors(c);
    expect(new Map(digest.errors.perPod.map((p) => [p.pod, p.errors]))).toEqual(expected.perPod);
    expect(digest.report.summary).toContain('all healthy');
  }, 60_000);
});

describe('daily digest, nothing to name but a GPU that fails', () => {
  let c: Cluster;
  beforeAll(async () => {
    // One worker's nvidia-smi can't reach its driver: no finding, but a ❌ line among the GPUs.
    c = await seeded({ exec: { rules: [{ pod: /worker/, error: 'no-driver' }] } });
  });
  afterAll(() => c.close());

  it('does not say all healthy above a ❌ line: its headline counts the marked lines', async () => {
    const digest = await buildDailyDigest({ kube: c.client, config: clusterConfig(), signal: new AbortController().signal, now: () => NOW });
    expect(digest.findings).toEqual([]);
    const gpus = digest.report.thread?.[0]?.sections?.find((s) => s.title === 'GPUs')?.lines ?? [];
    const failed = gpus.filter((l) => l.startsWith('❌')).length;
    expect(failed).toBeGreaterThan(0);
    expect(digest.report.summary).not.toContain('all healthy');
    expect(digest.report.summary).toMatch(new RegExp(`^${failed} ❌`));
  }, 60_000);
});

describe('daily digest, broken cluster', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await seeded({ crashLoopApiPod: true, pendingPod: true, notReadyGpuNode: true, unboundPvc: true });
  });
  afterAll(() => c.close());

  it('names exactly the broken things and the right ERROR counts', async () => {
    const key = await tlsSecret(c, 'gateway-tls', 5);
    const config = clusterConfig();
    config.digest.tlsSecrets = [{ namespace: 'vlinders-platform', name: 'gateway-tls' }];
    const digest = await buildDailyDigest({ kube: c.client, config, signal: new AbortController().signal, now: () => NOW });
    // What the world broke, found here from the objects themselves.
    const nodes = (await c.client.core.listNode()).items;
    const notReady = nodes.filter((n) => n.status?.conditions?.find((x) => x.type === 'Ready')?.status !== 'True').map((n) => n.metadata?.name);
    expect(notReady).toHaveLength(1);
    const apiPods = (await c.client.core.listNamespacedPod({ namespace: 'vlinders-platform', labelSelector: 'app.kubernetes.io/name=vlinders-api' })).items;
    const crashing = apiPods.filter((p) => p.status?.containerStatuses?.some((x) => x.state?.waiting?.reason === 'CrashLoopBackOff')).map((p) => p.metadata?.name);
    expect(crashing).toHaveLength(1);
    const embedder = (await c.client.core.listNamespacedPod({ namespace: 'vlinders-inference' })).items.filter((p) => p.status?.phase === 'Pending').map((p) => p.metadata?.name);
    expect(embedder).toHaveLength(1);
    expect(digest.findings.map((f) => f.subject).sort()).toEqual(
      [
        `node ${notReady[0]}`,
        `pod vlinders-platform/${crashing[0]}`,
        `pod vlinders-inference/${embedder[0]}`,
        'pvc vlinders-platform/vlinders-uploads',
        'deployment vlinders-platform/vlinders-api',
        'deployment vlinders-inference/vlinders-embedder',
      ].sort(),
    );
    expect(digest.findings.find((f) => f.subject.includes(crashing[0] ?? '?'))?.reason).toContain('CrashLoopBackOff');
    const expected = await expectedErrors(c);
    const counted = new Map(digest.errors.perPod.map((p) => [p.pod, p.errors]));
    expect(counted).toEqual(expected.perPod);
    expect(digest.errors.total).toBe([...expected.perPod.values()].reduce((a, b) => a + b, 0));
    // The top messages, as the world wrote them (less request ids and numbers).
    const top = [...expected.messages].sort((a, b) => b[1] - a[1]).slice(0, 5);
    expect(digest.errors.top.map((t) => t.count)).toEqual(top.map(([, n]) => n));
    expect(digest.certs.find((x) => x.secret === 'vlinders-platform/gateway-tls')?.daysLeft).toBe(5);
    expect(digest.report.status).toBe('fail');
    const text = JSON.stringify(digest.report);
    expect(text).not.toContain(key.split('\n')[1] ?? 'never');
    expect(text).toContain('backups not configured');
    // The crash-looping pod's last attempt: three ERROR lines, all within the window.
    expect(counted.get(crashing[0] ?? '')).toBe(3);
    for (const [pod, n] of expected.perPod) expect(text).toContain(JSON.stringify([pod, String(n)]).slice(1, -1));
  }, 60_000);

  it("counts the API pods it can read and names one on the NotReady node, whose kubelet can't serve its log", async () => {
    const notReady = (await c.client.core.listNode()).items.find((n) => n.status?.conditions?.find((x) => x.type === 'Ready')?.status !== 'True')?.metadata?.name ?? '';
    const apiPods = c.kube.list('v1', 'Pod', 'vlinders-platform').filter((p) => p.metadata.labels?.['app.kubernetes.io/name'] === 'vlinders-api');
    const model = apiPods.find((p) => (p.status?.containerStatuses as Array<{ state?: { running?: unknown } }> | undefined)?.[0]?.state?.running);
    if (!model) throw new Error('no running vlinders-api pod to copy');
    // A pod that ran there before its node stopped answering (it stays until the taint evicts it).
    const lost = 'vlinders-api-on-lost-node';
    c.kube.create({ ...model, metadata: { name: lost, namespace: 'vlinders-platform', labels: model.metadata.labels }, spec: { ...model.spec, nodeName: notReady } });
    try {
      const digest = await buildDailyDigest({ kube: c.client, config: clusterConfig(), signal: new AbortController().signal, now: () => NOW });
      const expected = await expectedErrors(c);
      expect(expected.pods).toContain(lost);
      expected.perPod.delete(lost);
      expect(new Map(digest.errors.perPod.map((p) => [p.pod, p.errors]))).toEqual(expected.perPod);
      expect(digest.errors.total).toBe([...expected.perPod.values()].reduce((a, b) => a + b, 0));
      expect(digest.errors.unread).toEqual([{ pod: lost, lines: 0, error: expect.stringMatching(/dial tcp [\d.]+:10250: i\/o timeout/) }]);
      const section = digest.report.thread?.[0]?.sections?.find((s) => s.title?.startsWith('ERROR lines'));
      expect(section?.title).toBe(`ERROR lines (24 h): ${digest.errors.total}`);
      expect(section?.lines).toEqual([expect.stringMatching(new RegExp(`^⚠️ ${lost}: log not read: .*i/o timeout`))]);
      expect(digest.report.summary).toContain(`ERROR lines in 24 h (1 API pod not read)`);
      // Stopped while a log hangs: the tally stops too, rather than calling the rest unread.
      c.kube.failNext({ path: new RegExp(`/pods/${lost}/log$`) }, 'hang');
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 200);
      await expect(apiErrorTally(c.client, 'vlinders-platform', 'app.kubernetes.io/name=vlinders-api', 86_400, stop.signal)).rejects.toThrow();
    } finally {
      c.kube.remove('v1', 'Pod', 'vlinders-platform', lost);
    }
  }, 60_000);
});
