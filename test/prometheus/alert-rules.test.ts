// The runbook's alert rules (charts/vlinders-ops/rules/vlinders-alerts.yaml, the file the
// chart's PrometheusRule ships) proven with the real Prometheus tools:
// - `promtool check rules` accepts the file;
// - `promtool test rules`, with input series read from the world's metrics exporter (and the
//   bot's own /metrics for backups) minute by minute, shows each rule firing on the broken
//   world only after its `for`, and none on the healthy world;
// - the real Prometheus loads the file, and the rules without `for` fire and resolve live: the
//   drain-class XID on the second GPU node, and the missing backup until the bot records one.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { OpsMetrics } from '../../src/http/metrics.js';
import { startOpsServer, type OpsServer } from '../../src/http/ops-server.js';
import { Store } from '../../src/sandbox/kube/store.js';
import { seedVlindersCluster, type SeededCluster } from '../../src/sandbox/kube/world/index.js';
import { FactsTimeline, brokenFacts, healthyFacts, queueBuildingUp } from '../../src/sandbox/metrics/facts.js';
import { MetricsExporter, WorldMetrics } from '../../src/sandbox/metrics/exporter.js';
import { sampleLine } from '../../src/sandbox/metrics/exposition.js';
import { PROMTOOL_BIN, requireBinary, startPrometheus, type RealPrometheus } from '../../src/sandbox/prometheus/real.js';
import { CHART_DIR } from '../chart/helm.js';

const RULES_FILE = join(CHART_DIR, 'rules', 'vlinders-alerts.yaml');
const run = promisify(execFile);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const RULES = (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const ALERTS = RULES.map((r) => r.alert);

let state: Store;
let cluster: SeededCluster;
let dir: string;

beforeAll(async () => {
  await requireBinary(PROMTOOL_BIN);
  state = new Store();
  cluster = seedVlindersCluster(state, { gpuNodes: 4 });
  dir = mkdtempSync(join(tmpdir(), 'vlinders-rules-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** promtool's input series: every series `metrics` serves, read every `step` seconds from 0 to `end`, labelled as the scrape would. */
function inputSeries(metrics: WorldMetrics, end: number, step: number): Array<{ series: string; values: string }> {
  const byKey = new Map<string, number[]>();
  for (let t = 0; t <= end; t += step)
    for (const job of metrics.jobs)
      for (const f of metrics.collect(t, job))
        for (const s of f.samples) {
          const key = sampleLine(f, { ...s, labels: { job, instance: 'exporter:9100', ...s.labels }, value: 0 }).replace(/ 0$/, '');
          byKey.set(key, [...(byKey.get(key) ?? []), s.value]);
        }
  return [...byKey].map(([series, values]) => ({ series, values: values.join(' ') }));
}

/** The bot's backup gauge, read from a real OpsMetrics' /metrics text. */
async function backupGauge(metrics: OpsMetrics): Promise<number> {
  const line = (await metrics.scrape()).split('\n').find((l) => l.startsWith('vlinders_ops_last_successful_backup_timestamp_seconds '));
  return Number(line?.split(' ')[1]);
}

/** What an alert's annotations read once Prometheus fills in its labels and value. */
const filled = (rule: Rule, labels: Record<string, string>, value: string) =>
  Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => labels[l] ?? '').replace(/\{\{ \$value \}\}/g, value)]));

function expectFiring(alert: string, exp: Array<{ labels: Record<string, string>; value: string }>) {
  const rule = RULES.find((r) => r.alert === alert);
  if (!rule) throw new Error(`no rule ${alert}`);
  return { alertname: alert, exp_alerts: exp.map((e) => ({ exp_labels: { ...rule.labels, ...e.labels }, exp_annotations: filled(rule, { ...rule.labels, ...e.labels }, e.value) })) };
}
const quiet = (alerts: readonly string[]) => alerts.map((alertname) => ({ alertname, exp_alerts: [] }));

describe('the runbook alert rules', () => {
  it('promtool check rules accepts the file the chart ships', async () => {
    const { stdout } = await run(PROMTOOL_BIN, ['check', 'rules', RULES_FILE]);
    expect(stdout).toContain(`SUCCESS: ${RULES.length} rules found`);
    expect(ALERTS).toEqual(['VlindersApiLatencyHigh', 'VlindersApiErrorRateHigh', 'VlindersGpuUtilizationHigh', 'VlindersGpuXidDrain', 'VlindersKvCacheFull', 'VlindersQueueOverTarget', 'VlindersBackupMissing']);
  });

  it('promtool test rules: each fires on the broken world after its `for`, none on the healthy world', async () => {
    // Healthy for 20 minutes, then the broken world, its queue building up over 5 minutes.
    const broken = brokenFacts(cluster.nodes.gpu);
    const world = new WorldMetrics({ state, timeline: queueBuildingUp(new FactsTimeline(0, healthyFacts()), broken, 20 * 60, 5) });
    // The bot's backup gauge: a backup 30 s in; then (second test, hourly) a backup at 5 h and
    // a restart of the bot at 20 h (the gauge starts at 0 again) with none since.
    const bot = new OpsMetrics({ defaultMetrics: false });
    bot.recordBackup({ ok: true, bytes: 1, durationMs: 1, finishedAt: 30_000 });
    const recent = await backupGauge(bot);
    const once = new OpsMetrics({ defaultMetrics: false });
    const never = await backupGauge(once);
    once.recordBackup({ ok: true, bytes: 1, durationMs: 1, finishedAt: 5 * 3600_000 });
    const atFiveHours = await backupGauge(once);
    const backup = (values: number[]) => ({ series: 'vlinders_ops_last_successful_backup_timestamp_seconds{job="vlinders-ops",instance="bot:8080"}', values: values.join(' ') });

    const xid = broken.gpus.xids[0]!;
    const xidLabels = Object.fromEntries(
      Object.entries(world.collect(1500, 'dcgm-exporter').find((f) => f.name === 'DCGM_FI_DEV_XID_ERRORS')!.samples.find((s) => s.labels?.Hostname === xid.node && s.labels.gpu === String(xid.gpu))!.labels!),
    );
    const tests = {
      rule_files: [RULES_FILE],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [...inputSeries(world, 45 * 60, 60), backup(Array.from({ length: 46 }, () => recent))],
          alert_rule_test: [
            ...quiet(ALERTS).map((a) => ({ eval_time: '19m', ...a })),
            // Two minutes into the broken world: only the XID, which has no `for`.
            { eval_time: '22m', ...expectFiring('VlindersGpuXidDrain', [{ labels: { ...xidLabels, job: 'dcgm-exporter', instance: 'exporter:9100' }, value: String(xid.code) }]) },
            ...quiet(ALERTS.filter((a) => a !== 'VlindersGpuXidDrain')).map((a) => ({ eval_time: '22m', ...a })),
            // Twenty minutes in: every rule over the broken world, the backup still fresh.
            ...['VlindersApiLatencyHigh', 'VlindersApiErrorRateHigh', 'VlindersGpuUtilizationHigh', 'VlindersKvCacheFull', 'VlindersQueueOverTarget'].map((a) => ({ eval_time: '40m', ...expectFiring(a, [{ labels: {}, value: '' }]) })),
            { eval_time: '40m', ...expectFiring('VlindersGpuXidDrain', [{ labels: { ...xidLabels, job: 'dcgm-exporter', instance: 'exporter:9100' }, value: String(xid.code) }]) },
            { eval_time: '40m', ...quiet(['VlindersBackupMissing'])[0] },
          ],
        },
        {
          interval: '1h',
          // 0 until the backup at 5 h; the bot restarts at 20 h and reports 0 again. At 27 h the
          // backup is 22 h old, though the gauge says 0; at 32 h it is 27 h old.
          input_series: [backup(Array.from({ length: 34 }, (_, h) => (h >= 5 && h < 20 ? atFiveHours : never)))],
          alert_rule_test: [
            { eval_time: '27h', ...quiet(['VlindersBackupMissing'])[0] },
            { eval_time: '32h', ...expectFiring('VlindersBackupMissing', [{ labels: {}, value: '' }]) },
          ],
        },
      ],
    };
    const file = join(dir, 'tests.yaml');
    writeFileSync(file, stringify(tests, { lineWidth: 0 }));
    const result = await run(PROMTOOL_BIN, ['test', 'rules', file]).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: `${err.stdout ?? ''}${err.stderr ?? ''}` }));
    expect(result.stdout).toContain('SUCCESS');
  });
});

interface LiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}

describe('the rules in the real Prometheus, live', () => {
  let timeline: FactsTimeline;
  let exporter: MetricsExporter;
  let bot: OpsMetrics;
  let ops: OpsServer;
  let prometheus: RealPrometheus;

  beforeAll(async () => {
    timeline = new FactsTimeline(Math.floor(Date.now() / 1000) - 3600, healthyFacts());
    bot = new OpsMetrics({ defaultMetrics: false });
    [exporter, ops] = await Promise.all([
      MetricsExporter.start(new WorldMetrics({ state, timeline })),
      startOpsServer({ port: 0, metrics: bot, readiness: async () => ({ ready: true, checks: {} }) }),
    ]);
    prometheus = await startPrometheus({ targets: [...exporter.targets, { job: 'vlinders-ops', address: `127.0.0.1:${ops.port()}`, path: '/metrics' }], ruleFiles: [RULES_FILE] });
    await prometheus.waitForTargets();
  }, 30_000);
  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all([exporter?.close(), ops?.close()]);
  });

  const get = async <T>(path: string): Promise<T> => ((await (await fetch(`${prometheus.url}${path}`)).json()) as { data: T }).data;
  const alerts = async () => (await get<{ alerts: LiveAlert[] }>('/api/v1/alerts')).alerts;
  async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const v = await read();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`not in time: ${what}; alerts now ${JSON.stringify(await alerts())}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('loads every rule of the file, and on the healthy world only the missing backup fires (the bot has recorded none)', async () => {
    const since = Date.now();
    // A rule evaluation after the targets were scraped.
    const groups = await until('an evaluation after the first scrape', async () => {
      const g = (await get<{ groups: Array<{ lastEvaluation: string; rules: Array<{ name: string; health: string; lastError?: string }> }> }>('/api/v1/rules')).groups;
      return g.length && g.every((x) => Date.parse(x.lastEvaluation) > since + 1000) ? g : undefined;
    });
    expect(groups.flatMap((g) => g.rules.map((r) => [r.name, r.health, r.lastError ?? '']))).toEqual(ALERTS.map((a) => [a, 'ok', '']));
    expect((await alerts()).map((a) => [a.labels.alertname, a.state])).toEqual([['VlindersBackupMissing', 'firing']]);
  });

  it('the broken world: the XID 79 GPU of the second GPU node fires at once, the rules with `for` wait', async () => {
    const broken = brokenFacts(cluster.nodes.gpu);
    timeline.set(Math.floor(Date.now() / 1000), broken);
    const xid = await until('the XID alert', async () => (await alerts()).find((a) => a.labels.alertname === 'VlindersGpuXidDrain' && a.state === 'firing'));
    expect(xid.labels).toMatchObject({ Hostname: 'vlinders-gpu-2', gpu: '0', severity: 'critical' });
    expect(xid.annotations.summary).toBe('XID 79 on GPU 0 of vlinders-gpu-2: drain the node, then reset the GPU or service the node.');
    const kv = await until('the KV cache alert pending', async () => (await alerts()).find((a) => a.labels.alertname === 'VlindersKvCacheFull'));
    expect(kv.state).toBe('pending');
  });

  it('a successful backup recorded by the bot resolves the backup alert', async () => {
    bot.recordBackup({ ok: true, bytes: 1024, durationMs: 1000 });
    await until('the backup alert to resolve', async () => ((await alerts()).some((a) => a.labels.alertname === 'VlindersBackupMissing') ? undefined : true));
  });
});
