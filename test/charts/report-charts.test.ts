// The weekly and monthly reports' charts, built from Prometheus range queries: PVC use (the
// Vlinders namespaces' only), the database's size, GPU nodes hourly with the week's node-hours,
// and the P95 trend against its target; one line each when Prometheus can't give them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartAltText } from '../../src/charts/index.js';
import { buildMonthlyReport } from '../../src/digest/monthly.js';
import { buildWeeklyReport } from '../../src/digest/weekly.js';
import { PrometheusStub } from '../../src/sandbox/prometheus/server.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';

const NOW = Date.parse('2026-11-30T08:00:00Z');
const GiB = 2 ** 30;
let prom: PrometheusStub;
let cluster: Awaited<ReturnType<typeof startCluster>>;
beforeAll(async () => {
  [prom, cluster] = await Promise.all([PrometheusStub.start(), startCluster({ gpuNodes: 2, workers: 1, readyDelayMs: 0 })]);
});
afterAll(async () => {
  await Promise.all([prom.close(), cluster.close()]);
});

const inputs = (configure: (c: ReturnType<typeof clusterConfig>) => void = () => undefined) => {
  const config = clusterConfig();
  config.prometheus.url = prom.url;
  configure(config);
  return { kube: cluster.client, config, signal: new AbortController().signal, now: () => NOW };
};

describe('weekly and monthly charts', () => {
  it('the weekly report charts PVC use (Vlinders namespaces only), the database size and GPU nodes with the node-hours', async () => {
    const input = inputs();
    const q = input.config.prometheus.queries;
    prom.setRange(q.pvcUsedBytes, [
      { metric: { namespace: 'vlinders-platform', persistentvolumeclaim: 'data-postgres-0' }, at: (t) => 20 * GiB + (t % 86_400) },
      { metric: { namespace: 'kube-system', persistentvolumeclaim: 'not-ours' }, at: () => GiB },
    ]);
    prom.setRange(q.dbSizeBytes, [{ metric: {}, at: () => 3 * GiB }]);
    prom.setRange(q.gpuNodes, [{ metric: {}, at: () => 4 }]);
    const report = await buildWeeklyReport(input);
    const charts = report.thread?.[0]?.charts ?? [];
    expect(charts.map((c) => c.id)).toEqual(['pvc-growth-7d', 'database-growth-7d', 'gpu-node-hours-7d']);
    expect(charts[0]?.series.map((s) => s.name)).toEqual(['vlinders-platform/data-postgres-0']);
    expect(charts[2]?.title).toBe('GPU nodes, last 7 days (672 node-hours)');
    expect(chartAltText(charts[1] as never)).toContain('database: min 3.00 GiB, max 3.00 GiB');
  });

  it('the monthly report charts the P95 trend with its target; Prometheus down is one line per chart instead', async () => {
    const input = inputs();
    prom.setRange(input.config.prometheus.queries.p95Latency, [{ metric: {}, at: (t) => 0.3 + ((t / 86_400) % 28) * 0.01 }]);
    const monthly = await buildMonthlyReport(input);
    const trend = monthly.thread?.[0]?.charts?.[0];
    expect(trend).toMatchObject({ id: 'p95-trend-4w', target: { value: 0.5 } });

    const down = inputs((c) => {
      c.prometheus.url = 'http://127.0.0.1:9/';
      c.prometheus.timeoutSeconds = 1;
    });
    const [weekly, monthlyDown] = await Promise.all([buildWeeklyReport(down), buildMonthlyReport(down)]);
    expect(weekly.thread?.[0]?.charts).toBeUndefined();
    const lines = weekly.thread?.[0]?.sections?.find((s) => s.title === 'Charts')?.lines ?? [];
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^📉 PVC use, last 7 days: chart not drawn: ⚠️ Prometheus could not be read: Could not reach Prometheus/);
    expect(lines[2]).toBe('📉 GPU nodes, last 7 days: chart not drawn: node-hours were estimated, not measured (see GPU cost)');
    expect(monthlyDown.thread?.[0]?.charts).toBeUndefined();
    expect(JSON.stringify(monthlyDown)).toContain('📉 P95 latency trend: chart not drawn: Prometheus could not be read');
  });
});
