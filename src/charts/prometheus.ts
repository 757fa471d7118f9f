// Charts read from Prometheus: a range query becomes a LineChart, or, when Prometheus can't be
// read, the one line a report shows in its place.
import { errorMessage } from '../core/errors.js';
import type { PrometheusClient, Series } from '../prometheus/client.js';
import { condenseSeries, type Condense } from './condense.js';
import type { ChartSeries, LineChart } from './spec.js';

export interface RangeChartSpec extends Omit<LineChart, 'series' | 'note'> {
  promql: string;
  stepSeconds: number;
  /** How a series is named in the legend; default its labels. */
  nameOf?: (metric: Record<string, string>) => string;
  /** Which series to keep (the Vlinders namespaces' PVCs). */
  keep?: (metric: Record<string, string>) => boolean;
  condense?: Condense;
  /** Said instead of a chart with no series at all, where a blank picture would tell nothing. */
  whenEmpty?: string;
}

/** A chart, or the one line said instead of it. */
export type ChartOutcome = { chart: LineChart } | { line: string };

/** `{namespace="x", pod="y"}` as `namespace=x pod=y`; a series without labels by `fallback`. */
export function labelsName(metric: Record<string, string>, fallback = 'value'): string {
  const parts = Object.entries(metric)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join(' ') : (metric.__name__ ?? fallback);
}

/** Series from a range query answer, as a chart has them. */
export function chartSeries(series: Series[], spec: Pick<RangeChartSpec, 'nameOf' | 'keep' | 'condense'>): { series: ChartSeries[]; note?: string } {
  const kept = series.filter((s) => spec.keep?.(s.metric) ?? true);
  const named = kept.map((s) => ({ name: (spec.nameOf ?? labelsName)(s.metric), points: s.points }));
  return condenseSeries(named, spec.condense);
}

/** The line said in place of a chart Prometheus could not give. */
export const notDrawn = (title: string, why: string) => `📉 ${title}: chart not drawn: ${why}`;

export async function rangeChart(prom: PrometheusClient | undefined, spec: RangeChartSpec, signal?: AbortSignal): Promise<ChartOutcome> {
  if (!prom) return { line: notDrawn(spec.title, 'prometheus.url is not configured') };
  let answer: Series[];
  try {
    answer = await prom.queryRange(spec.promql, { start: spec.from, end: spec.to, stepSeconds: spec.stepSeconds }, { signal });
  } catch (err) {
    return { line: notDrawn(spec.title, `⚠️ Prometheus could not be read: ${errorMessage(err)}`) };
  }
  const chart = chartFromSeries(spec, answer);
  if (chart.series.length === 0 && spec.whenEmpty) return { line: notDrawn(spec.title, spec.whenEmpty) };
  return { chart };
}

export function chartFromSeries(spec: RangeChartSpec, answer: Series[]): LineChart {
  const { series, note } = chartSeries(answer, spec);
  const { promql: _q, stepSeconds: _s, nameOf: _n, keep: _k, condense: _c, whenEmpty: _e, ...shown } = spec;
  return { ...shown, series, ...(note ? { note } : {}) };
}

/** Each spec read and drawn at once: the report's charts, and a line for each it could not draw. */
export async function rangeCharts(prom: PrometheusClient | undefined, specs: readonly RangeChartSpec[], signal?: AbortSignal): Promise<{ charts: LineChart[]; lines: string[] }> {
  return chartsAndLines(await Promise.all(specs.map((spec) => rangeChart(prom, spec, signal))));
}

/** Splits outcomes into the report's charts and the lines said instead. */
export function chartsAndLines(outcomes: ChartOutcome[]): { charts: LineChart[]; lines: string[] } {
  const charts: LineChart[] = [];
  const lines: string[] = [];
  for (const o of outcomes) {
    if ('chart' in o) charts.push(o.chart);
    else lines.push(o.line);
  }
  return { charts, lines };
}
