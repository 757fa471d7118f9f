// The runbook's daily checks as one compact Report (a headline status and what needs
// attention) with a thread of details: node health with CPU and memory use, ERROR lines of the
// API pods over the last 24 h (streamed and counted, never buffered), the GPU summary, TLS
// expiry, backup age and, with Prometheus, PVC usage, each model's service level (`slo`) and
// the GPUs' health from DCGM (`gpu health`).
import { errorMessage } from '../core/errors.js';
import { STATUS_EMOJI, tallyLine, tallyProblems, worstStatus, type Report, type ReportSection, type ReportStatus } from '../core/report.js';
import { readFleetGpus } from '../gpu/fleet.js';
import type { KubeClient } from '../kube/client.js';
import type { Finding } from '../kube/health.js';
import { surveyCluster } from '../kube/survey.js';
import { labelsName, rangeCharts, type LineChart, type RangeChartSpec } from '../charts/index.js';
import type { Config } from '../config/schema.js';
import { prometheusFrom, type PrometheusClient } from '../prometheus/client.js';
import { backupSection } from './backups.js';
import { ErrorCounter, type ErrorTally } from './error-lines.js';
import { plural } from './format.js';
import { pvcUsageSection } from './pvc-usage.js';
import { gpuHealthDigestSection } from '../gpu/dcgm-health.js';
import { sloDigestSection } from '../slo/slo.js';
import type { ReportInputs } from './context.js';
import { certExpiry, certLine, watchedTlsSecrets, type CertExpiry } from './tls.js';
import { vlindersNamespaces } from '../config/schema.js';

export interface DailyDigestOptions extends ReportInputs {
  /** Log window; the runbook says 24 h. */
  logSeconds?: number;
}

export interface DailyDigest {
  report: Report;
  findings: Finding[];
  errors: ErrorTally;
  certs: CertExpiry[];
}

/** The root message shows at most this many findings; the thread has them all. */
const ROOT_FINDINGS = 10;

/**
 * ERROR lines in the API pods' logs over the window: a count per pod, top 5 messages. A pod whose
 * log can't be read (its node unreachable, its container not started) is named as unread and
 * the others are still counted.
 */
export async function apiErrorTally(kube: KubeClient, namespace: string, selector: string, sinceSeconds: number, signal: AbortSignal): Promise<ErrorTally> {
  const counter = new ErrorCounter();
  for await (const pod of kube.list({ verb: 'list', resource: 'pods', namespace }, (page) => kube.core.listNamespacedPod({ namespace, labelSelector: selector, ...page }))) {
    const name = pod.metadata?.name;
    const container = pod.spec?.containers[0]?.name;
    if (!name || !container) continue;
    try {
      await counter.addStream(name, kube.logLines(namespace, name, container, { sinceSeconds, signal }));
    } catch (err) {
      if (signal.aborted) throw err;
      counter.markUnread(name, errorMessage(err));
    }
  }
  return counter.tally(5);
}

/** A day's chart: a sample every 15 minutes. */
const DAY_STEP_SECONDS = 900;

/** The daily digest's charts: GPU utilization per node and P95 latency against its target, over the last 24 h. */
export function dailyChartSpecs(config: Config, nowMs: number): RangeChartSpec[] {
  const to = Math.floor(nowMs / 1000 / DAY_STEP_SECONDS) * DAY_STEP_SECONDS;
  const window = { from: to - 86_400, to, stepSeconds: DAY_STEP_SECONDS };
  const q = config.prometheus.queries;
  return [
    { id: 'gpu-utilization-24h', title: 'GPU utilization per node, last 24 h', unit: 'percent', promql: q.gpuUtilizationPercent, ...window, nameOf: (m) => m.Hostname ?? m.node ?? m.instance ?? labelsName(m), condense: 'envelope' },
    { id: 'p95-latency-24h', title: 'P95 latency, last 24 h', unit: 'seconds', promql: q.p95Latency, ...window, target: { value: config.loadtest.thresholds.p95Ms / 1000, label: 'target' }, nameOf: (m) => labelsName(m, 'P95') },
  ];
}

export async function dailyCharts(prom: PrometheusClient | undefined, config: Config, nowMs: number, signal?: AbortSignal): Promise<{ charts: LineChart[]; lines: string[] }> {
  return rangeCharts(prom, dailyChartSpecs(config, nowMs), signal);
}

export async function buildDailyDigest(opts: DailyDigestOptions): Promise<DailyDigest> {
  const { kube, config, signal } = opts;
  const now = opts.now ?? Date.now;
  const { namespaces } = config;
  const survey = await surveyCluster(kube, vlindersNamespaces(namespaces));
  const findings: Finding[] = [...survey.findings];
  const statuses: ReportStatus[] = findings.map((f) => f.severity);
  const sections: ReportSection[] = [];

  // ERROR lines.
  let errors: ErrorTally = { total: 0, perPod: [], top: [], otherMessages: 0, unread: [] };
  let errorsProblem: string | undefined;
  try {
    errors = await apiErrorTally(kube, namespaces.platform, config.digest.apiSelector, opts.logSeconds ?? 86_400, signal);
    if (errors.unread.length) statuses.push('warn');
  } catch (err) {
    errorsProblem = errorMessage(err);
    statuses.push('warn');
  }

  // GPUs, shared with `gpu`.
  let gpuLine: string;
  const gpuFlags: string[] = [];
  try {
    const { summary: s } = await readFleetGpus(kube, config, signal);
    if (!s) {
      gpuLine = 'no running GPU workers';
      statuses.push('warn');
    } else {
      const o = s.overall;
      gpuLine = `${plural(o.gpuCount, 'GPU')} in ${o.podCount - o.failedPodCount}/${o.podCount} workers · mean utilization ${o.meanUtilizationPercent === undefined ? 'n/a' : `${Math.round(o.meanUtilizationPercent)}%`} · memory ${o.memoryUsedMiB}/${o.memoryTotalMiB} MiB`;
      for (const f of s.flags) gpuFlags.push(`${f.severity === 'fail' ? '❌' : '⚠️'} ${f.message}`);
      if (s.status !== 'ok') statuses.push(s.status);
    }
  } catch (err) {
    gpuLine = `not checked: ${errorMessage(err)}`;
    statuses.push('warn');
  }

  // TLS.
  const certs = await Promise.all(watchedTlsSecrets(config).map((ref) => certExpiry(kube, ref, now())));
  const certLines = certs.map((c) => {
    const { line, status: sev } = certLine(c, config.digest.certWarningDays);
    statuses.push(sev);
    return line;
  });

  const prom = prometheusFrom(config);
  const [pvc, drawn] = await Promise.all([pvcUsageSection(prom, config, { signal, now: now() }), dailyCharts(prom, config, now(), signal)]);
  if (pvc.status !== 'info') statuses.push(pvc.status);
  const backups = await backupSection(opts.sources?.backups, { signal, now: now(), maxAgeHours: config.backup.maxAgeHours });
  statuses.push(backups.status);
  const [slo, gpuHealth] = await Promise.all([sloDigestSection(prometheusFrom(config), config, { signal }), gpuHealthDigestSection(prometheusFrom(config), config, { signal, now: now() })]);
  for (const part of [slo, gpuHealth]) if (part.status !== 'info') statuses.push(part.status);

  const status: ReportStatus = statuses.length === 0 ? 'ok' : worstStatus(['ok', ...statuses]);

  const findingRows = findings.map((f) => [`${f.severity === 'fail' ? '❌' : '⚠️'} ${f.subject}`, f.reason]);
  const root: ReportSection[] = [];
  if (findings.length > 0) {
    root.push({ title: 'Needs attention', header: ['what', 'why'], rows: findingRows.slice(0, ROOT_FINDINGS) });
    if (findings.length > ROOT_FINDINGS) {
      root.push({ lines: [`… and ${findings.length - ROOT_FINDINGS} more in the thread`] });
      sections.push({ title: 'Needs attention (all)', header: ['what', 'why'], rows: findingRows });
    }
  }
  sections.push({
    title: 'Nodes',
    lines: [
      `${survey.nodes.ready}/${survey.nodes.total} nodes Ready, ${survey.nodes.gpu.length} GPU nodes`,
      survey.usage ? `CPU ${survey.usage.cpuPercent}%, memory ${survey.usage.memoryPercent}% of allocatable` : `usage unknown (${survey.usageError ?? 'no metrics'})`,
      ...(survey.usage?.hottest.slice(0, 3).map((h) => `${h.node}: CPU ${h.cpuPercent}%, memory ${h.memoryPercent}%`) ?? []),
    ],
  });
  sections.push(
    errorsProblem
      ? { title: 'ERROR lines (24 h)', lines: [`⚠️ not counted: ${errorsProblem}`] }
      : {
          title: `ERROR lines (24 h): ${errors.total}`,
          header: ['pod', 'errors', 'lines'],
          rows: errors.perPod.map((p) => [p.pod, String(p.errors), String(p.lines)]),
          ...(errors.unread.length ? { lines: errors.unread.map((u) => `⚠️ ${u.pod}: log not read${u.lines ? ` past line ${u.lines}` : ''}: ${u.error}`) } : {}),
        },
  );
  if (!errorsProblem && errors.top.length > 0) {
    sections.push({ title: 'Most frequent ERROR messages', lines: errors.top.map((t) => `${t.count}× \`${t.message}\``) });
  }
  sections.push({ title: 'GPUs', lines: [gpuLine, ...gpuFlags] });
  sections.push({ title: 'TLS certificates', lines: certLines });
  sections.push(backups.section);
  sections.push(pvc.section);
  sections.push(slo.section, gpuHealth.section);
  if (drawn.lines.length > 0) sections.push({ title: 'Charts', lines: drawn.lines });

  // The headline counts what the details mark (❌, ⚠️, not read), so it can't say "all healthy" above them.
  const marked = tallyLine(tallyProblems(sections.filter((s) => s.title !== 'Needs attention (all)')));
  const attention = [findings.length ? `${plural(findings.length, 'thing')} need${findings.length === 1 ? 's' : ''} attention` : '', marked].filter(Boolean).join(' · ');
  const headline = [
    attention || (status === 'ok' ? 'all healthy' : `${STATUS_EMOJI[status]} see the details`),
    `${survey.nodes.ready}/${survey.nodes.total} nodes Ready`,
    errorsProblem ? 'ERROR lines unknown' : `${plural(errors.total, 'ERROR line')} in 24 h${errors.unread.length ? ` (${plural(errors.unread.length, 'API pod')} not read)` : ''}`,
  ].join(' · ');

  const day = new Date(now()).toISOString().slice(0, 10);
  return {
    report: {
      title: `daily digest${opts.clusterName ? ` · ${opts.clusterName}` : ''} · ${day}`,
      status,
      summary: headline,
      sections: [...root, { lines: ['Details in the thread: nodes, ERROR lines, GPUs, certificates, backups, PVC usage, service levels, GPU health.'] }],
      thread: [{ title: `daily digest details · ${day}`, status, sections, charts: drawn.charts }],
    },
    findings,
    errors,
    certs,
  };
}
