// Per served model, what vLLM's own metrics say about its service level over a window, with the
// API's error rate, each figure judged against the runbook's targets and the configured SLOs.
//
// vLLM renames metrics and drops the old name a minor version or two later: the KV cache gauge
// is vllm:kv_cache_usage_perc from 0.9 on (vllm:gpu_cache_usage_perc before, hidden from 0.10),
// and time per output token is vllm:inter_token_latency_seconds from 0.11 on
// (vllm:time_per_output_token_seconds before). Each such figure asks for the new name and falls
// back, per model, to the old one (`or on(model)`), so the queries follow whatever version each
// model's vLLM runs; the answer names the metric it came from. Latency quantiles are taken from
// one bucket-rate answer per histogram (histogram-quantile.ts).
import type { Config } from '../config/schema.js';
import type { ReportSection, ReportStatus } from '../core/report.js';
import { STATUS_EMOJI, worstStatus } from '../core/report.js';
import { sampleValue, type PrometheusClient, type Sample } from '../prometheus/client.js';
import { bucketQuantile, type CumulativeBucket } from './histogram-quantile.js';
import { queryAll, quoted, selector } from './promql.js';

/** vLLM's metric names: the current one first, the one it replaced second. */
export const VLLM_METRICS = {
  ttft: ['vllm:time_to_first_token_seconds'],
  tpot: ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'],
  e2e: ['vllm:e2e_request_latency_seconds'],
  queue: ['vllm:request_queue_time_seconds'],
  waiting: ['vllm:num_requests_waiting'],
  running: ['vllm:num_requests_running'],
  kvCache: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
  preemptions: ['vllm:num_preemptions_total'],
  generationTokens: ['vllm:generation_tokens_total'],
  promptTokens: ['vllm:prompt_tokens_total'],
} as const;

export type LatencyFigure = 'ttft' | 'tpot' | 'e2e' | 'queue';
const LATENCY_FIGURES: ReadonlyArray<{ key: LatencyFigure; label: string; target: 'ttftP95Ms' | 'tpotP95Ms' | 'e2eP95Ms' | 'queueP95Ms' }> = [
  { key: 'ttft', label: 'Time to first token', target: 'ttftP95Ms' },
  { key: 'tpot', label: 'Time per output token', target: 'tpotP95Ms' },
  { key: 'e2e', label: 'End-to-end latency', target: 'e2eP95Ms' },
  { key: 'queue', label: 'Queue time', target: 'queueP95Ms' },
];

/** The label the bot adds to say which of vLLM's names a figure came from. */
const SOURCE_LABEL = 'vlinders_metric';

export interface ModelSlo {
  model: string;
  /** Seconds; undefined: no requests finished in the window (or not exported). */
  p50: Partial<Record<LatencyFigure, number>>;
  p95: Partial<Record<LatencyFigure, number>>;
  waiting?: number;
  running?: number;
  /** 0–100. */
  kvCachePercent?: number;
  preemptionsPerMinute?: number;
  generationTokensPerSecond?: number;
  promptTokensPerSecond?: number;
  /** Which vLLM metric each renamed figure was read from. */
  sources: { tpot?: string; kvCache?: string };
}

export interface SloReading {
  window: string;
  models: ModelSlo[];
  /** Percent of the API's requests that failed over the window (all models). */
  errorRatePercent?: number;
  /** The API's P95 latency over the window, seconds: the runbook's P95. */
  apiP95Seconds?: number;
  /** Queries Prometheus could not answer: what, and why. */
  unread: string[];
}

export interface SloTargets {
  ttftP95Ms: number;
  tpotP95Ms: number;
  e2eP95Ms: number;
  queueP95Ms: number;
  requestsWaiting: number;
  kvCachePercent: number;
  preemptionsPerMinute: number;
  errorRatePercent: number;
  minTokensPerSecond?: number;
}

/** A model's targets: the configured SLO for it, over every model's, over the runbook's. */
export function targetsFor(config: Config, model?: string): SloTargets {
  const { targets, models } = config.slo;
  const own = model !== undefined && Object.hasOwn(models, model) ? models[model] : undefined;
  const runbook = config.loadtest.thresholds;
  return {
    ttftP95Ms: runbook.p95Ms,
    errorRatePercent: runbook.errorRatePercent,
    ...withoutUndefined(targets),
    ...withoutUndefined(own ?? {}),
  } as SloTargets;
}

const withoutUndefined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The PromQL `slo` asks, by figure; exported so tests and the benchmark see the same text. */
export function sloQueries(config: Config, window: string, model?: string) {
  const { modelLabel: by, vllmMatchers, apiLatencyMetric, apiRequestsMetric, apiMatchers, apiErrorMatchers } = config.slo;
  const only = model !== undefined ? `${by}=${quoted(model)}` : '';
  const sel = (metric: string) => selector(metric, vllmMatchers, only);
  const tagged = (expr: string, metric: string) => `label_replace(${expr}, ${quoted(SOURCE_LABEL)}, ${quoted(metric)}, "", "")`;
  /** The first name that has series for a model wins; the others fill in the models it lacks. */
  const firstOf = (names: readonly string[], expr: (metric: string) => string) =>
    names.length === 1 ? tagged(expr(names[0] as string), names[0] as string) : names.map((n) => tagged(expr(n), n)).join(` or on(${by}) `);
  // Each histogram's bucket rates per model; P50 and P95 are taken from them (histogram-quantile.ts).
  const buckets = (names: readonly string[]) => firstOf(names, (m) => `sum by (${by}, le) (rate(${sel(`${m}_bucket`)}[${window}]))`);
  const latency = Object.fromEntries(LATENCY_FIGURES.map(({ key }) => [key, buckets(VLLM_METRICS[key])])) as Record<LatencyFigure, string>;
  const api = (extra: string) => `sum(rate(${selector(apiRequestsMetric, apiMatchers, extra)}[${window}]))`;
  return {
    ...latency,
    waiting: firstOf(VLLM_METRICS.waiting, (m) => `sum by (${by}) (${sel(m)})`),
    running: firstOf(VLLM_METRICS.running, (m) => `sum by (${by}) (${sel(m)})`),
    // The fullest replica: it is the one that preempts.
    kvCache: firstOf(VLLM_METRICS.kvCache, (m) => `max by (${by}) (${sel(m)})`),
    preemptionsPerMinute: firstOf(VLLM_METRICS.preemptions, (m) => `60 * sum by (${by}) (rate(${sel(m)}[${window}]))`),
    generationTokens: firstOf(VLLM_METRICS.generationTokens, (m) => `sum by (${by}) (rate(${sel(m)}[${window}]))`),
    promptTokens: firstOf(VLLM_METRICS.promptTokens, (m) => `sum by (${by}) (rate(${sel(m)}[${window}]))`),
    errorRatio: `${api(apiErrorMatchers)} / ${api('')}`,
    apiP95: `histogram_quantile(0.95, sum by (le) (rate(${selector(`${apiLatencyMetric}_bucket`, apiMatchers)}[${window}])))`,
  };
}

export type SloQueryName = keyof ReturnType<typeof sloQueries>;

/** Every figure of every served model (or of `model` only), read at once. */
export async function readSlo(prometheus: PrometheusClient, config: Config, opts: { window: string; model?: string; signal?: AbortSignal }): Promise<SloReading> {
  const { answers, unread } = await queryAll(prometheus, sloQueries(config, opts.window, opts.model), opts.signal);
  const by = config.slo.modelLabel;
  const models = new Map<string, ModelSlo>();
  const modelOf = (s: Sample) => {
    const name = s.metric[by] ?? '';
    let m = models.get(name);
    if (!m) models.set(name, (m = { model: name, p50: {}, p95: {}, sources: {} }));
    return m;
  };
  const each = (name: SloQueryName, put: (m: ModelSlo, value: number, s: Sample) => void) => {
    for (const s of answers[name]) if (Number.isFinite(s.value)) put(modelOf(s), s.value, s);
  };
  for (const { key } of LATENCY_FIGURES) {
    const perModel = new Map<string, { model: ModelSlo; buckets: CumulativeBucket[]; source?: string }>();
    for (const s of answers[key]) {
      const le = s.metric.le === undefined ? NaN : sampleValue(s.metric.le);
      if (Number.isNaN(le) || Number.isNaN(s.value)) continue;
      const model = modelOf(s);
      const entry = perModel.get(model.model) ?? { model, buckets: [], source: s.metric[SOURCE_LABEL] };
      perModel.set(model.model, entry);
      entry.buckets.push({ le, count: s.value });
    }
    for (const { model, buckets, source } of perModel.values()) {
      const p50 = bucketQuantile(0.5, buckets);
      const p95 = bucketQuantile(0.95, buckets);
      if (Number.isFinite(p50)) model.p50[key] = p50;
      if (Number.isFinite(p95)) model.p95[key] = p95;
      if (key === 'tpot') model.sources.tpot = source;
    }
  }
  each('waiting', (m, v) => (m.waiting = v));
  each('running', (m, v) => (m.running = v));
  each('kvCache', (m, v, s) => {
    m.kvCachePercent = v * 100;
    m.sources.kvCache = s.metric[SOURCE_LABEL];
  });
  each('preemptionsPerMinute', (m, v) => (m.preemptionsPerMinute = v));
  each('generationTokens', (m, v) => (m.generationTokensPerSecond = v));
  each('promptTokens', (m, v) => (m.promptTokensPerSecond = v));
  const ratio = answers.errorRatio[0]?.value;
  const apiP95 = answers.apiP95[0]?.value;
  return {
    window: opts.window,
    models: [...models.values()].sort((a, b) => a.model.localeCompare(b.model)),
    errorRatePercent: ratio !== undefined && Number.isFinite(ratio) ? ratio * 100 : undefined,
    apiP95Seconds: apiP95 !== undefined && Number.isFinite(apiP95) ? apiP95 : undefined,
    unread,
  };
}

/**
 * ✅ below `warnRatio` of the target, ⚠️ from there, ❌ at or over it. A target of 0 allows
 * nothing: any amount is ❌. `atLeast` targets (throughput) are ❌ below the target.
 */
export function judge(value: number, target: number, warnRatio: number, atLeast = false): ReportStatus {
  if (atLeast) return value < target ? 'fail' : 'ok';
  if (target === 0) return value > 0 ? 'fail' : 'ok';
  if (value >= target) return 'fail';
  return value >= target * warnRatio ? 'warn' : 'ok';
}

export interface ModelVerdict {
  model: string;
  status: ReportStatus;
  targets: SloTargets;
  queueOverTarget: boolean;
  kvCacheOverTarget: boolean;
  preempting: boolean;
  /** "TTFT P95 620 ms ≥ 500 ms"… for the figures over or near target. */
  problems: string[];
}

export const ms = (seconds: number) => (seconds < 0.01 ? `${(seconds * 1000).toFixed(1)} ms` : `${Math.round(seconds * 1000)} ms`);
const num = (n: number, digits = 1) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : String(Math.round(n * 10 ** digits) / 10 ** digits));

/** Each model's figures judged, as report sections (one per model, API errors first). */
export function sloReport(reading: SloReading, config: Config): { status: ReportStatus; sections: ReportSection[]; verdicts: ModelVerdict[]; apiStatus: ReportStatus } {
  const { warnRatio } = config.slo;
  const sections: ReportSection[] = [];
  const base = targetsFor(config);
  let errorStatus: ReportStatus | undefined;
  const apiLines: string[] = [];
  const unreadApi = (name: SloQueryName) => (reading.unread.some((u) => u.startsWith(`${name}:`)) ? '⚠️ not read: see below' : 'ℹ️ no API requests in the window');
  if (reading.errorRatePercent !== undefined) {
    errorStatus = judge(reading.errorRatePercent, base.errorRatePercent, warnRatio);
    apiLines.push(`${STATUS_EMOJI[errorStatus]} ${num(reading.errorRatePercent, 2)}% of requests failed (target < ${base.errorRatePercent}%)`);
  } else apiLines.push(`errors: ${unreadApi('errorRatio')}`);
  let apiP95Status: ReportStatus | undefined;
  if (reading.apiP95Seconds !== undefined) {
    // The runbook's P95 is the API's.
    const target = config.loadtest.thresholds.p95Ms;
    apiP95Status = judge(reading.apiP95Seconds * 1000, target, warnRatio);
    apiLines.push(`${STATUS_EMOJI[apiP95Status]} P95 latency ${ms(reading.apiP95Seconds)} (target < ${target} ms)`);
  } else apiLines.push(`P95 latency: ${unreadApi('apiP95')}`);
  sections.push({ title: `API (${reading.window}, all models)`, lines: apiLines });
  const verdicts: ModelVerdict[] = [];
  for (const m of reading.models) {
    const t = targetsFor(config, m.model);
    const rows: string[][] = [];
    const statuses: ReportStatus[] = [];
    const problems: string[] = [];
    const mark = (label: string, status: ReportStatus, shown: string, target: string) => {
      statuses.push(status);
      if (status !== 'ok' && status !== 'info') problems.push(`${label} ${shown} (target ${target})`);
      return STATUS_EMOJI[status];
    };
    for (const f of LATENCY_FIGURES) {
      const p95 = m.p95[f.key];
      const p50 = m.p50[f.key];
      const target = t[f.target];
      const icon = p95 === undefined ? 'ℹ️' : mark(`${f.label} P95`, judge(p95 * 1000, target, warnRatio), ms(p95), `< ${target} ms`);
      rows.push([f.label, p50 === undefined ? '-' : ms(p50), p95 === undefined ? 'no requests' : ms(p95), `< ${target} ms`, icon]);
    }
    const queueStatus = m.waiting === undefined ? undefined : judge(m.waiting, t.requestsWaiting, warnRatio);
    rows.push([
      'Requests waiting',
      m.running === undefined ? '-' : `${num(m.running, 0)} running`,
      m.waiting === undefined ? 'not exported' : num(m.waiting, 0),
      `≤ ${t.requestsWaiting}`,
      queueStatus ? mark('Requests waiting', queueStatus, num(m.waiting ?? 0, 0), `≤ ${t.requestsWaiting}`) : 'ℹ️',
    ]);
    const kvStatus = m.kvCachePercent === undefined ? undefined : judge(m.kvCachePercent, t.kvCachePercent, warnRatio);
    rows.push(['KV cache used', '', m.kvCachePercent === undefined ? 'not exported' : `${num(m.kvCachePercent)}%`, `< ${t.kvCachePercent}%`, kvStatus ? mark('KV cache', kvStatus, `${num(m.kvCachePercent ?? 0)}%`, `< ${t.kvCachePercent}%`) : 'ℹ️']);
    const preemptStatus = m.preemptionsPerMinute === undefined ? undefined : judge(m.preemptionsPerMinute, t.preemptionsPerMinute, warnRatio);
    rows.push(['Preemptions', '', m.preemptionsPerMinute === undefined ? 'not exported' : `${num(m.preemptionsPerMinute, 2)}/min`, `< ${t.preemptionsPerMinute}/min`, preemptStatus ? mark('Preemptions', preemptStatus, `${num(m.preemptionsPerMinute ?? 0, 2)}/min`, `< ${t.preemptionsPerMinute}/min`) : 'ℹ️']);
    const tps = m.generationTokensPerSecond;
    const tpsIcon = tps === undefined || t.minTokensPerSecond === undefined ? 'ℹ️' : mark('Tokens generated', judge(tps, t.minTokensPerSecond, warnRatio, true), `${num(tps)}/s`, `≥ ${t.minTokensPerSecond}/s`);
    rows.push([
      'Tokens per second',
      m.promptTokensPerSecond === undefined ? '-' : `${num(m.promptTokensPerSecond)} prompt`,
      tps === undefined ? 'not exported' : `${num(tps)} generated`,
      t.minTokensPerSecond === undefined ? 'no target' : `≥ ${t.minTokensPerSecond}/s`,
      tpsIcon,
    ]);
    const status = worstStatus(['ok', ...statuses]);
    verdicts.push({
      model: m.model,
      status,
      targets: t,
      queueOverTarget: queueStatus === 'fail',
      kvCacheOverTarget: kvStatus === 'fail',
      preempting: preemptStatus === 'fail' || preemptStatus === 'warn',
      problems,
    });
    const sources = [m.sources.tpot, m.sources.kvCache].filter(Boolean).join(', ');
    sections.push({
      title: `${STATUS_EMOJI[status]} ${m.model || '(no model_name label)'}`,
      header: ['figure', 'p50 / now', 'p95 / now', 'target', ''],
      rows,
      ...(sources ? { lines: [`vLLM metrics read: ${sources}`] } : {}),
    });
  }
  if (reading.models.length === 0) sections.push({ lines: [reading.unread.length ? '⚠️ not read: no model figures (see below)' : `ℹ️ No vLLM series in Prometheus${config.slo.vllmMatchers ? ` matching ${config.slo.vllmMatchers}` : ''}: is vLLM's /metrics scraped?`] });
  if (reading.unread.length) sections.push({ title: 'Not read', lines: reading.unread.map((u) => `⚠️ not read: ${u}`) });
  const status = worstStatus([...(reading.models.length || reading.errorRatePercent !== undefined ? (['ok'] as const) : (['warn'] as const)), ...(errorStatus ? [errorStatus] : []), ...(apiP95Status ? [apiP95Status] : []), ...verdicts.map((v) => v.status), ...(reading.unread.length ? (['warn'] as const) : [])]);
  return { status, sections, verdicts, apiStatus: worstStatus([errorStatus ?? 'info', apiP95Status ?? 'info']) };
}

/** The daily digest's lines: the API, then each model's verdict with what misses its SLO. */
export async function sloDigestSection(prometheus: PrometheusClient | undefined, config: Config, opts: { signal?: AbortSignal }): Promise<{ section: ReportSection; status: ReportStatus }> {
  const window = config.slo.window;
  const title = `Service levels (${window})`;
  if (!prometheus) return { section: { title, lines: ['not measured: prometheus.url is not configured'] }, status: 'info' };
  const reading = await readSlo(prometheus, config, { window, signal: opts.signal });
  if (reading.unread.length && !reading.models.length && reading.errorRatePercent === undefined && reading.apiP95Seconds === undefined) {
    return { section: { title, lines: [`⚠️ not measured: ${reading.unread[0]?.replace(/^\w+: /, '')}`] }, status: 'warn' };
  }
  const { status, sections, verdicts } = sloReport(reading, config);
  const api = sections[0]?.lines ?? [];
  const models = verdicts.map((v) => `${STATUS_EMOJI[v.status]} ${v.model}: ${v.problems.length ? v.problems.join('; ') : 'within SLO'}`);
  const unread = reading.unread.map((u) => `⚠️ not read: ${u}`);
  return { section: { title, lines: [...api.map((l) => `API: ${l}`), ...models, ...(verdicts.length ? [] : ['ℹ️ no vLLM series in Prometheus']), ...unread, 'Details: `slo`.'] }, status };
}
