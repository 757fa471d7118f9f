// vLLM's /metrics (job vllm: Ray Serve's vLLM replicas, summed), named after the vLLM version
// the world runs, as vLLM's metrics loggers name them (vllm/v1/metrics/loggers.py):
// - the KV-cache gauge is vllm:kv_cache_usage_perc from 0.9 on; vllm:gpu_cache_usage_perc is
//   still there, deprecated, in 0.9 and hidden from 0.10;
// - time per output token is vllm:inter_token_latency_seconds from 0.10.2 on;
//   vllm:time_per_output_token_seconds is still there, deprecated, up to 0.11 and hidden from 0.12;
// - the V1 engine (0.8 on) labels every series with `engine` as well as `model_name`.
// The latency histograms use vLLM's own buckets, shaped so histogram_quantile gives the facts'
// P50 and P95; the counters are the integrals of the facts' rates.
import type { MetricFamily, MetricsFamilySource, MetricSample } from '../family.js';
import type { WorldFacts } from '../facts.js';
import { quantileShares } from '../histogram.js';

/** Whether `version` ("0.10.1") is at least `major.minor[.patch]`. */
export function vllmAtLeast(version: string, major: number, minor: number, patch = 0): boolean {
  const [a = 0, b = 0, c = 0] = version.split('.').map((n) => Number.parseInt(n, 10) || 0);
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/** vLLM's histogram buckets (seconds). */
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
const REQUEST_LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

type Figure = keyof WorldFacts['vllm']['latency'];

/** The names a version exports for each renamed figure (both while the old one is deprecated but shown). */
export function vllmNames(version: string): { kvCache: string[]; tpot: string[] } {
  const kvCache = vllmAtLeast(version, 0, 10) ? ['vllm:kv_cache_usage_perc'] : vllmAtLeast(version, 0, 9) ? ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'] : ['vllm:gpu_cache_usage_perc'];
  const tpot = vllmAtLeast(version, 0, 12) ? ['vllm:inter_token_latency_seconds'] : vllmAtLeast(version, 0, 10, 2) ? ['vllm:inter_token_latency_seconds', 'vllm:time_per_output_token_seconds'] : ['vllm:time_per_output_token_seconds'];
  return { kvCache, tpot };
}

export const vllm: MetricsFamilySource = {
  job: 'vllm',
  collect({ facts, integral }) {
    const { model, version } = facts.vllm;
    const labels: Record<string, string> = vllmAtLeast(version, 0, 8) ? { model_name: model, engine: '0' } : { model_name: model };
    const names = vllmNames(version);
    const gauge = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'gauge', samples: [{ labels, value }] });
    const counter = (name: string, help: string, rate: (f: WorldFacts) => number): MetricFamily => ({ name, help, type: 'counter', samples: [{ suffix: '_total', labels, value: integral(rate) }] });
    const histogram = (name: string, help: string, figure: Figure, bounds: readonly number[]): MetricFamily => {
      const shares = (f: WorldFacts) => quantileShares(bounds, [{ q: 0.5, value: f.vllm.latency[figure].p50 }, { q: 0.95, value: f.vllm.latency[figure].p95 }]);
      const requests = integral((f) => f.vllm.requestsPerSecond);
      const samples: MetricSample[] = bounds.map((le, i) => ({ suffix: '_bucket', labels: { ...labels, le: String(le) }, value: integral((f) => f.vllm.requestsPerSecond * (shares(f)[i] as number)) }));
      samples.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: requests }, { suffix: '_count', labels, value: requests }, { suffix: '_sum', labels, value: integral((f) => f.vllm.requestsPerSecond * f.vllm.latency[figure].p50) });
      return { name, help, type: 'histogram', samples };
    };
    return [
      gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', facts.vllm.requestsRunning),
      gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', facts.vllm.requestsWaiting),
      ...names.kvCache.map((name) => gauge(name, name === 'vllm:gpu_cache_usage_perc' && names.kvCache.length > 1 ? 'GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use vllm:kv_cache_usage_perc instead.' : 'KV-cache usage. 1 means 100 percent usage.', facts.vllm.kvCacheUsage)),
      counter('vllm:num_preemptions', 'Cumulative number of preemption from the engine.', (f) => f.vllm.preemptionsPerSecond),
      counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', (f) => f.vllm.promptTokensPerSecond),
      counter('vllm:generation_tokens', 'Number of generation tokens processed.', (f) => f.vllm.generationTokensPerSecond),
      histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds.', 'ttft', TTFT_BUCKETS),
      ...names.tpot.map((name) => histogram(name, name === 'vllm:inter_token_latency_seconds' ? 'Histogram of inter-token latency in seconds.' : 'Histogram of time per output token in seconds.', 'tpot', TPOT_BUCKETS)),
      histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', 'e2e', REQUEST_LATENCY_BUCKETS),
      histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', 'queue', REQUEST_LATENCY_BUCKETS),
    ];
  },
};
