// The world's metrics exporter: what each job serves passes the real `promtool check metrics`,
// its values are the world's facts (the broken world's PVC at 91 %, XID 79 on the second GPU
// node, the hot GPU, the queue), and counters are the integral of the facts' rates (they never
// go down when the facts change). The real Prometheus evaluating the bot's PromQL on it is in
// test/prometheus/world-promql.test.ts.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/sandbox/kube/store.js';
import { seedVlindersCluster, type SeededCluster } from '../../src/sandbox/kube/world/index.js';
import { BROKEN_PVC, FactsTimeline, brokenFacts, healthyFacts, queueBuildingUp } from '../../src/sandbox/metrics/facts.js';
import { MetricsExporter, WorldMetrics } from '../../src/sandbox/metrics/exporter.js';
import type { MetricFamily } from '../../src/sandbox/metrics/exposition.js';
import { PROMTOOL_BIN, prometheusConfig, requireBinary } from '../../src/sandbox/prometheus/real.js';

const T0 = 1_790_000_000;
let state: Store;
let cluster: SeededCluster;
let exporter: MetricsExporter;

beforeAll(async () => {
  state = new Store();
  cluster = seedVlindersCluster(state, { gpuNodes: 4, notReadyGpuNode: true, unboundPvc: true });
  exporter = await MetricsExporter.start(new WorldMetrics({ state, timeline: new FactsTimeline(T0, brokenFacts(cluster.nodes.gpu)) }));
});
afterAll(() => exporter.close());

const value = (families: MetricFamily[], name: string, labels: Record<string, string>, suffix = '') =>
  families.find((f) => f.name === name)?.samples.filter((s) => (s.suffix ?? '') === suffix && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v)).map((s) => s.value);

/**
 * The linter's remarks on names the real exporters use: vLLM's `vllm:…` (colons are meant for
 * recording rules) and dcgm-exporter's `modelName`, `Hostname`, `UUID` labels. Nothing else.
 */
const REAL_NAMING: Record<string, RegExp> = {
  vllm: /^vllm:\S+ metric names should not contain ':'$/,
  'dcgm-exporter': /^DCGM_FI_\S+ label names should be written in 'snake_case' not 'camelCase'$/,
};

function promtoolCheck(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(PROMTOOL_BIN, ['check', 'metrics'], (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
    child.stdin?.end(text);
  });
}

describe('the world metrics exporter', () => {
  it('serves every job at /metrics/<job> in a format the real promtool accepts without lint', async () => {
    await requireBinary(PROMTOOL_BIN);
    expect(exporter.targets.map((t) => t.job).sort()).toEqual(['dcgm-exporter', 'kube-state-metrics', 'kubelet', 'node-exporter', 'postgres-exporter', 'vlinders-api', 'vllm']);
    for (const t of exporter.targets) {
      const res = await fetch(`http://${t.address}${t.path}`);
      expect(res.headers.get('content-type')).toContain('version=0.0.4');
      const checked = await promtoolCheck(await res.text());
      const remarks = checked.out.split('\n').filter((l) => l && !REAL_NAMING[t.job]?.test(l));
      expect({ job: t.job, remarks, code: remarks.length ? checked.code : 0 }).toEqual({ job: t.job, remarks: [], code: 0 });
    }
    expect((await fetch(`http://${exporter.address}/metrics/nope`)).status).toBe(404);
  });

  it('serves its history once, timestamped and labelled as the live scrape, then nothing', async () => {
    const metrics = new WorldMetrics({ state, timeline: new FactsTimeline(T0, healthyFacts()) });
    const own = await MetricsExporter.start(metrics);
    try {
      own.serveHistory([{ start: T0 + 3600, end: T0 + 7200, stepSeconds: 3600, jobs: ['postgres-exporter'] }]);
      expect(own.targets.at(-1)).toEqual({ job: 'history', address: own.address, path: '/history', history: true });
      const first = await (await fetch(`http://${own.address}/history`)).text();
      const podIP = String(state.get('v1', 'Pod', 'vlinders-platform', 'postgres-0')?.status?.podIP);
      // Two samples a minute apart at each step, in seconds, oldest first.
      expect(first.split('\n').filter((l) => l.startsWith('pg_database_size_bytes{') && l.includes('"vlinders"'))).toEqual(
        [T0 + 3540, T0 + 3600, T0 + 7140, T0 + 7200].map((t) => `pg_database_size_bytes{job="postgres-exporter",instance="${podIP}:9187",pod="postgres-0",datname="vlinders"} ${20 * 2 ** 30} ${t}`),
      );
      expect(first.endsWith('# EOF\n')).toBe(true);
      expect(await (await fetch(`http://${own.address}/history`)).text()).toBe('# EOF\n');
    } finally {
      await own.close();
    }
  });

  it('the starter fails with what to install when a binary is missing', async () => {
    await expect(requireBinary('/nonexistent/prometheus')).rejects.toThrow(/apt-get install prometheus/);
  });

  it('the generated prometheus.yml has one scrape config per job, and refuses a job split over two paths', () => {
    const targets = [{ job: 'kube-state-metrics', address: 'a:1', path: '/metrics' }, { job: 'kube-state-metrics', address: 'b:1', path: '/metrics' }];
    expect(prometheusConfig({ targets }).match(/job_name/g)).toHaveLength(1);
    expect(prometheusConfig({ targets })).toContain('targets: ["a:1", "b:1"]');
    expect(() => prometheusConfig({ targets: [...targets, { job: 'kube-state-metrics', address: 'c:1', path: '/other' }] })).toThrow('scrape job kube-state-metrics: its targets must share one metrics path');
  });

  it('reads the broken world: the PVC at 91 %, XID 79 on one GPU of the second GPU node, the hot GPU, the queue', () => {
    const at = exporter.metrics.collect(T0 + 600);
    const pvc = { namespace: BROKEN_PVC.namespace, persistentvolumeclaim: BROKEN_PVC.name };
    const [used] = value(at, 'kubelet_volume_stats_used_bytes', pvc) ?? [];
    const [capacity] = value(at, 'kubelet_volume_stats_capacity_bytes', pvc) ?? [];
    expect(capacity).toBe(200 * 2 ** 30);
    expect((used ?? 0) / (capacity ?? 1)).toBeCloseTo(0.91, 6);
    // The unbound claim has no stats (nothing mounts it); the NotReady GPU node has no DCGM series.
    expect(value(at, 'kubelet_volume_stats_used_bytes', { persistentvolumeclaim: 'vlinders-uploads' })).toEqual([]);
    expect(value(at, 'kube_persistentvolumeclaim_resource_requests_storage_bytes', { persistentvolumeclaim: 'vlinders-uploads' })).toEqual([50 * 2 ** 30]);
    const xids = at.find((f) => f.name === 'DCGM_FI_DEV_XID_ERRORS')?.samples ?? [];
    expect(xids.filter((s) => s.value !== 0).map((s) => [s.labels?.Hostname, s.labels?.gpu, s.value])).toEqual([['vlinders-gpu-2', '0', 79]]);
    expect(xids.map((s) => s.labels?.Hostname)).not.toContain(cluster.broken.notReadyNode);
    const disks = at.find((f) => f.name === 'node_filesystem_size_bytes')?.samples.map((s) => s.labels?.instance);
    expect(disks).toHaveLength(cluster.counts.nodes - 1);
    expect(disks).not.toContain(cluster.broken.notReadyNode);
    expect(value(at, 'DCGM_FI_DEV_GPU_TEMP', { Hostname: 'vlinders-gpu-1' })).toEqual([89]);
    expect(value(at, 'vllm:num_requests_waiting', {})).toEqual([40]);
    expect(value(at, 'vllm:kv_cache_usage_perc', {})).toEqual([0.97]);
    expect(value(at, 'kube_node_status_allocatable', { resource: 'nvidia_com_gpu' })).toEqual([1, 1, 1, 1]);
  });

  it('older vLLM: the KV cache under its pre-0.9 name, both names while 0.9 deprecates the old one, only the new one from 0.10', () => {
    const facts = healthyFacts();
    const names = (version: string) => new WorldMetrics({ state, timeline: new FactsTimeline(T0, { ...facts, vllm: { ...facts.vllm, version } }) }).collect(T0, 'vllm').map((f) => f.name).filter((n) => n.includes('cache_usage'));
    expect(names('0.8.5')).toEqual(['vllm:gpu_cache_usage_perc']);
    expect(names('0.9.2')).toEqual(['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc']);
    expect(names('0.10.1')).toEqual(['vllm:kv_cache_usage_perc']);
  });

  it('counters are the integral of the rates: they grow while the facts change, and the queue builds up', () => {
    const broken = brokenFacts(cluster.nodes.gpu);
    const timeline = queueBuildingUp(new FactsTimeline(T0, healthyFacts()), broken, T0 + 3600, 10);
    const metrics = new WorldMetrics({ state, timeline });
    const requests = (t: number) => value(metrics.collect(t, 'vlinders-api'), 'http_requests', { status: '2xx' }, '_total')?.[0] ?? NaN;
    // 40/s healthy for an hour at 0.2 % errors, then the broken 55/s at 3 % errors.
    expect(requests(T0 + 3600)).toBeCloseTo(40 * 0.998 * 3600, 6);
    expect(requests(T0 + 3700)).toBeCloseTo(40 * 0.998 * 3600 + 55 * 0.97 * 100, 6);
    const waiting = (t: number) => value(metrics.collect(t, 'vllm'), 'vllm:num_requests_waiting', {})?.[0];
    expect([0, 5, 10].map((m) => waiting(T0 + 3600 + m * 60))).toEqual([0, 20, 40]);
    // Buckets never shrink, whatever the P95 does.
    const buckets = (t: number) => metrics.collect(t, 'vlinders-api')[0]!.samples.filter((s) => s.suffix === '_bucket').map((s) => s.value);
    const before = buckets(T0 + 3599);
    const after = buckets(T0 + 3601);
    after.forEach((v, i) => expect(v).toBeGreaterThanOrEqual(before[i]!));
  });
});
