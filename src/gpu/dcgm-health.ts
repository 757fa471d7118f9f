// GPU health from the NVIDIA DCGM exporter's series in Prometheus: the XIDs each GPU reported
// since a time (with NVIDIA's action for each), row-remap failures, uncorrectable ECC and
// thermal throttling. Every query returns only the GPUs with something to report, so a fleet
// of a thousand GPUs answers with a handful of rows.
import type { Config } from '../config/schema.js';
import type { ReportOffer, ReportSection, ReportStatus } from '../core/report.js';
import { worstStatus } from '../core/report.js';
import type { PrometheusClient, Sample } from '../prometheus/client.js';
import { queryAll, selector } from '../slo/promql.js';
import { DRAIN_ACTIONS, XID_ACTION_TEXT, xidEntry, type XidAction } from './xid.js';

/** DCGM's field names, as dcgm-exporter exports them. */
export const DCGM_METRICS = {
  xid: 'DCGM_FI_DEV_XID_ERRORS',
  rowRemapFailure: 'DCGM_FI_DEV_ROW_REMAP_FAILURE',
  uncorrectableRemappedRows: 'DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS',
  dbeVolatile: 'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL',
  dbeAggregate: 'DCGM_FI_DEV_ECC_DBE_AGG_TOTAL',
  throttleReasons: 'DCGM_FI_DEV_CLOCK_THROTTLE_REASONS',
  temperature: 'DCGM_FI_DEV_GPU_TEMP',
} as const;

/**
 * NVML's clock throttle reasons are a bit mask; PromQL has no bit operators, so the thermal
 * bits, SW_THERMAL_SLOWDOWN (0x20) and HW_THERMAL_SLOWDOWN (0x40), are read as
 * floor(mask / 0x20) % 4 > 0.
 */
const THERMAL_BITS = (mask: string) => `floor(${mask} / 32) % 4 > bool 0`;

export function gpuHealthQueries(config: Config, since: string) {
  const { nodeLabel, matchers, stepSeconds } = config.gpuHealth;
  const gpuLabels = `${nodeLabel}, gpu, UUID, modelName`;
  const sel = (m: string) => selector(m, matchers);
  const sub = `[${since}:${stepSeconds}s]`;
  return {
    // One series per GPU and XID code seen (count_values turns the code into a label); its value is when it was last seen.
    xids: `max_over_time(timestamp(count_values by (${gpuLabels}) ("xid", ${sel(DCGM_METRICS.xid)} > 0))${sub})`,
    rowRemapFailure: `max by (${gpuLabels}) (max_over_time(${sel(DCGM_METRICS.rowRemapFailure)}[${since}])) > 0`,
    uncorrectableRemappedRows: `max by (${gpuLabels}) (increase(${sel(DCGM_METRICS.uncorrectableRemappedRows)}[${since}])) > 0`,
    dbeVolatile: `max by (${gpuLabels}) (increase(${sel(DCGM_METRICS.dbeVolatile)}[${since}])) > 0`,
    dbeAggregate: `max by (${gpuLabels}) (increase(${sel(DCGM_METRICS.dbeAggregate)}[${since}])) > 0`,
    thermalSeconds: `${stepSeconds} * max by (${gpuLabels}) (sum_over_time((${THERMAL_BITS(sel(DCGM_METRICS.throttleReasons))})${sub})) > 0`,
    hot: `max by (${gpuLabels}) (max_over_time(${sel(DCGM_METRICS.temperature)}[${since}])) >= ${config.gpu.temperatureHighCelsius}`,
    reporting: `count by (${nodeLabel}) (${sel(DCGM_METRICS.temperature)})`,
  };
}

export type GpuHealthQueryName = keyof ReturnType<typeof gpuHealthQueries>;

export interface GpuRef {
  node: string;
  gpu: string;
  uuid: string;
  model: string;
}

export interface XidSeen extends GpuRef {
  code: number;
  lastSeen: number;
}

export interface GpuFinding extends GpuRef {
  kind: 'row-remap-failure' | 'uncorrectable-remapped-rows' | 'dbe-volatile' | 'dbe-aggregate' | 'thermal' | 'hot';
  value: number;
}

export interface GpuHealthReading {
  since: string;
  xids: XidSeen[];
  findings: GpuFinding[];
  gpusReporting: number;
  nodesReporting: number;
  unread: string[];
}

export async function readGpuHealth(prometheus: PrometheusClient, config: Config, opts: { since: string; signal?: AbortSignal }): Promise<GpuHealthReading> {
  const { answers, unread } = await queryAll(prometheus, gpuHealthQueries(config, opts.since), opts.signal);
  const { nodeLabel } = config.gpuHealth;
  const ref = (s: Sample): GpuRef => ({ node: s.metric[nodeLabel] ?? '?', gpu: s.metric.gpu ?? '?', uuid: s.metric.UUID ?? '?', model: s.metric.modelName ?? '' });
  const xids = answers.xids.map((s) => ({ ...ref(s), code: Number(s.metric.xid), lastSeen: s.value })).filter((x) => Number.isInteger(x.code) && x.code > 0);
  const kinds: Array<[GpuHealthQueryName, GpuFinding['kind']]> = [
    ['rowRemapFailure', 'row-remap-failure'],
    ['uncorrectableRemappedRows', 'uncorrectable-remapped-rows'],
    ['dbeVolatile', 'dbe-volatile'],
    ['dbeAggregate', 'dbe-aggregate'],
    ['thermalSeconds', 'thermal'],
    ['hot', 'hot'],
  ];
  const findings = kinds.flatMap(([name, kind]) => answers[name].filter((s) => Number.isFinite(s.value)).map((s) => ({ ...ref(s), kind, value: s.value })));
  return {
    since: opts.since,
    xids,
    findings,
    gpusReporting: answers.reporting.reduce((n, s) => n + s.value, 0),
    nodesReporting: answers.reporting.length,
    unread,
  };
}

const ACTION_RANK: Record<XidAction, number> = { service: 0, 'reset-gpu': 1, lookup: 2, 'restart-app': 3, watch: 4 };
/** Findings that take a GPU out of service, like a drain-class XID. */
const DRAIN_FINDINGS: ReadonlySet<GpuFinding['kind']> = new Set(['row-remap-failure', 'uncorrectable-remapped-rows', 'dbe-volatile', 'dbe-aggregate']);

const FINDING_TEXT: Record<GpuFinding['kind'], (v: number) => string> = {
  'row-remap-failure': () => 'row remapping failed (out of spare rows): drain, then service the node',
  'uncorrectable-remapped-rows': (v) => `${Math.round(v)} new row(s) remapped for uncorrectable errors: drain, then reset the GPU to apply them`,
  'dbe-volatile': (v) => `${Math.round(v)} new uncorrectable (double-bit) ECC error(s) since the last driver load: drain, then reset the GPU`,
  'dbe-aggregate': (v) => `${Math.round(v)} new uncorrectable (double-bit) ECC error(s) over the GPU's life: drain, then reset the GPU`,
  thermal: (v) => `thermally throttled for about ${Math.max(1, Math.round(v / 60))} min (SW/HW thermal slowdown): check cooling and airflow`,
  hot: (v) => `reached ${Math.round(v)} °C`,
};

/** A Kubernetes node name: what a label must look like before it becomes a button's argument. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const MAX_NODE_OFFERS = 5;

const gpuText = (g: GpuRef) => `${g.gpu}${g.uuid !== '?' ? ` (${g.uuid})` : ''}`;
const when = (unix: number, now: number) => {
  const ago = Math.max(0, Math.round((now / 1000 - unix) / 60));
  return ago < 2 ? 'now' : ago < 120 ? `${ago} min ago` : `${Math.round(ago / 60)} h ago`;
};

export interface GpuHealthVerdict {
  status: ReportStatus;
  sections: ReportSection[];
  offers: ReportOffer[];
  /** Nodes with a GPU that should be taken out of service. */
  drainNodes: string[];
  /** Every finding as one line ("❌ node GPU 0 (GPU-…): XID 79 … → action"), for the digest. */
  lines: string[];
  headline: string;
}

export function gpuHealthReport(reading: GpuHealthReading, opts: { now: number }): GpuHealthVerdict {
  const statuses: ReportStatus[] = ['ok'];
  const sections: ReportSection[] = [];
  const lines: string[] = [];
  const drain = new Map<string, string[]>();
  const needsDrain = (node: string, why: string) => drain.set(node, [...(drain.get(node) ?? []), why]);
  const xids = [...reading.xids].sort((a, b) => ACTION_RANK[xidEntry(a.code).action] - ACTION_RANK[xidEntry(b.code).action] || a.node.localeCompare(b.node) || a.gpu.localeCompare(b.gpu, 'en', { numeric: true }));
  for (const x of xids) {
    const { action } = xidEntry(x.code);
    statuses.push(DRAIN_ACTIONS.has(action) ? 'fail' : action === 'lookup' || action === 'restart-app' ? 'warn' : 'ok');
    if (DRAIN_ACTIONS.has(action)) needsDrain(x.node, `XID ${x.code} on GPU ${x.gpu}`);
  }
  sections.push(
    xids.length
      ? {
          title: `XIDs since ${reading.since} ago`,
          header: ['node', 'gpu', 'xid', 'what', "NVIDIA's action", 'last seen'],
          rows: xids.map((x) => {
            const e = xidEntry(x.code);
            const icon = DRAIN_ACTIONS.has(e.action) ? '❌' : e.action === 'watch' ? 'ℹ️' : '⚠️';
            lines.push(`${icon} ${x.node} GPU ${gpuText(x)}: XID ${x.code} ${e.name} → ${XID_ACTION_TEXT[e.action]}`);
            return [x.node, gpuText(x), `${icon} ${x.code}`, e.name, XID_ACTION_TEXT[e.action], when(x.lastSeen, opts.now)];
          }),
        }
      : { title: `XIDs since ${reading.since} ago`, lines: [reading.unread.some((u) => u.startsWith('xids')) ? '⚠️ not read: see below' : '✅ none'] },
  );
  const ecc = reading.findings.filter((f) => DRAIN_FINDINGS.has(f.kind));
  for (const f of ecc) needsDrain(f.node, `GPU ${f.gpu}: ${f.kind}`);
  const heat = reading.findings.filter((f) => f.kind === 'thermal' || f.kind === 'hot');
  for (const [icon, list] of [['❌', ecc], ['⚠️', heat]] as const) for (const f of list) lines.push(`${icon} ${f.node} GPU ${gpuText(f)}: ${FINDING_TEXT[f.kind](f.value)}`);
  if (ecc.length) statuses.push('fail');
  sections.push({
    title: 'Row remapping and uncorrectable ECC',
    ...(ecc.length ? { header: ['node', 'gpu', 'finding'], rows: ecc.map((f) => [f.node, gpuText(f), `❌ ${FINDING_TEXT[f.kind](f.value)}`]) } : { lines: ['✅ none'] }),
  });
  if (heat.length) statuses.push('warn');
  sections.push({
    title: 'Thermal throttling',
    ...(heat.length ? { header: ['node', 'gpu', 'finding'], rows: heat.map((f) => [f.node, gpuText(f), `⚠️ ${FINDING_TEXT[f.kind](f.value)}`]) } : { lines: ['✅ none'] }),
  });
  if (reading.unread.length) {
    statuses.push('warn');
    sections.push({ title: 'Not read', lines: reading.unread.map((u) => `⚠️ not read: ${u}`) });
  }
  if (reading.gpusReporting === 0 && !reading.unread.length) {
    statuses.push('warn');
    sections.push({ lines: ['⚠️ No GPU reports DCGM series to Prometheus: is the DCGM exporter scraped (and gpuHealth.matchers right)?'] });
  }
  const offers: ReportOffer[] = [];
  const drainNodes = [...drain.keys()].sort();
  for (const node of drainNodes.slice(0, MAX_NODE_OFFERS)) {
    // A label is outside data: only a valid node name becomes a command.
    if (!NODE_NAME.test(node)) continue;
    const why = (drain.get(node) ?? []).join(', ');
    offers.push({ intro: `${node}: ${why}. Stop new pods landing on it first.`, words: ['node', 'cordon', node] });
    offers.push({ intro: `${node}: move its pods off (PodDisruptionBudgets respected) so the GPU can be reset or the node serviced.`, words: ['node', 'drain', node] });
  }
  const headline = [
    `${reading.gpusReporting} GPU${reading.gpusReporting === 1 ? '' : 's'} on ${reading.nodesReporting} node${reading.nodesReporting === 1 ? '' : 's'} reporting`,
    `${xids.length} XID${xids.length === 1 ? '' : 's'}`,
    drainNodes.length ? `${drainNodes.length} node${drainNodes.length === 1 ? '' : 's'} to drain: ${drainNodes.slice(0, MAX_NODE_OFFERS).join(', ')}${drainNodes.length > MAX_NODE_OFFERS ? ', …' : ''}` : '',
    heat.length ? `${new Set(heat.map((h) => h.uuid)).size} hot or throttled` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return { status: worstStatus(statuses), sections, offers, drainNodes, headline, lines };
}

/** The daily digest's lines: the headline, then each finding that needs a hand. */
export async function gpuHealthDigestSection(prometheus: PrometheusClient | undefined, config: Config, opts: { signal?: AbortSignal; now: number }): Promise<{ section: ReportSection; status: ReportStatus }> {
  const since = config.gpuHealth.since;
  const title = `GPU health (${since})`;
  if (!prometheus) return { section: { title, lines: ['not measured: prometheus.url is not configured'] }, status: 'info' };
  const reading = await readGpuHealth(prometheus, config, { since, signal: opts.signal });
  if (reading.unread.length && reading.gpusReporting === 0 && !reading.xids.length && !reading.findings.length) {
    return { section: { title, lines: [`⚠️ not measured: ${reading.unread[0]?.replace(/^\w+: /, '')}`] }, status: 'warn' };
  }
  const verdict = gpuHealthReport(reading, { now: opts.now });
  // The report's rows, one line each: node, GPU, and what to do.
  const notes = verdict.sections.flatMap((s) => (s.rows ? [] : (s.lines ?? []).filter((l) => !l.startsWith('✅'))));
  return { section: { title, lines: [verdict.headline, ...verdict.lines, ...notes, ...(verdict.drainNodes.length ? ['Cordon and drain from `gpu health`.'] : [])] }, status: verdict.status };
}
