// The world of bench/slo-gpu-health.ts in its own process, so building ~100k series for each
// scrape doesn't hold up the commands being measured (or count against their memory). The DCGM
// family as the tests use it, on 64 GPU nodes; vLLM from the bench family below. Args: workers
// gpus-per-node models. Prints one JSON line {targets} on stdout; exits when stdin closes.
import { Store } from '../src/sandbox/kube/store.js';
import { seedVlindersCluster } from '../src/sandbox/kube/world/index.js';
import { MetricsExporter, WorldMetrics } from '../src/sandbox/metrics/exporter.js';
import { FactsTimeline, brokenFacts } from '../src/sandbox/metrics/facts.js';
import type { MetricFamily, MetricsFamilySource, MetricSample } from '../src/sandbox/metrics/family.js';
import { dcgm } from '../src/sandbox/metrics/families/dcgm.js';
import { quantileShares } from '../src/sandbox/metrics/histogram.js';

const BUCKETS = {
  ttft: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0],
  tpot: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0],
  request: [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0],
};

/** vLLM V1 on every worker, one replica per model: the broken world's figures, per replica. */
export function fleetVllm(workers: number, models: number): MetricsFamilySource {
  return {
    job: 'vllm',
    collect({ facts, integral }) {
      const v = facts.vllm;
      const replicas = Array.from({ length: workers * models }, (_, i) => ({ model_name: `org/model-${i % models}`, engine: '0', pod: `vlinders-ray-cluster-gpu-workers-worker-${Math.floor(i / models)}` }));
      // Each replica's share of the fleet's counters.
      const per = (rate: (f: typeof facts) => number) => integral(rate) / (workers * models);
      const gauge = (name: string, value: number): MetricFamily => ({ name, help: name, type: 'gauge', samples: replicas.map((labels) => ({ labels, value })) });
      const counter = (name: string, rate: (f: typeof facts) => number): MetricFamily => ({ name, help: name, type: 'counter', samples: replicas.map((labels) => ({ suffix: '_total', labels, value: per(rate) })) });
      const histogram = (name: string, figure: keyof typeof v.latency, bounds: number[]): MetricFamily => {
        const shares = quantileShares(bounds, [{ q: 0.5, value: v.latency[figure].p50 }, { q: 0.95, value: v.latency[figure].p95 }]);
        const n = per((f) => f.vllm.requestsPerSecond);
        const samples: MetricSample[] = [];
        for (const labels of replicas) {
          bounds.forEach((le, i) => samples.push({ suffix: '_bucket', labels: { ...labels, le: String(le) }, value: n * (shares[i] as number) }));
          samples.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: n }, { suffix: '_count', labels, value: n }, { suffix: '_sum', labels, value: n * v.latency[figure].p50 });
        }
        return { name, help: name, type: 'histogram', samples };
      };
      return [
        gauge('vllm:num_requests_running', v.requestsRunning / models),
        gauge('vllm:num_requests_waiting', v.requestsWaiting / models),
        gauge('vllm:kv_cache_usage_perc', v.kvCacheUsage),
        counter('vllm:num_preemptions', (f) => f.vllm.preemptionsPerSecond),
        counter('vllm:prompt_tokens', (f) => f.vllm.promptTokensPerSecond),
        counter('vllm:generation_tokens', (f) => f.vllm.generationTokensPerSecond),
        histogram('vllm:time_to_first_token_seconds', 'ttft', BUCKETS.ttft),
        histogram('vllm:inter_token_latency_seconds', 'tpot', BUCKETS.tpot),
        histogram('vllm:e2e_request_latency_seconds', 'e2e', BUCKETS.request),
        histogram('vllm:request_queue_time_seconds', 'queue', BUCKETS.request),
      ];
    },
  };
}

const [workers, gpusPerNode, models] = process.argv.slice(2).map(Number) as [number, number, number];
const state = new Store();
const cluster = seedVlindersCluster(state, { gpuNodes: workers, gpusPerNode });
const metrics = new WorldMetrics({ state, timeline: new FactsTimeline(Math.floor(Date.now() / 1000) - 3600, brokenFacts(cluster.nodes.gpu)), families: [dcgm, fleetVllm(workers, models)] });
const exporter = await MetricsExporter.start(metrics);
process.stdout.write(`${JSON.stringify({ targets: exporter.targets })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void exporter.close().then(() => process.exit(0)));
