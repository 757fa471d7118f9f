// The runbook's monthly checks: certificates expiring soon, capacity (requested against
// allocatable GPU, CPU and memory), the P95 latency trend from Prometheus, and a button to
// run the restore drill (it goes through the normal confirmation flow when pressed).
import { errorMessage } from '../core/errors.js';
import { STATUS_EMOJI, type Report, type ReportSection, type ReportStatus } from '../core/report.js';
import { clusterCapacity, type CapacityResource, type ClusterCapacity } from '../kube/capacity.js';
import { chartFromSeries, labelsName, notDrawn, type LineChart, type RangeChartSpec } from '../charts/index.js';
import type { Config } from '../config/schema.js';
import { prometheusFrom } from '../prometheus/client.js';
import { tokenize } from '../core/args.js';
import { rootAndThread, type ReportInputs } from './context.js';
import { formatBytes, isoDay } from './format.js';
import { TREND_STEP_SECONDS, TREND_WEEKS, formatSeconds, trendChange, weeklyLatency } from './latency-trend.js';
import { certExpiry, certLine, watchedTlsSecrets } from './tls.js';

const LABEL: Record<CapacityResource, string> = { gpu: 'GPU', cpu: 'CPU', memory: 'memory' };
const amount = (r: CapacityResource, n: number) => (r === 'memory' ? formatBytes(n) : r === 'cpu' ? `${Math.round(n * 10) / 10} cores` : String(n));

export function capacityStatus(percent: number): ReportStatus {
  return percent >= 90 ? 'fail' : percent >= 75 ? 'warn' : 'ok';
}

export function capacitySection(c: ClusterCapacity): { section: ReportSection; status: ReportStatus; line: string } {
  const rows: string[][] = [];
  const statuses: ReportStatus[] = [];
  const parts: string[] = [];
  for (const r of ['gpu', 'cpu', 'memory'] as const) {
    const { allocatable, requested } = c.resources[r];
    const percent = allocatable > 0 ? Math.round((requested / allocatable) * 100) : 0;
    const s = allocatable > 0 ? capacityStatus(percent) : 'info';
    statuses.push(s);
    rows.push([`${STATUS_EMOJI[s]} ${LABEL[r]}`, amount(r, requested), amount(r, allocatable), allocatable > 0 ? `${percent}%` : 'none allocatable']);
    parts.push(`${LABEL[r]} ${allocatable > 0 ? `${percent}%` : 'n/a'}`);
  }
  const lines = [`${c.readyNodes}/${c.nodes} nodes Ready`];
  if (c.fullNodes.length > 0) lines.push(`nodes with ≥ 90% requested: ${c.fullNodes.slice(0, 10).map((f) => `${f.node} (${LABEL[f.resource]} ${f.percent}%)`).join(', ')}${c.fullNodes.length > 10 ? `, … ${c.fullNodes.length - 10} more` : ''}`);
  const worst: ReportStatus = statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'ok';
  return { section: { title: 'Capacity: requested / allocatable', header: ['resource', 'requested', 'allocatable', 'share'], rows, lines }, status: worst, line: `requested ${parts.join(', ')}` };
}

/** The P95 over the last 4 weeks, a sample every 6 h, against its target. */
export function p95TrendChartSpec(config: Config, endSeconds: number): RangeChartSpec {
  return { id: 'p95-trend-4w', title: `P95 latency, last ${TREND_WEEKS} weeks`, unit: 'seconds', promql: config.prometheus.queries.p95Latency, from: endSeconds - TREND_WEEKS * 7 * 86_400, to: endSeconds, stepSeconds: TREND_STEP_SECONDS, target: { value: config.loadtest.thresholds.p95Ms / 1000, label: 'target' }, nameOf: (m) => labelsName(m, 'P95') };
}

export async function buildMonthlyReport(inputs: ReportInputs): Promise<Report> {
  const { kube, config, signal } = inputs;
  const now = (inputs.now ?? Date.now)();
  const warnDays = config.digest.certWarningDays;
  const details: ReportSection[] = [];
  const statuses: ReportStatus[] = [];

  // Certificates.
  const certs = await Promise.all(watchedTlsSecrets(config).map((ref) => certExpiry(kube, ref, now)));
  const soon = certs.filter((c) => c.error || c.daysLeft === undefined || c.daysLeft < warnDays);
  for (const c of soon) statuses.push(certLine(c, warnDays).status);
  details.push({
    title: `Certificates expiring within ${warnDays} days: ${soon.length}`,
    lines: [...soon.map((c) => certLine(c, warnDays).line), `${certs.length - soon.length} of ${certs.length} certificates are good for ${warnDays} days or more`],
  });

  // Capacity.
  let capacityLine = 'capacity unknown';
  try {
    const cap = capacitySection(await clusterCapacity(kube));
    details.push(cap.section);
    statuses.push(cap.status);
    capacityLine = cap.line;
  } catch (err) {
    details.push({ title: 'Capacity', lines: [`⚠️ not measured: ${errorMessage(err)}`] });
    statuses.push('warn');
  }

  // P95 latency trend.
  let latencyLine = 'P95 trend not measured';
  const charts: LineChart[] = [];
  const prom = prometheusFrom(config);
  if (!prom) details.push({ title: 'P95 latency trend', lines: ['not measured: prometheus.url is not configured'] });
  else {
    try {
      const end = Math.floor(now / 1000);
      const spec = p95TrendChartSpec(config, end);
      const series = await prom.queryRange(spec.promql, { start: spec.from, end: spec.to, stepSeconds: spec.stepSeconds }, { signal });
      charts.push(chartFromSeries(spec, series));
      const weeks = weeklyLatency(series, end);
      const change = trendChange(weeks);
      const last = weeks[weeks.length - 1];
      if (!last) details.push({ title: 'P95 latency trend', lines: ['Prometheus has no samples for prometheus.queries.p95Latency over the last 4 weeks'] });
      else {
        latencyLine = `P95 ${formatSeconds(last.meanSeconds)}${change === undefined ? '' : ` (${change >= 0 ? '+' : ''}${change}% over ${weeks.length} weeks)`}`;
        if (change !== undefined && change >= 50) statuses.push('warn');
        details.push({
          title: `P95 latency trend (${weeks.length} weeks)`,
          header: ['week of', 'mean P95', 'worst P95', 'samples'],
          rows: weeks.map((w) => [isoDay(w.start * 1000), formatSeconds(w.meanSeconds), formatSeconds(w.maxSeconds), String(w.samples)]),
          lines: [change === undefined ? 'one week of data: no trend yet' : Math.abs(change) < 5 ? `about flat (${change >= 0 ? '+' : ''}${change}%) from the first week to the last` : `${change > 0 ? 'up' : 'down'} ${Math.abs(change)}% from the first week to the last`],
        });
      }
    } catch (err) {
      details.push({ title: 'P95 latency trend', lines: [`⚠️ ${errorMessage(err)}`, notDrawn('P95 latency trend', 'Prometheus could not be read')] });
      statuses.push('warn');
    }
  }

  const report = rootAndThread('monthly', inputs, {
    statuses,
    headline: [`${soon.length} certificate${soon.length === 1 ? '' : 's'} expiring within ${warnDays} days`, capacityLine, latencyLine].join(' · '),
    fields: [
      { label: 'Certificates', value: soon.length === 0 ? `none expiring within ${warnDays} days` : soon.map((c) => c.secret).join(', ') },
      { label: 'Capacity', value: capacityLine },
      { label: 'Latency', value: latencyLine },
    ],
    details,
    charts,
  });
  report.offers = [{ intro: "Monthly restore drill: restore the newest backup into a scratch database and check it. Pressing the button shows the plan and asks for approval.", words: tokenize(config.digest.restoreDrillCommand) }];
  return report;
}
