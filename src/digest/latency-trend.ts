// The P95 latency trend over the last 4 weeks: the configured PromQL as a range query every
// 6 h, summarised per week (mean and worst of the samples) and first week against last.
import type { Series } from '../prometheus/client.js';

export interface WeekLatency {
  /** Unix seconds the week starts at. */
  start: number;
  meanSeconds: number;
  maxSeconds: number;
  samples: number;
}

export const TREND_WEEKS = 4;
export const TREND_STEP_SECONDS = 6 * 3600;

/** Samples of every series, bucketed into the weeks before `endSeconds`; NaN (no traffic) skipped. */
export function weeklyLatency(series: Series[], endSeconds: number, weeks = TREND_WEEKS): WeekLatency[] {
  const week = 7 * 86_400;
  const start = endSeconds - weeks * week;
  const buckets = Array.from({ length: weeks }, (_, i) => ({ start: start + i * week, sum: 0, max: 0, samples: 0 }));
  for (const s of series) {
    for (const [t, v] of s.points) {
      if (!Number.isFinite(v)) continue;
      const b = buckets[Math.min(weeks - 1, Math.floor((t - start) / week))];
      if (!b || t < start) continue;
      b.sum += v;
      b.max = Math.max(b.max, v);
      b.samples++;
    }
  }
  return buckets.filter((b) => b.samples > 0).map((b) => ({ start: b.start, meanSeconds: b.sum / b.samples, maxSeconds: b.max, samples: b.samples }));
}

export const formatSeconds = (s: number) => (s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`);

/** "+35%" from the first week's mean to the last one's; undefined with fewer than two weeks. */
export function trendChange(weeks: WeekLatency[]): number | undefined {
  const first = weeks[0];
  const last = weeks[weeks.length - 1];
  if (!first || !last || weeks.length < 2 || first.meanSeconds <= 0) return undefined;
  return Math.round(((last.meanSeconds - first.meanSeconds) / first.meanSeconds) * 100);
}
