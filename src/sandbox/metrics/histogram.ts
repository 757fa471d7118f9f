// A histogram's cumulative bucket shares shaped so that Prometheus's histogram_quantile lands on
// given quantiles: it interpolates linearly inside the bucket holding a rank, so within that
// bucket the shares are set on the line through the wanted (value, quantile) point. Between
// them the shares follow a straight CDF through the points. Facts a bucket layout can't hold
// (two quantiles in one bucket, or one too close to a bucket's lower edge) are refused rather
// than served wrong.
import { bucketQuantile } from '../../slo/histogram-quantile.js';

export interface QuantilePoint {
  q: number;
  /** Seconds (or whatever unit the buckets are in). */
  value: number;
}

/** What histogram_quantile computes from cumulative shares at `bounds` (the +Inf bucket holding 1). */
export function interpolatedQuantile(bounds: readonly number[], shares: readonly number[], q: number): number {
  return bucketQuantile(q, [...bounds.map((le, i) => ({ le, count: shares[i] as number })), { le: Infinity, count: 1 }]);
}

/** Cumulative shares (0..1) at each finite bucket bound, for the quantile points. */
export function quantileShares(bounds: readonly number[], points: readonly QuantilePoint[]): number[] {
  const pts = [...points].sort((a, b) => a.q - b.q);
  const top = bounds[bounds.length - 1] as number;
  // The straight CDF through the points, reaching 1 at three times the last point (or the top bound).
  const knots: Array<[number, number]> = [[0, 0], ...pts.map((p) => [p.value, p.q] as [number, number]), [Math.min(top, 3 * (pts[pts.length - 1]?.value ?? top)), 1]];
  const straight = (x: number) => {
    for (let i = 1; i < knots.length; i++) {
      const [x0, y0] = knots[i - 1] as [number, number];
      const [x1, y1] = knots[i] as [number, number];
      if (x <= x1) return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
    return 1;
  };
  const shares = bounds.map(straight);
  const fixed = new Set<number>();
  for (const p of pts) {
    const k = bounds.findIndex((b) => p.value <= b);
    if (k === -1) throw new Error(`a quantile at ${p.value} is past the top bucket bound ${top}`);
    if (fixed.has(k)) throw new Error(`two quantiles in the bucket up to ${bounds[k]}: this layout can't hold both`);
    const lo = k === 0 ? 0 : (bounds[k - 1] as number);
    const t = (p.value - lo) / ((bounds[k] as number) - lo);
    const next = shares[k + 1] ?? 1;
    let low: number;
    if (k === 0) low = 0;
    else if (fixed.has(k - 1)) low = shares[k - 1] as number;
    else {
      // Room below (down to the bound before) and above (up to the bound after), halved to stay monotone.
      const before = k >= 2 ? (shares[k - 2] as number) : 0;
      const rise = 0.5 * Math.min(t > 0 ? (p.q - before) / t : Infinity, t < 1 ? (next - p.q) / (1 - t) : Infinity);
      low = p.q - t * rise;
      shares[k - 1] = low;
      fixed.add(k - 1);
    }
    shares[k] = t > 0 ? (p.q - (1 - t) * low) / t : next;
    fixed.add(k);
  }
  const monotone = shares.every((s, i) => s >= 0 && s <= 1 && (i === 0 || s >= (shares[i - 1] as number)));
  if (!monotone) throw new Error(`the buckets ${bounds.join(',')} can't give ${pts.map((p) => `quantile ${p.q} = ${p.value}`).join(' and ')}: choose values further apart`);
  for (const p of pts) {
    const got = interpolatedQuantile(bounds, shares, p.q);
    if (Math.abs(got - p.value) > p.value * 0.001) throw new Error(`the buckets ${bounds.join(',')} would give quantile ${p.q} = ${got}, not ${p.value}`);
  }
  return shares;
}
