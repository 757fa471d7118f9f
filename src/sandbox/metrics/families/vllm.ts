// vLLM's scheduler gauges and preemption counter (job vllm: Ray Serve's vLLM replicas, summed),
// named after the vLLM version the world runs: `vllm:kv_cache_usage_perc` from 0.10 on,
// `vllm:gpu_cache_usage_perc` before (removed one minor version after its deprecation). wt/slo
// extends this file with the latency histograms and token counters.
import type { MetricsFamilySource } from '../family.js';

/** Whether `version` ("0.10.1") is at least `major.minor`. */
export function vllmAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

export const vllm: MetricsFamilySource = {
  job: 'vllm',
  collect({ facts, integral }) {
    const labels = { model_name: facts.vllm.model, engine: '0' };
    const kvName = vllmAtLeast(facts.vllm.version, 0, 10) ? 'vllm:kv_cache_usage_perc' : 'vllm:gpu_cache_usage_perc';
    return [
      { name: 'vllm:num_requests_running', help: 'Number of requests in model execution batches.', type: 'gauge', samples: [{ labels, value: facts.vllm.requestsRunning }] },
      { name: 'vllm:num_requests_waiting', help: 'Number of requests waiting to be processed.', type: 'gauge', samples: [{ labels, value: facts.vllm.requestsWaiting }] },
      { name: kvName, help: 'KV-cache usage. 1 means 100 percent usage.', type: 'gauge', samples: [{ labels, value: facts.vllm.kvCacheUsage }] },
      { name: 'vllm:num_preemptions', help: 'Cumulative number of preemption from the engine.', type: 'counter', samples: [{ suffix: '_total', labels, value: integral((f) => f.vllm.preemptionsPerSecond) }] },
    ];
  },
};
