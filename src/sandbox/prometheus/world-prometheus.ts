// The sandbox's Prometheus for what its stub holds no answer for: `slo` (vLLM's histograms and
// gauges, the API's counters) and `gpu health` (DCGM's fields). The real Prometheus scrapes the
// world's metrics exporter (src/sandbox/metrics), which reads the same facts the tests use, with
// the last hour backfilled so rate() and max_over_time() have history at once. It starts on
// first use, as postgres-0's server does: most sandbox commands never ask.
import type { ClusterState } from '../kube/contract.js';
import { FactsTimeline, brokenFacts } from '../metrics/facts.js';
import { MetricsExporter, WorldMetrics } from '../metrics/exporter.js';
import { GPU } from '../kube/world/objects.js';
import { PROMETHEUS_BIN, requireBinary, startPrometheus } from './real.js';

/** What `slo` and `gpu health` say in the sandbox when the real Prometheus is not installed. */
export const PROMETHEUS_MISSING = 'install prometheus to read vLLM and DCGM series here (Debian: apt-get install prometheus)';

/** The jobs whose history the sandbox's queries read (the others are scraped live only). */
const HISTORY_JOBS = ['vllm', 'vlinders-api', 'dcgm-exporter'];
const HISTORY_SECONDS = 3600;

export interface OnDemandPrometheus {
  /** The real Prometheus's URL, started (with its exporter) on the first call; rejects when it can't run. */
  url(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The broken world's facts for the GPU nodes of `state` in seed order: the sandbox's alert is a
 * vLLM queue backlog (alertmanager/demo.ts), and these are its facts — a queue of 40, a hot GPU
 * on the first GPU node, an XID 79 on GPU 0 of the second.
 */
export function sandboxFacts(state: ClusterState) {
  const gpuNodes = state
    .list('v1', 'Node')
    .filter((n) => Number((n.status as { capacity?: Record<string, string> } | undefined)?.capacity?.[GPU] ?? 0) > 0)
    .map((n) => n.metadata.name);
  return brokenFacts(gpuNodes);
}

export function worldPrometheusOnDemand(state: ClusterState): OnDemandPrometheus {
  let started: Promise<{ url: string; stop(): Promise<void> }> | undefined;
  const start = async () => {
    await requireBinary(PROMETHEUS_BIN).catch(() => Promise.reject(new Error(PROMETHEUS_MISSING)));
    const now = Math.floor(Date.now() / 1000);
    const exporter = await MetricsExporter.start(new WorldMetrics({ state, timeline: new FactsTimeline(now - HISTORY_SECONDS - 100, sandboxFacts(state)) }));
    try {
      const history = exporter.history([{ start: now - HISTORY_SECONDS, end: now - 30, stepSeconds: 60, jobs: HISTORY_JOBS }]);
      const prometheus = await startPrometheus({ targets: exporter.targets, history, intervalSeconds: 15 });
      return { url: prometheus.url, stop: async () => (await prometheus.stop(), await exporter.close()) };
    } catch (err) {
      await exporter.close();
      throw err;
    }
  };
  return {
    url: async () => (await (started ??= start())).url,
    close: async () => {
      const running = await started?.catch(() => undefined);
      await running?.stop();
    },
  };
}
