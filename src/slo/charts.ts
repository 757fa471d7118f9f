// The charts `slo` and `diagnose latency` attach: time to first token P95, the queue and the KV
// cache per served model over the window they read, each against its SLO. The series are range
// queries of the very expressions `slo` reads at an instant (sloQueries), so a chart and the
// figure beside it can't disagree about what is measured.
import { labelsName, type RangeChartSpec } from '../charts/index.js';
import type { Config } from '../config/schema.js';
import { durationSeconds } from './promql.js';
import { sloQueries, targetsFor, type SloTargets } from './slo.js';

/** About sixty points whatever the window, on a step Prometheus's 15 s scrapes fill. */
const POINTS = 60;
const MIN_STEP_SECONDS = 15;
/** The shortest span a chart's rates and quantiles are taken over: a few scrapes, not one. */
const MIN_RATE_SECONDS = 300;

interface ChartWindow {
  from: number;
  to: number;
  stepSeconds: number;
}

function chartWindow(over: string, nowMs: number): ChartWindow {
  const seconds = durationSeconds(over) ?? 3600;
  const stepSeconds = Math.max(MIN_STEP_SECONDS, Math.ceil(seconds / POINTS / MIN_STEP_SECONDS) * MIN_STEP_SECONDS);
  const to = Math.floor(nowMs / 1000 / stepSeconds) * stepSeconds;
  return { from: to - seconds, to, stepSeconds };
}

/**
 * One line for every model charted: the asked model's own target, or the one every model has;
 * when some model has its own, the line says it is the default.
 */
function targetLine(config: Config, model: string | undefined, key: keyof SloTargets, inChartUnit = (v: number) => v): RangeChartSpec['target'] {
  const value = targetsFor(config, model)[key];
  if (value === undefined) return undefined;
  const others = model === undefined && Object.values(config.slo.models).some((own) => own[key] !== undefined);
  return { value: inChartUnit(value), label: others ? 'default target' : 'target' };
}

/** Per model: time to first token P95, requests waiting and KV cache use, over `window`. */
export function sloChartSpecs(config: Config, nowMs: number, opts: { window: string; model?: string }): RangeChartSpec[] {
  const { window, model } = opts;
  const span = chartWindow(window, nowMs);
  // Each point's P95 over the last few minutes: over the whole window every point would be the same.
  const q = sloQueries(config, `${Math.max(MIN_RATE_SECONDS, 2 * span.stepSeconds)}s`, model);
  const by = config.slo.modelLabel;
  const nameOf = (m: Record<string, string>) => m[by] || `(no ${by} label)`;
  // No vLLM series (none scraped, or an unknown model): the report says so already.
  const shown = { ...span, nameOf, condense: 'largest' as const, whenEmpty: `no samples over the last ${window}` };
  return [
    { id: `ttft-p95-${window}`, title: `Time to first token P95 per model, last ${window}`, unit: 'seconds', promql: `histogram_quantile(0.95, ${q.ttft})`, target: targetLine(config, model, 'ttftP95Ms', (ms) => ms / 1000), ...shown },
    { id: `requests-waiting-${window}`, title: `Requests waiting per model, last ${window}`, unit: 'number', promql: q.waiting, target: targetLine(config, model, 'requestsWaiting'), ...shown },
    { id: `kv-cache-${window}`, title: `KV cache used per model, last ${window}`, unit: 'percent', promql: `100 * (${q.kvCache})`, target: targetLine(config, model, 'kvCachePercent'), ...shown },
  ];
}

/** `diagnose latency`: the API's P95 it judges, then each model's time to first token and queue, over the SLO window. */
export function latencyChartSpecs(config: Config, nowMs: number): RangeChartSpec[] {
  const window = config.slo.window;
  const api: RangeChartSpec = {
    id: `p95-latency-${window}`,
    title: `API P95 latency, last ${window}`,
    unit: 'seconds',
    promql: config.prometheus.queries.p95Latency,
    target: { value: config.loadtest.thresholds.p95Ms / 1000, label: 'target' },
    ...chartWindow(window, nowMs),
    nameOf: (m) => labelsName(m, 'P95'),
    condense: 'largest',
    whenEmpty: `no samples over the last ${window}`,
  };
  // Time to first token and requests waiting; the KV cache is `slo`'s to chart.
  return [api, ...sloChartSpecs(config, nowMs, { window }).slice(0, 2)];
}
