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
import { PROMTOOL_BIN, requireBinary } from '../../src/sandbox/prometheus/real.js';

const T0 = 1_790_000_000;
let state: Store;
let cluster: SeededCluster;
let exporter: MetricsExporter;

beforeAll(async () => {
  state = new Store();
  cluster = seedVlindersCluster(state, { gpuNodes: 4, notReadyGpuNode: true });
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

  it('reads the broken world: the PVC at 91 %, XID 79 on one GPU of the second GPU node, the hot GPU, the queue', () => {
    const at = exporter.metrics.collect(T0 + 600);
    const pvc = { namespace: BROKEN_PVC.namespace, persistentvolumeclaim: BROKEN_PVC.name };
    const [used] = value(at, 'kubelet_volume_stats_used_bytes', pvc) ?? [];
    const [capacity] = value(at, 'kubelet_volume_stats_capacity_bytes', pvc) ?? [];
    expect(capacity).toBe(200 * 2 ** 30);
    expect((used ?? 0) / (capacity ?? 1)).toBeCloseTo(0.91, 6);
    // The unbound claim of the broken world has no stats; the NotReady GPU node has no DCGM series.
    const xids = at.find((f) => f.name === 'DCGM_FI_DEV_XID_ERRORS')?.samples ?? [];
    expect(xids.filter((s) => s.value !== 0).map((s) => [s.labels?.Hostname, s.labels?.gpu, s.value])).toEqual([['vlinders-gpu-2', '0', 79]]);
    expect(xids.map((s) => s.labels?.Hostname)).not.toContain(cluster.broken.notReadyNode);
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
