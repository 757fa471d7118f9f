// What a chart shows, independent of how it is drawn: line series over time, in one unit,
// with an optional target line. Reports carry these (Report.charts); each surface renders
// them (Slack uploads a PNG, the terminal writes one with --chart FILE).
import { formatBytes } from '../digest/format.js';
import { formatSeconds } from '../digest/latency-trend.js';

export type ChartUnit = 'percent' | 'seconds' | 'bytes' | 'hours' | 'number';

export interface ChartSeries {
  name: string;
  /** [unix seconds, value], oldest first; NaN for a gap (no sample). */
  points: Array<[number, number]>;
}

export interface LineChart {
  /** Also the file's name: charts/<id>.png. */
  id: string;
  title: string;
  unit: ChartUnit;
  series: ChartSeries[];
  /** A line to stay under (or above): the 500 ms P95 target. */
  target?: { value: number; label: string };
  /** The window shown (unix seconds), so an empty stretch still shows as empty. */
  from: number;
  to: number;
  /** Said under the legend when the series were condensed (1,000 nodes can't each be a line). */
  note?: string;
}

/** A value as people read it in this unit: "73%", "420 ms", "1.50 GiB", "12 h". */
export function formatValue(unit: ChartUnit, v: number): string {
  if (!Number.isFinite(v)) return String(v);
  switch (unit) {
    case 'percent':
      return `${Math.round(v * 10) / 10}%`;
    case 'seconds':
      return formatSeconds(v);
    case 'bytes':
      return formatBytes(v);
    case 'hours':
      return `${Math.round(v * 10) / 10} h`;
    default:
      return Math.abs(v) >= 1000 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
  }
}

/** "2026-12-06 13:05 UTC" */
export const utcMinute = (seconds: number) => `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
