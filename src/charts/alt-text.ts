// The chart in words, for screen readers and for anyone who can't see the image: per series
// its lowest, highest and last value, the target, and when each series crossed it.
import { formatValue, utcMinute, type ChartSeries, type LineChart } from './spec.js';

/** Slack's files.getUploadURLExternal refuses a longer alt_txt (alt_txt_too_large). */
export const MAX_ALT_TEXT = 1000;

interface Crossings {
  count: number;
  lastAt?: number;
  endsAbove: boolean;
}

/** Times a series went from at-or-below the target to above it, or back (gaps skipped). */
export function crossings(points: Array<[number, number]>, target: number): Crossings {
  let count = 0;
  let lastAt: number | undefined;
  let above: boolean | undefined;
  for (const [t, v] of points) {
    if (!Number.isFinite(v)) continue;
    const now = v > target;
    if (above !== undefined && now !== above) {
      count++;
      lastAt = t;
    }
    above = now;
  }
  return { count, lastAt, endsAbove: above ?? false };
}

function seriesWords(s: ChartSeries, chart: LineChart): string {
  const values = s.points.filter(([, v]) => Number.isFinite(v));
  if (values.length === 0) return `${s.name}: no samples`;
  let min = values[0] as [number, number];
  let max = min;
  for (const p of values) {
    if (p[1] < min[1]) min = p;
    if (p[1] > max[1]) max = p;
  }
  const last = values[values.length - 1] as [number, number];
  const f = (v: number) => formatValue(chart.unit, v);
  const parts = [`min ${f(min[1])}`, `max ${f(max[1])} at ${utcMinute(max[0]).slice(11)}`, `last ${f(last[1])}`];
  if (chart.target) {
    const c = crossings(values, chart.target.value);
    const side = c.endsAbove ? 'above' : 'at or below';
    parts.push(c.count === 0 ? `always ${side} the target` : `crossed the target ${c.count} time${c.count === 1 ? '' : 's'}, last at ${utcMinute(c.lastAt as number).slice(11)}, ends ${side} it`);
  }
  return `${s.name}: ${parts.join(', ')}`;
}

export function chartAltText(chart: LineChart): string {
  const head = [`Line chart: ${chart.title}, ${utcMinute(chart.from)} to ${utcMinute(chart.to)}.`];
  if (chart.target) head.push(`Target ${formatValue(chart.unit, chart.target.value)} (${chart.target.label}).`);
  if (chart.note) head.push(`${chart.note}.`);
  if (chart.series.length === 0) head.push('No samples in this window.');
  let text = head.join(' ');
  for (const [i, s] of chart.series.entries()) {
    const next = `${text} ${seriesWords(s, chart)}.`;
    const rest = chart.series.length - i;
    const tail = ` … and ${rest} more series.`;
    if (next.length + (rest > 1 ? tail.length : 0) > MAX_ALT_TEXT) return (text + tail).slice(0, MAX_ALT_TEXT);
    text = next;
  }
  return text.length > MAX_ALT_TEXT ? `${text.slice(0, MAX_ALT_TEXT - 1)}…` : text;
}
