// The Vlinders API's request metrics (job vlinders-api), named as prometheus-fastapi-
// instrumentator names them: the latency histogram `http_request_duration_seconds` and
// `http_requests_total` by grouped status ("2xx", "5xx"). The histogram's cumulative buckets
// are shaped so that histogram_quantile(0.95, rate(...)) lands on the facts' P95 (linear within
// the bucket that holds it, as Prometheus interpolates).
import type { MetricsFamilySource, MetricSample } from '../family.js';
import { quantileShares } from '../histogram.js';

export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10] as const;
const ROUTE = { handler: '/v1/chat/completions', method: 'POST' };

/** The share of requests at or under each bucket bound whose 0.95 quantile is `p95` (clamped into the finite buckets). */
export function latencyShares(p95: number): number[] {
  const top = LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
  return quantileShares(LATENCY_BUCKETS, [{ q: 0.95, value: Math.min(Math.max(p95, 0.001), top * 0.99) }]);
}

export const vlindersApi: MetricsFamilySource = {
  job: 'vlinders-api',
  collect({ integral }) {
    const requests = integral((f) => f.api.requestsPerSecond);
    const buckets: MetricSample[] = LATENCY_BUCKETS.map((le, i) => ({ suffix: '_bucket', labels: { ...ROUTE, le: String(le) }, value: integral((f) => f.api.requestsPerSecond * latencyShares(f.api.p95Seconds)[i]!) }));
    buckets.push({ suffix: '_bucket', labels: { ...ROUTE, le: '+Inf' }, value: requests });
    return [
      {
        name: 'http_request_duration_seconds',
        help: 'Latency with only few buckets by handler.',
        type: 'histogram',
        samples: [...buckets, { suffix: '_count', labels: ROUTE, value: requests }, { suffix: '_sum', labels: ROUTE, value: integral((f) => f.api.requestsPerSecond * f.api.p95Seconds * 0.6) }],
      },
      {
        name: 'http_requests',
        help: 'Total number of requests by method, status and handler.',
        type: 'counter',
        samples: [
          { suffix: '_total', labels: { ...ROUTE, status: '2xx' }, value: integral((f) => f.api.requestsPerSecond * (1 - f.api.errorRatio)) },
          { suffix: '_total', labels: { ...ROUTE, status: '5xx' }, value: integral((f) => f.api.requestsPerSecond * f.api.errorRatio) },
        ],
      },
    ];
  },
};
