// A chart stays readable: past MAX_SERIES lines (a fleet of GPU nodes, every PVC) the series
// are condensed: into the fleet's envelope (highest, mean and lowest at each time), or into
// the largest few by their last value.
import type { ChartSeries } from './spec.js';

export const MAX_SERIES = 10;

export type Condense = 'envelope' | 'largest';

const lastValue = (s: ChartSeries) => {
  for (let i = s.points.length - 1; i >= 0; i--) {
    const v = (s.points[i] as [number, number])[1];
    if (Number.isFinite(v)) return v;
  }
  return -Infinity;
};

export function condenseSeries(series: ChartSeries[], how: Condense = 'envelope', max = MAX_SERIES): { series: ChartSeries[]; note?: string } {
  if (series.length <= max) return { series };
  if (how === 'largest') {
    return { series: [...series].sort((a, b) => lastValue(b) - lastValue(a)).slice(0, max), note: `the ${max} largest of ${series.length} series` };
  }
  const byTime = new Map<number, number[]>();
  for (const s of series) {
    for (const [t, v] of s.points) {
      if (!Number.isFinite(v)) continue;
      const at = byTime.get(t);
      if (at) at.push(v);
      else byTime.set(t, [v]);
    }
  }
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const pick = (f: (vs: number[]) => number): Array<[number, number]> => times.map((t) => [t, f(byTime.get(t) as number[])]);
  return {
    series: [
      { name: 'highest', points: pick((vs) => vs.reduce((a, b) => Math.max(a, b), -Infinity)) },
      { name: 'mean', points: pick((vs) => vs.reduce((a, b) => a + b, 0) / vs.length) },
      { name: 'lowest', points: pick((vs) => vs.reduce((a, b) => Math.min(a, b), Infinity)) },
    ],
    note: `${series.length} series: highest, mean and lowest at each time`,
  };
}
