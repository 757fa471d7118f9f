// The weekly and monthly reports on the seeded cluster, with the stub Prometheus and
// Alertmanager serving the documented shapes: each figure is checked against what the test
// put into the stubs or reads off the cluster objects itself.
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderText } from '../../src/cli/render.js';
import { redactReport } from '../../src/core/report.js';
import type { Report } from '../../src/core/report.js';
import { MemoryStore } from '../../src/core/store.js';
import { backupAgeStatus } from '../../src/digest/backups.js';
import { buildDailyDigest } from '../../src/digest/daily.js';
import { buildMonthlyReport } from '../../src/digest/monthly.js';
import type { BackupListing, DatabaseHealthSource } from '../../src/digest/sources.js';
import { buildWeeklyReport } from '../../src/digest/weekly.js';
import { storeRecords } from '../../src/digest/index.js';
import { AlertThreads } from '../../src/incidents/alert-threads.js';
import { podGpus } from '../../src/kube/health.js';
import { webhookSchema } from '../../src/prometheus/alertmanager.js';
import { AlertmanagerStub, PrometheusStub, gettableFromWebhook } from '../../src/sandbox/prometheus/server.js';
import { digestScheduler } from '../../src/schedule/digests.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { readCaptured } from '../fixtures/captured.js';
import { CHANNELS } from '../fixtures/world.js';

const NOW = Date.parse('2026-11-30T08:00:00Z');
const NOW_S = NOW / 1000;
const DAY = 86_400_000;
const GiB = 2 ** 30;
const SECRET = 'hunter2-not-for-slack';

type Cluster = Awaited<ReturnType<typeof startCluster>>;
let c: Cluster;
let prom: PrometheusStub;
let am: AlertmanagerStub;

beforeAll(async () => {
  [c, prom, am] = await Promise.all([startCluster({ unboundPvc: true, gpuNodes: 4, workers: 2, readyDelayMs: 0 }), PrometheusStub.start(), AlertmanagerStub.start()]);
});
afterAll(async () => {
  await Promise.all([c.close(), prom.close(), am.close()]);
});

function config() {
  const cfg = clusterConfig();
  cfg.prometheus.url = prom.url;
  cfg.prometheus.alertmanagerUrl = am.url;
  cfg.digest.gpuHourlyPrice = 2.5;
  return cfg;
}

const textOf = (r: Report) => JSON.stringify(r);
const detail = (r: Report, title: string) => r.thread?.[0]?.sections?.find((s) => s.title?.startsWith(title));

/** A real webhook payload (the CloudEon capture) with a Vlinders alertname and a connection string in an annotation. */
function payload(name: string) {
  const p = webhookSchema.parse(JSON.parse(readCaptured('alertmanager/alertmanager_webhook_v4_firing_cloudeon.json')));
  const labels = { ...p.commonLabels, alertname: name };
  return {
    ...p,
    groupKey: `{}:{alertname="${name}"}`,
    groupLabels: { alertname: name },
    commonLabels: labels,
    alerts: p.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: name }, annotations: { ...a.annotations, description: `dsn postgres://vlinders:${SECRET}@postgres:5432/vlinders` } })),
  };
}

const quietPoster = { report: async () => '1.0', updateReport: async () => undefined };

describe('weekly report', () => {
  it('disks and PVCs, database, backups, alert history and GPU cost from Prometheus', async () => {
    const cfg = config();
    const q = cfg.prometheus.queries;
    // PVC usage: one at 90 % that grew 5 GiB this week, one elsewhere that must not show.
    const pvc = { namespace: 'vlinders-platform', persistentvolumeclaim: 'vlinders-uploads' };
    prom.setInstant(q.pvcUsedBytes, [
      { metric: pvc, value: (t) => (t >= NOW_S ? 45 * GiB : 40 * GiB) },
      { metric: { namespace: 'kube-system', persistentvolumeclaim: 'other' }, value: GiB },
    ]);
    prom.setInstant(q.pvcCapacityBytes, [{ metric: pvc, value: 50 * GiB }, { metric: { namespace: 'kube-system', persistentvolumeclaim: 'other' }, value: 2 * GiB }]);
    prom.setInstant(q.nodeDiskUsedPercent, [{ metric: { instance: 'gpu-node-0:9100' }, value: 91.24 }, { metric: { instance: 'cpu-node-0:9100' }, value: 40 }]);
    // The database grew 1 GiB over the week and 3 GiB over 28 days.
    prom.setInstant(q.dbSizeBytes, [{ metric: {}, value: (t) => (t >= NOW_S ? 20 * GiB : t >= NOW_S - 7 * 86_400 ? 19 * GiB : 17 * GiB) }]);
    // 4 GPU nodes for the first 100 hours of the week, 6 after: 100×4 + 68×6 = 808 node-hours.
    const weekStart = NOW_S - 168 * 3600;
    prom.setRange(q.gpuNodes, [{ metric: {}, at: (t) => (t < weekStart + 100 * 3600 ? 4 : 6) }]);

    // Alert history: one group this week (through the real webhook path), one three weeks old.
    const store = new MemoryStore();
    let clock = NOW - 21 * DAY;
    const threads = new AlertThreads(store, quietPoster, CHANNELS.incidents, () => clock);
    await threads.handle(webhookSchema.parse(payload('OldDiskAlert')));
    await threads.handle(webhookSchema.parse({ ...payload('OldDiskAlert'), status: 'resolved' }));
    clock = NOW - 2 * DAY;
    await threads.handle(webhookSchema.parse(payload('VllmHighLatency')));
    const live = webhookSchema.parse(payload('VllmHighLatency'));
    am.alerts = live.alerts.map((a, i) => gettableFromWebhook(a, live.receiver, new Date(NOW).toISOString(), i === 2 ? 'suppressed' : 'active'));

    const database: DatabaseHealthSource = {
      read: async () => ({ connections: 80, maxConnections: 100, sizeBytes: 20 * GiB, slowest: [{ query: 'SELECT * FROM   documents WHERE owner = $1', calls: 12, meanMs: 812.5 }, { query: `ALTER ROLE vlinders PASSWORD '${SECRET}'`, calls: 1, meanMs: 2 }] }),
    };
    const backups: BackupListing = { list: async ({ limit }) => [{ name: 'vlinders-2026-11-30T02-00.dump.gz', at: new Date(NOW - 6 * 3600_000), sizeBytes: 3 * GiB }, { name: 'vlinders-2026-11-29T02-00.dump.gz', at: new Date(NOW - 30 * 3600_000) }].slice(0, limit) };

    // Through the scheduler, as it runs on the leader: built, redacted, posted once.
    const posted: Report[] = [];
    const scheduler = digestScheduler({ config: { ...cfg, schedule: { ...cfg.schedule, channel: CHANNELS.ops, weekly: '0 8 * * 1' } }, store, kube: () => c.client, isLeader: () => true, post: async (_ch, r) => void posted.push(r), signal: new AbortController().signal, now: () => NOW + 5000, sources: { database, backups } });
    if (!('poll' in scheduler)) throw new Error(scheduler.reason);
    // Monday 08:00: the daily tick is due too.
    expect((await scheduler.poll()).map((r) => r.job).sort()).toEqual(['daily', 'weekly']);
    const report = posted.find((r) => r.title.startsWith('weekly')) as Report;

    expect(report.title).toBe('weekly report · 2026-11-30');
    expect(report.thread).toHaveLength(1);
    expect(report.summary).toContain('fullest PVC vlinders-uploads 90%');
    expect(report.summary).toContain('DB 80/100 connections');
    expect(report.summary).toContain('GPU cost EUR 2,020.00');
    expect(detail(report, 'PVC usage')?.rows).toEqual([['⚠️ vlinders-platform/vlinders-uploads', '45.0 GiB', '50.0 GiB', '90%', '+5.00 GiB']]);
    const disks = detail(report, 'Disks')?.lines ?? [];
    expect(disks).toContain('❌ node gpu-node-0:9100: root disk 91.2% used');
    expect(disks.some((l) => l.includes('vlinders-platform/vlinders-uploads: Pending, not Bound'))).toBe(true);
    const db = detail(report, 'Database');
    expect(db?.fields).toEqual(expect.arrayContaining([
      { label: 'Connections', value: '80 of max_connections 100 (80%)' },
      { label: 'Change over 7 days', value: '+1.00 GiB' },
      { label: 'Change over 28 days', value: '+3.00 GiB' },
    ]));
    expect(detail(report, 'Slowest statements')?.rows).toEqual([['812.5 ms', '12', 'SELECT * FROM documents WHERE owner = $1'], ['2.0 ms', '1', '(hidden: the statement names a password)']]);
    expect(detail(report, 'Backups')?.lines?.[0]).toBe('✅ newest: vlinders-2026-11-30T02-00.dump.gz, 6 h old, 3.00 GiB');
    expect(detail(report, 'Backups')?.rows).toHaveLength(2);
    const history = detail(report, 'Alert groups this week');
    expect(history?.title).toBe('Alert groups this week: 1');
    expect(history?.rows?.map((r) => r[0])).toEqual(['VllmHighLatency']);
    expect(history?.lines?.[0]).toContain('Alertmanager keeps no history');
    expect(detail(report, 'Alertmanager now')?.lines).toEqual(['3 held: 2 active, 0 silenced, 0 inhibited']);
    const cost = detail(report, 'GPU cost');
    expect(cost?.fields).toEqual([
      { label: 'GPU node-hours', value: '808' },
      { label: 'Hourly price', value: 'EUR 2.50' },
      { label: 'Cost', value: 'EUR 2,020.00' },
    ]);
    expect(report.status).toBe('fail');
    // Secrets from alert annotations and statements never reach the post.
    expect(textOf(report)).not.toContain(SECRET);
    expect(prom.asked).toContain(q.gpuNodes);
  }, 60_000);

  it('without Prometheus or Alertmanager: an estimate labelled as such, and what was not measured', async () => {
    const cfg = clusterConfig();
    cfg.digest.gpuHourlyPrice = 3;
    const report = await buildWeeklyReport({ kube: c.client, config: cfg, signal: new AbortController().signal, now: () => NOW, records: storeRecords(new MemoryStore()) });
    const gpuNodes = (await c.client.core.listNode()).items.filter((n) => Number(n.status?.allocatable?.['nvidia.com/gpu'] ?? 0) > 0).length;
    expect(gpuNodes).toBe(4);
    const cost = detail(report, 'GPU cost');
    expect(cost?.fields?.[0]).toEqual({ label: 'GPU node-hours', value: `${gpuNodes * 168} (estimate)` });
    expect(cost?.fields?.[2]).toEqual({ label: 'Cost', value: `≈ EUR ${(gpuNodes * 168 * 3).toLocaleString('en-US', { minimumFractionDigits: 2 })}` });
    expect(cost?.lines?.[0]).toBe("estimate: today's 4 GPU nodes × 168 h (Prometheus not configured)");
    const text = textOf(report);
    expect(text).toContain('not measured: prometheus.url is not configured');
    expect(text).toContain('not asked: prometheus.alertmanagerUrl is not configured');
    expect(text).toContain('live reading not available here');
    expect(text).toContain('backups not configured');
    expect(detail(report, 'Alert groups this week')?.lines?.[1]).toBe('no alert opened a thread this week');
  }, 60_000);

  it('an unreachable Prometheus or Alertmanager is reported, and the rest still is', async () => {
    const cfg = config();
    cfg.prometheus.url = 'http://127.0.0.1:9';
    am.failStatus = 503;
    try {
      const report = await buildWeeklyReport({ kube: c.client, config: cfg, signal: new AbortController().signal, now: () => NOW });
      expect(detail(report, 'PVC usage')?.lines?.[0]).toMatch(/^⚠️ not measured: Could not reach Prometheus \(GET http:\/\/127\.0\.0\.1:9\/api\/v1\/query\): /);
      expect(detail(report, 'Alertmanager now')?.lines?.[0]).toContain('answered HTTP 503');
      expect(detail(report, 'GPU cost')?.lines?.[0]).toContain("estimate: today's 4 GPU nodes × 168 h (not measured: Could not reach Prometheus");
      expect(report.status).toBe('warn');
    } finally {
      am.failStatus = undefined;
    }
  }, 60_000);
});

describe('backup age', () => {
  const at = (hoursAgo: number) => ({ name: 'b', at: new Date(NOW - hoursAgo * 3600_000) });
  it('warns past backup.maxAgeHours and fails past twice that; no backup at all fails', () => {
    expect([6, 30, 60].map((h) => backupAgeStatus(at(h), NOW))).toEqual(['ok', 'warn', 'fail']);
    expect([30, 60, 100].map((h) => backupAgeStatus(at(h), NOW, 48))).toEqual(['ok', 'warn', 'fail']);
    expect(backupAgeStatus(undefined, NOW)).toBe('fail');
  });
});

describe('a report with a thread and offers', () => {
  const report: Report = {
    title: 'weekly report',
    status: 'ok',
    summary: 'root',
    offers: [{ intro: 'Monthly restore drill.', words: ['restore-drill'] }],
    thread: [{ title: 'weekly report details', status: 'ok', sections: [{ lines: [`dsn postgres://vlinders:${SECRET}@postgres:5432/vlinders`] }] }],
  };

  it('is redacted down to its thread, as every scheduled report is before it is posted', () => {
    const shown = redactReport(report);
    expect(JSON.stringify(shown)).not.toContain(SECRET);
    expect(shown.thread?.[0]?.sections?.[0]?.lines?.[0]).toBe('dsn postgres://vlinders:[REDACTED]@postgres:5432/vlinders');
  });

  it('prints its thread and offers after it in the terminal', () => {
    const text = renderText(redactReport(report));
    expect(text.indexOf('weekly report details')).toBeGreaterThan(text.indexOf('root'));
    expect(text).toContain('Monthly restore drill. Run: restore-drill');
  });
});

describe('daily digest with Prometheus', () => {
  it('adds PVC usage in its thread, and a nearly full PVC turns the headline status', async () => {
    const cfg = config();
    const q = cfg.prometheus.queries;
    const pvc = { namespace: 'vlinders-inference', persistentvolumeclaim: 'model-cache' };
    prom.setInstant(q.pvcCapacityBytes, [{ metric: pvc, value: 100 * GiB }]);
    prom.setInstant(q.pvcUsedBytes, [{ metric: pvc, value: 40 * GiB }]);
    const roomy = await buildDailyDigest({ kube: c.client, config: cfg, signal: new AbortController().signal, now: () => NOW, logSeconds: 60 });
    expect(roomy.report.status).not.toBe('fail');
    prom.setInstant(q.pvcUsedBytes, [{ metric: pvc, value: 97 * GiB }]);
    const digest = await buildDailyDigest({ kube: c.client, config: cfg, signal: new AbortController().signal, now: () => NOW, logSeconds: 60 });
    expect(detail(digest.report, 'PVC usage')?.rows).toEqual([['❌ vlinders-inference/model-cache', '97.0 GiB', '100 GiB', '97%']]);
    expect(digest.report.status).toBe('fail');
    // The root stays compact: no details in it.
    expect(JSON.stringify(digest.report.sections)).not.toContain('model-cache');
  }, 60_000);
});

describe('monthly report', () => {
  async function tlsSecret(name: string, days: number) {
    const pems = await generate([{ name: 'commonName', value: `${name}.vlinders.example` }], { notBeforeDate: new Date(NOW - DAY), notAfterDate: new Date(NOW + days * DAY + 3_600_000) });
    c.kube.create({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace: 'vlinders-platform' }, data: { 'tls.crt': Buffer.from(pems.cert).toString('base64'), 'tls.key': Buffer.from(pems.private).toString('base64') } });
    return pems.private;
  }

  it('certificates within 30 days, capacity, the P95 trend and the restore-drill offer', async () => {
    const key = await tlsSecret('gateway-tls', 12);
    await tlsSecret('api-tls', 80);
    const cfg = config();
    cfg.digest.tlsSecrets = [{ namespace: 'vlinders-platform', name: 'gateway-tls' }, { namespace: 'vlinders-platform', name: 'api-tls' }];
    // P95 at 200 ms for two weeks, then 400 ms.
    prom.setRange(cfg.prometheus.queries.p95Latency, [{ metric: {}, at: (t) => (t < NOW_S - 14 * 86_400 ? 0.2 : 0.4) }]);
    const report = await buildMonthlyReport({ kube: c.client, config: cfg, signal: new AbortController().signal, now: () => NOW });

    const certs = detail(report, 'Certificates expiring within 30 days');
    expect(certs?.title).toBe('Certificates expiring within 30 days: 1');
    expect(certs?.lines?.[0]).toMatch(/^⚠️ vlinders-platform\/gateway-tls \(CN=gateway-tls\.vlinders\.example\): expires in 12 days/);
    // gateway-tls, api-tls, and the platform's own vlinders-tls (platform.tlsSecret, not listed).
    expect(certs?.lines?.[1]).toBe('2 of 3 certificates are good for 30 days or more');

    // Capacity, against the GPUs read off the cluster objects here.
    const nodes = (await c.client.core.listNode()).items;
    const pods = (await c.client.core.listPodForAllNamespaces()).items.filter((p) => p.spec?.nodeName && !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''));
    const gpuAlloc = nodes.reduce((n, x) => n + Number(x.status?.allocatable?.['nvidia.com/gpu'] ?? 0), 0);
    const gpuReq = pods.reduce((n, p) => n + podGpus(p), 0);
    expect(gpuReq).toBeGreaterThan(0);
    const gpuRow = detail(report, 'Capacity')?.rows?.find((r) => r[0]?.endsWith('GPU'));
    expect(gpuRow?.slice(1)).toEqual([String(gpuReq), String(gpuAlloc), `${Math.round((gpuReq / gpuAlloc) * 100)}%`]);
    expect(detail(report, 'Capacity')?.rows?.map((r) => r[0]?.split(' ')[1])).toEqual(['GPU', 'CPU', 'memory']);

    const trend = detail(report, 'P95 latency trend');
    expect(trend?.rows?.map((r) => r.slice(1, 3))).toEqual([['200 ms', '200 ms'], ['200 ms', '200 ms'], ['400 ms', '400 ms'], ['400 ms', '400 ms']]);
    expect(trend?.lines).toEqual(['up 100% from the first week to the last']);
    expect(report.summary).toContain('P95 400 ms (+100% over 4 weeks)');
    expect(report.offers).toEqual([{ intro: expect.stringContaining('restore drill') as string, words: ['restore-drill'] }]);
    expect(report.status).toBe('warn');
    expect(textOf(report)).not.toContain(key.split('\n')[1] ?? 'never');
  }, 60_000);
});
