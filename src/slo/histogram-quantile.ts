// Prometheus's histogram_quantile, done on the bot's side: `slo` asks once per histogram for the
// per-bucket rates (`sum by (model, le) (rate(x_bucket[w]))`) and takes P50 and P95 from the
// same answer, where two histogram_quantile queries would each read every bucket series again.
// The arithmetic is Prometheus's bucketQuantile (promql/quantile.go): cumulative buckets sorted
// by `le`, made monotonic, linear interpolation inside the bucket holding the rank, 0 as the
// lower edge of the first bucket, and the highest finite bound for a rank in the +Inf bucket.

export interface CumulativeBucket {
  /** The upper bound; +Inf for the last one. */
  le: number;
  count: number;
}

export function bucketQuantile(q: number, input: readonly CumulativeBucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const buckets = [...input].sort((a, b) => a.le - b.le);
  const last = buckets[buckets.length - 1];
  if (buckets.length < 2 || last?.le !== Infinity) return NaN;
  for (let i = 1; i < buckets.length; i++) {
    const prev = buckets[i - 1] as CumulativeBucket;
    if ((buckets[i] as CumulativeBucket).count < prev.count) buckets[i] = { ...(buckets[i] as CumulativeBucket), count: prev.count };
  }
  const observations = last.count;
  if (!(observations > 0)) return NaN;
  let rank = q * observations;
  const b = buckets.findIndex((x) => x.count >= rank);
  if (b === buckets.length - 1) return (buckets[buckets.length - 2] as CumulativeBucket).le;
  if (b === 0 && (buckets[0] as CumulativeBucket).le <= 0) return (buckets[0] as CumulativeBucket).le;
  let start = 0;
  const end = (buckets[b] as CumulativeBucket).le;
  let count = (buckets[b] as CumulativeBucket).count;
  if (b > 0) {
    const below = buckets[b - 1] as CumulativeBucket;
    start = below.le;
    count -= below.count;
    rank -= below.count;
  }
  return start + (end - start) * (rank / count);
}
