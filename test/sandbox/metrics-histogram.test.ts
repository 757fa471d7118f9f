// The world exporter's histogram shaping: on vLLM's own buckets, histogram_quantile's linear
// interpolation gives back the P50 and P95 the facts set; facts the buckets can't hold are
// refused, not served approximately.
import { describe, expect, it } from 'vitest';
import { interpolatedQuantile, quantileShares } from '../../src/sandbox/metrics/histogram.js';

const TTFT = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const REQUEST = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

describe('quantileShares', () => {
  it.each([
    [TTFT, 0.09, 0.32],
    [TTFT, 0.7, 1.9],
    [REQUEST, 0.2, 0.7],
    [REQUEST, 7, 17],
  ])('%#: P50 %s and P95 %s come back', (bounds, p50, p95) => {
    const shares = quantileShares(bounds, [{ q: 0.5, value: p50 }, { q: 0.95, value: p95 }]);
    expect(interpolatedQuantile(bounds, shares, 0.5)).toBeCloseTo(p50, 9);
    expect(interpolatedQuantile(bounds, shares, 0.95)).toBeCloseTo(p95, 9);
    shares.forEach((s, i) => expect(s).toBeGreaterThanOrEqual(i ? (shares[i - 1] as number) : 0));
    expect(Math.max(...shares)).toBeLessThanOrEqual(1);
  });

  it('refuses what the buckets cannot hold: two quantiles in one bucket, a P50 below what the first bucket allows', () => {
    expect(() => quantileShares(REQUEST, [{ q: 0.5, value: 0.35 }, { q: 0.95, value: 0.45 }])).toThrow('two quantiles in the bucket up to 0.5');
    // histogram_quantile puts a rank in the first bucket on 0..0.3: half the requests can't be at 0.02.
    expect(() => quantileShares(REQUEST, [{ q: 0.5, value: 0.02 }, { q: 0.95, value: 0.7 }])).toThrow("can't give");
  });
});
