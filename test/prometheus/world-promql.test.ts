// Every PromQL the bot runs, evaluated by the real Prometheus (Debian's 2.42) scraping the
// world's metrics exporter every second, with four weeks of the world's history taken in from
// the exporter's timestamped history. Each figure the bot shows is checked against the facts
// the world set: the weekly report (PVC usage and its 7-day change, node disks, database size
// trend, GPU cost from the hourly GPU node count), the daily digest's PVC usage, the monthly
// P95 trend, and `diagnose latency` live (P95, queue and running requests) through Slack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/core/report.js';
import { buildDailyDigest } from '../../src/digest/daily.js';
import { buildMonthlyReport } from '../../src/digest/monthly.js';
import { buildWeeklyReport } from '../../src/digest/weekly.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { FactsTimeline, brokenFacts, healthyFacts, type WorldFacts } from '../../src/sandbox/metrics/facts.js';
import { MetricsExporter, WorldMetrics } from '../../src/sandbox/metrics/exporter.js';
import type { KubeObject } from '../../src/sandbox/kube/index.js';
import { pvc } from '../../src/sandbox/kube/world/workloads.js';
import { RayDashboardStub } from '../../src/sandbox/ray/dashboard-stub.js';
import { startPrometheus, type RealPrometheus } from '../tools/prometheus.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { blocksText, startBot } from '../e2e/harness.js';
import { CHANNELS, USERS } from '../fixtures/world.js';

const HOUR = 3600;
const DAY = 86_400;
const GiB = 2 ** 30;
/** The reports' "now": the last whole hour, on the history's grid (queries at it see its samples, not the live ones). */
const NOW_S = Math.floor(Date.now() / 1000 / HOUR) * HOUR;

type Cluster = Awaited<ReturnType<typeof startCluster>>;
let c: Cluster;
let exporter: MetricsExporter;
let prometheus: RealPrometheus;
let dashboard: RayDashboardStub;

/** The facts with `change` applied. */
const withFacts = (base: WorldFacts, change: (f: WorldFacts) => void): WorldFacts => {
  const f = structuredClone(base);
  change(f);
  return f;
};

beforeAll(async () => {
  c = await startCluster({ gpuNodes: 4, workers: 2, readyDelayMs: 0 });
  const gpuNodes = c.world.cluster.nodes.gpu;
  // Four weeks ago the database was 17 GiB and P95 200 ms; a week ago 19 GiB, the postgres PVC
  // at 80 % and P95 300 ms; since yesterday the broken world: P95 1.4 s, the queue at 40, the
  // PVC at 91 %, 20 GiB, and one node's root disk at 93 %.
  const month = withFacts(healthyFacts(), (f) => {
    f.database.sizeBytes = 17 * GiB;
    f.api.p95Seconds = 0.2;
    f.pvcs.used['vlinders-platform/data-postgres-0'] = 0.8;
  });
  const week = withFacts(month, (f) => {
    f.database.sizeBytes = 19 * GiB;
    f.api.p95Seconds = 0.3;
  });
  const broken = withFacts(brokenFacts(gpuNodes), (f) => {
    f.database.sizeBytes = 20 * GiB;
    f.nodeDisks.used['vlinders-gpu-1'] = 0.93;
  });
  const timeline = new FactsTimeline(NOW_S - 29 * DAY, month).set(NOW_S - 7 * DAY, week).set(NOW_S - DAY, broken);
  // A ReadWriteMany claim two pods mount on two nodes: each node's kubelet reports it.
  const P = c.world.cluster.namespaces.platform;
  const shared = pvc('vlinders-shared', P, '100Gi', { 'app.kubernetes.io/part-of': 'vlinders' });
  (shared.spec as { accessModes: string[] }).accessModes = ['ReadWriteMany'];
  c.kube.create(shared);
  for (const [i, node] of c.world.cluster.nodes.cpu.slice(0, 2).entries())
    c.kube.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `shared-reader-${i}`, namespace: P },
      spec: { nodeName: node, containers: [{ name: 'reader', image: 'busybox:1.37' }], volumes: [{ name: 'shared', persistentVolumeClaim: { claimName: 'vlinders-shared' } }] },
      status: { phase: 'Running' },
    } as KubeObject);
  // A streaming replica of the database: its exporter reports the same sizes.
  const primary = c.kube.get('v1', 'Pod', P, 'postgres-0') as KubeObject;
  c.kube.create({ ...primary, metadata: { name: 'postgres-1', namespace: P, labels: primary.metadata.labels } });
  exporter = await MetricsExporter.start(new WorldMetrics({ state: c.kube, timeline }));
  // History only where the reports look: the GPU node count hourly over the week, the other
  // gauges at the week's two ends, the API's histogram every 6 h and the database size weekly
  // over four weeks.
  exporter.serveHistory([
    { start: NOW_S - 7 * DAY, end: NOW_S, stepSeconds: HOUR, jobs: ['kube-state-metrics'] },
    { start: NOW_S - 7 * DAY, end: NOW_S, stepSeconds: 7 * DAY, jobs: ['kubelet', 'node-exporter'] },
    { start: NOW_S - 28 * DAY, end: NOW_S, stepSeconds: 6 * HOUR, jobs: ['vlinders-api'] },
    { start: NOW_S - 28 * DAY, end: NOW_S, stepSeconds: 7 * DAY, jobs: ['postgres-exporter'] },
  ]);
  // A second kube-state-metrics replica (HA, or the old pod of a rollout): the same series under another instance.
  const ksm = exporter.targets.find((t) => t.job === 'kube-state-metrics')!;
  const secondKsm = { ...ksm, address: ksm.address.replace('127.0.0.1', 'localhost') };
  [prometheus, dashboard] = await Promise.all([startPrometheus({ targets: [...exporter.targets, secondKsm] }), RayDashboardStub.start()]);
  await prometheus.waitForTargets();
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await Promise.all([exporter?.close(), dashboard?.close(), c?.close()]);
});

function config() {
  const cfg = clusterConfig();
  cfg.prometheus.url = prometheus.url;
  cfg.ray.dashboardUrl = dashboard.url;
  cfg.digest.gpuHourlyPrice = 2.5;
  return cfg;
}

const detail = (r: Report, title: string) => r.thread?.[0]?.sections?.find((s) => s.title?.startsWith(title));

describe("the bot's PromQL on the real Prometheus", () => {
  it('weekly report: PVC at 91 % and its growth, node disks, database size trend, GPU cost from the hourly node count', async () => {
    const report = await buildWeeklyReport({ kube: c.client, config: config(), signal: new AbortController().signal, now: () => NOW_S * 1000 });
    // 0.91 and 0.80 of the 200 GiB claim; every other claim at the default 35 %.
    const rows = detail(report, 'PVC usage')?.rows ?? [];
    expect(rows[0]).toEqual(['⚠️ vlinders-platform/data-postgres-0', '182 GiB', '200 GiB', '91%', '+22.0 GiB']);
    expect(rows.slice(1).map((r) => [r[3], r[4]])).toEqual(rows.slice(1).map(() => ['35%', '+0 B']));
    // The claim two kubelets report is one row.
    expect(rows.filter((r) => r[0]?.endsWith('/vlinders-shared'))).toEqual([['✅ vlinders-platform/vlinders-shared', '35.0 GiB', '100 GiB', '35%', '+0 B']]);
    const disks = detail(report, 'Disks')?.lines ?? [];
    expect(disks).toContain('❌ node vlinders-gpu-1: root disk 93% used');
    expect(disks).toContain('✅ node vlinders-cpu-1: root disk 41% used');
    expect(detail(report, 'Database')?.fields).toEqual(expect.arrayContaining([
      { label: 'Size (Prometheus)', value: '20.0 GiB' },
      { label: 'Change over 7 days', value: '+1.00 GiB' },
      { label: 'Change over 28 days', value: '+3.00 GiB' },
    ]));
    // 4 GPU nodes every hour of the week: 168 × 4 node-hours at 2.50.
    expect(report.summary).toContain('GPU cost EUR 1,680.00');
  });

  it('daily digest: the PVC at 91 %, one row per claim', async () => {
    const { report } = await buildDailyDigest({ kube: c.client, config: config(), signal: new AbortController().signal, now: () => NOW_S * 1000 });
    const rows = report.thread?.flatMap((m) => m.sections ?? []).find((s) => s.title === 'PVC usage')?.rows ?? [];
    expect(rows[0]).toEqual(['⚠️ vlinders-platform/data-postgres-0', '182 GiB', '200 GiB', '91%']);
    expect(rows.filter((r) => r[0]?.endsWith('/vlinders-shared'))).toHaveLength(1);
  });

  it('monthly report: the P95 trend per week from the range query', async () => {
    const report = await buildMonthlyReport({ kube: c.client, config: config(), signal: new AbortController().signal, now: () => NOW_S * 1000 });
    const trend = detail(report, 'P95 latency trend');
    // Every 6 h: three weeks at 200 ms; the last week one sample at 200 ms (its start), 24 at
    // 300 ms and the last day's 4 at 1.4 s: 13/29 s.
    expect(trend?.rows?.map((r) => r.slice(1))).toEqual([
      ['200 ms', '200 ms', '28'],
      ['200 ms', '200 ms', '28'],
      ['200 ms', '200 ms', '28'],
      ['448 ms', '1.40 s', '29'],
    ]);
    expect(trend?.lines).toEqual(['up 124% from the first week to the last']);
  });

  it('the live series: the P95 and the queue the world set now, within 5 %', async () => {
    const prom = new PrometheusClient(prometheus.url);
    const q = config().prometheus.queries;
    // Two scrapes make a rate: poll until the P95 is there.
    const p95 = await poll(async () => (await prom.query(q.p95Latency))[0]?.value);
    expect(p95).toBeCloseTo(1.4, 2);
    expect((await prom.query(q.requestsWaiting))[0]?.value).toBe(40);
    expect((await prom.query(q.requestsRunning))[0]?.value).toBe(48);
    // Four GPU nodes, though two kube-state-metrics report each.
    expect((await prom.query(q.gpuNodes))[0]?.value).toBe(4);
  });

  it('diagnose latency through Slack shows the P95, the queue and the running requests the world set', async () => {
    const bot = await startBot({ config: config(), services: c.services });
    try {
      await poll(async () => (await new PrometheusClient(prometheus.url).query(config().prometheus.queries.p95Latency))[0]?.value);
      await bot.slash(USERS.viewer, CHANNELS.ops, 'diagnose latency');
      const root = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.ops && blocksText(m.blocks).includes('diagnose latency')), 30_000);
      const text = blocksText(root.blocks);
      expect(text).toContain('1400 ms (target 500 ms)');
      // blocksText is the blocks' JSON: a field's label and value are `*label*\\nvalue`.
      expect(text).toContain('*Requests waiting*\\n40"');
      expect(text).toContain('*Requests running*\\n48"');
    } finally {
      await bot.close();
    }
  }, 60_000);
});

async function poll<T>(read: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('no answer in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
