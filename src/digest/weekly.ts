// The runbook's weekly checks: disk and PVC use, database health, backup status, alert
// history and GPU cost, as a compact root message with the details in its thread.
import { errorMessage } from '../core/errors.js';
import { worstStatus, type Report, type ReportSection, type ReportStatus } from '../core/report.js';
import type { KubeClient } from '../kube/client.js';
import { parseQuantity, pvcFinding } from '../kube/health.js';
import { alertmanagerFrom } from '../prometheus/alertmanager-api.js';
import { prometheusFrom, type PrometheusClient } from '../prometheus/client.js';
import { vlindersNamespaces, type Config } from '../config/schema.js';
import { alertHistory } from './alert-history.js';
import { backupSection } from './backups.js';
import { rootAndThread, type ReportInputs } from './context.js';
import { databaseSection } from './database.js';
import { formatBytes, plural } from './format.js';
import { costLine, gpuCost, gpuCostSection, WEEK_HOURS, type GpuCost } from './gpu-cost.js';
import { chartFromSeries, chartsAndLines, labelsName, notDrawn, rangeChart, type ChartOutcome, type RangeChartSpec } from '../charts/index.js';
import { pvcUsageSection } from './pvc-usage.js';

const WEEK_MS = 7 * 86_400_000;

/** PVCs as Kubernetes sees them: how many, how much they claim, which are not Bound. */
async function claimedStorage(kube: KubeClient, config: Config): Promise<{ count: number; requestedBytes: number; unbound: string[] }> {
  let count = 0;
  let requestedBytes = 0;
  const unbound: string[] = [];
  for (const namespace of vlindersNamespaces(config.namespaces)) {
    for await (const pvc of kube.list({ verb: 'list', resource: 'persistentvolumeclaims', namespace }, (page) => kube.core.listNamespacedPersistentVolumeClaim({ namespace, ...page }))) {
      count++;
      requestedBytes += parseQuantity(pvc.spec?.resources?.requests?.storage);
      const f = pvcFinding(pvc);
      if (f) unbound.push(`${f.subject}: ${f.reason}`);
    }
  }
  return { count, requestedBytes, unbound };
}

/** Root filesystem use per node, fullest first (node-exporter via Prometheus). */
async function nodeDisks(prom: PrometheusClient, config: Config, now: number, signal: AbortSignal): Promise<Array<{ node: string; percent: number }>> {
  const samples = await prom.query(config.prometheus.queries.nodeDiskUsedPercent, { time: now / 1000, signal });
  return samples
    .filter((s) => Number.isFinite(s.value))
    .map((s) => ({ node: s.metric.node ?? s.metric.instance ?? '?', percent: Math.round(s.value * 10) / 10 }))
    .sort((a, b) => b.percent - a.percent);
}

async function diskSection(inputs: ReportInputs, prom: PrometheusClient | undefined, now: number): Promise<{ section: ReportSection; status: ReportStatus; fullest?: number }> {
  const { kube, config, signal } = inputs;
  const lines: string[] = [];
  const statuses: ReportStatus[] = ['ok'];
  let fullest: number | undefined;
  try {
    const claimed = await claimedStorage(kube, config);
    lines.push(`${plural(claimed.count, 'PVC')} claiming ${formatBytes(claimed.requestedBytes)} in the Vlinders namespaces`);
    for (const u of claimed.unbound) lines.push(`⚠️ ${u}`);
    if (claimed.unbound.length > 0) statuses.push('warn');
  } catch (err) {
    lines.push(`⚠️ PVCs not listed: ${errorMessage(err)}`);
    statuses.push('warn');
  }
  if (!prom) lines.push('node disks: not measured (prometheus.url is not configured)');
  else {
    try {
      const disks = await nodeDisks(prom, config, now, signal);
      fullest = disks[0]?.percent;
      if (disks.length === 0) lines.push('node disks: Prometheus has no samples for prometheus.queries.nodeDiskUsedPercent');
      for (const d of disks.slice(0, 5)) {
        const s: ReportStatus = d.percent >= 90 ? 'fail' : d.percent >= config.digest.pvcWarnPercent ? 'warn' : 'ok';
        statuses.push(s);
        lines.push(`${s === 'fail' ? '❌' : s === 'warn' ? '⚠️' : '✅'} node ${d.node}: root disk ${d.percent}% used`);
      }
      if (disks.length > 5) lines.push(`… ${disks.length - 5} more nodes, all at or below ${disks[5]?.percent}%`);
    } catch (err) {
      lines.push(`⚠️ node disks: ${errorMessage(err)}`);
      statuses.push('warn');
    }
  }
  return { section: { title: 'Disks', lines }, status: worstStatus(statuses), fullest };
}

/** A week's chart: a sample every 6 hours. */
const WEEK_STEP_SECONDS = 6 * 3600;

/** PVC use (the Vlinders namespaces', the largest ten) and the database's size over the last 7 days. */
export function growthChartSpecs(config: Config, nowMs: number): RangeChartSpec[] {
  const to = Math.floor(nowMs / 1000 / WEEK_STEP_SECONDS) * WEEK_STEP_SECONDS;
  const window = { from: to - 7 * 86_400, to, stepSeconds: WEEK_STEP_SECONDS };
  const watched = new Set(vlindersNamespaces(config.namespaces));
  const q = config.prometheus.queries;
  return [
    { id: 'pvc-growth-7d', title: 'PVC use, last 7 days', unit: 'bytes', promql: q.pvcUsedBytes, ...window, keep: (m) => watched.has(m.namespace ?? ''), nameOf: (m) => `${m.namespace ?? '?'}/${m.persistentvolumeclaim ?? '?'}`, condense: 'largest' },
    { id: 'database-growth-7d', title: 'Database size, last 7 days', unit: 'bytes', promql: q.dbSizeBytes, ...window, nameOf: (m) => m.datname ?? labelsName(m, 'database') },
  ];
}

/** The GPU nodes counted hourly, whose sum is the week's node-hours; one line when they were estimated. */
export function nodeHoursChart(cost: { ok: GpuCost } | { error: string }, nowMs: number, promConfigured: boolean): ChartOutcome {
  const title = 'GPU nodes, last 7 days';
  if ('ok' in cost && cost.ok.series) {
    const to = Math.floor(nowMs / 1000);
    const hours = Math.round(cost.ok.nodeHours * 10) / 10;
    return { chart: chartFromSeries({ id: 'gpu-node-hours-7d', title: `${title} (${hours} node-hours)`, unit: 'number', promql: '', stepSeconds: 3600, from: to - WEEK_HOURS * 3600, to, nameOf: () => 'GPU nodes' }, cost.ok.series) };
  }
  return { line: notDrawn(title, promConfigured ? 'node-hours were estimated, not measured (see GPU cost)' : 'prometheus.url is not configured') };
}

export async function buildWeeklyReport(inputs: ReportInputs): Promise<Report> {
  const { kube, config, signal } = inputs;
  const now = (inputs.now ?? Date.now)();
  const prom = prometheusFrom(config);
  const [disks, pvc, db, backups, alerts, cost, growth] = await Promise.all([
    diskSection(inputs, prom, now),
    pvcUsageSection(prom, config, { signal, now, weekAgo: true }),
    databaseSection(inputs.sources?.database, prom, config, { now, signal }),
    backupSection(inputs.sources?.backups, { signal, now, count: 7, maxAgeHours: config.backup.maxAgeHours }),
    alertHistory({ records: inputs.records, alertmanager: alertmanagerFrom(config), since: now - WEEK_MS, signal }),
    gpuCost(kube, prom, config, { now, signal }).then((c) => ({ ok: c }), (err: unknown) => ({ error: errorMessage(err) })),
    Promise.all(growthChartSpecs(config, now).map((spec) => rangeChart(prom, spec, signal))),
  ]);
  const drawn = chartsAndLines([...growth, nodeHoursChart(cost, now, prom !== undefined)]);
  const costSection: ReportSection = 'ok' in cost ? gpuCostSection(cost.ok, config) : { title: 'GPU cost (7 days)', lines: [`⚠️ not computed: ${errorMessage(cost.error)}`] };
  const fullestPvc = pvc.usage[0];
  const money = 'ok' in cost ? costLine(cost.ok, config) : 'not computed';
  const headline = [
    fullestPvc ? `fullest PVC ${fullestPvc.pvc} ${fullestPvc.percent}%` : 'PVC use not measured',
    db.headline,
    backups.newest ? `newest backup ${backups.newest.at.toISOString().slice(0, 16).replace('T', ' ')}` : backups.status === 'info' ? 'backups not configured' : 'no backup found',
    `${plural(alerts.groups, 'alert group')} this week`,
    `GPU cost ${money}`,
  ].join(' · ');
  return rootAndThread('weekly', inputs, {
    statuses: [disks.status, pvc.status, db.status, backups.status, alerts.status, 'ok' in cost ? 'ok' : 'warn'],
    headline,
    fields: [
      { label: 'Disks', value: disks.fullest === undefined ? 'node disks not measured' : `fullest node disk ${disks.fullest}%` },
      { label: 'PVCs', value: fullestPvc ? `fullest ${fullestPvc.namespace}/${fullestPvc.pvc} ${fullestPvc.percent}%` : 'not measured' },
      { label: 'Database', value: db.headline },
      { label: 'Backups', value: backups.section.lines?.[0] ?? '-' },
      { label: 'Alerts', value: `${alerts.groups} groups recorded${alerts.current === undefined ? '' : `, ${alerts.current} held now`}` },
      { label: 'GPU cost', value: money },
    ],
    details: [disks.section, pvc.section, ...db.sections, backups.section, ...alerts.sections, costSection, ...(drawn.lines.length > 0 ? [{ title: 'Charts', lines: drawn.lines }] : [])],
    charts: drawn.charts,
  });
}
