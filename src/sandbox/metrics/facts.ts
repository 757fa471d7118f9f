// What the world's metrics say, as facts every exporter family reads: the GPUs (utilization,
// temperature, XIDs), vLLM's serving state, the API's traffic, disks and the database. A
// timeline holds them over time (piecewise constant), so counters are the integral of their
// rate and history can be backfilled. `healthyFacts` is the quiet world; `brokenFacts` the one
// issue 15 names: a hot GPU, a queue building up, an XID 79 on one GPU of the second GPU node,
// a PVC at 91 %.

/** One GPU: its node and its index on the node (DCGM's `gpu` label, nvidia-smi's index). */
export interface GpuRef {
  node: string;
  gpu: number;
}

export interface GpuReading {
  utilizationPercent: number;
  temperatureCelsius: number;
}

export interface WorldFacts {
  gpus: {
    /** Every GPU not listed in `readings`. */
    default: GpuReading;
    readings: Array<GpuRef & GpuReading>;
    /** The last XID each GPU reported (DCGM_FI_DEV_XID_ERRORS holds the code); GPUs not listed report 0. */
    xids: Array<GpuRef & { code: number }>;
    /** What DCGM reports beyond that per GPU: row remapping, double-bit ECC counts, NVML's clock throttle reasons mask. GPUs not listed report none. */
    health: Array<GpuRef & { rowRemapFailure?: boolean; uncorrectableRemappedRows?: number; dbeVolatile?: number; dbeAggregate?: number; throttleReasons?: number }>;
  };
  /** vLLM behind Ray Serve, summed over its replicas. */
  vllm: {
    model: string;
    /** The vLLM version the world runs ('0.10.1': V1 metric names; before 0.7: the V0 ones). */
    version: string;
    requestsWaiting: number;
    requestsRunning: number;
    /** KV-cache use, 0..1 (vllm:kv_cache_usage_perc is a fraction despite its name). */
    kvCacheUsage: number;
    preemptionsPerSecond: number;
    /** Requests finished per second, and the P50/P95 (seconds) vLLM's latency histograms are shaped to. */
    requestsPerSecond: number;
    latency: Record<'ttft' | 'tpot' | 'e2e' | 'queue', { p50: number; p95: number }>;
    promptTokensPerSecond: number;
    generationTokensPerSecond: number;
  };
  /** The Vlinders API behind Kong (job vlinders-api). */
  api: {
    requestsPerSecond: number;
    /** Where the latency histogram's 0.95 quantile lies. */
    p95Seconds: number;
    /** Share of requests answered 5xx, 0..1. */
    errorRatio: number;
  };
  /** Used share of each PVC, by 'namespace/name', 0..1; others use `defaultUsed`. */
  pvcs: { defaultUsed: number; used: Record<string, number> };
  /** Root filesystem use per node name, 0..1; others use `defaultUsed`. */
  nodeDisks: { defaultUsed: number; used: Record<string, number> };
  database: { sizeBytes: number };
}

export function healthyFacts(): WorldFacts {
  return {
    gpus: { default: { utilizationPercent: 62, temperatureCelsius: 58 }, readings: [], xids: [], health: [] },
    vllm: {
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      version: '0.10.1',
      requestsWaiting: 0,
      requestsRunning: 6,
      kvCacheUsage: 0.42,
      preemptionsPerSecond: 0,
      requestsPerSecond: 4,
      latency: { ttft: { p50: 0.09, p95: 0.32 }, tpot: { p50: 0.02, p95: 0.06 }, e2e: { p50: 2.2, p95: 5.8 }, queue: { p50: 0.2, p95: 0.7 } },
      promptTokensPerSecond: 2400,
      generationTokensPerSecond: 880,
    },
    api: { requestsPerSecond: 40, p95Seconds: 0.22, errorRatio: 0.002 },
    pvcs: { defaultUsed: 0.35, used: {} },
    nodeDisks: { defaultUsed: 0.41, used: {} },
    database: { sizeBytes: 20 * 2 ** 30 },
  };
}

/** The broken world's facts at their worst, for a cluster whose GPU nodes are `gpuNodes` (seed order). */
export function brokenFacts(gpuNodes: readonly string[]): WorldFacts {
  const base = healthyFacts();
  const hot = gpuNodes[0] ?? 'vlinders-gpu-1';
  const failing = gpuNodes[1] ?? 'vlinders-gpu-2';
  return {
    ...base,
    gpus: {
      default: { utilizationPercent: 93, temperatureCelsius: 71 },
      readings: [{ node: hot, gpu: 0, utilizationPercent: 100, temperatureCelsius: 89 }],
      xids: [{ node: failing, gpu: 0, code: 79 }],
      // The hot GPU is past its slowdown temperature: NVML reports SW_THERMAL_SLOWDOWN (0x20).
      health: [{ node: hot, gpu: 0, throttleReasons: 0x20 }],
    },
    vllm: {
      ...base.vllm,
      requestsWaiting: 40,
      requestsRunning: 48,
      kvCacheUsage: 0.97,
      preemptionsPerSecond: 0.5,
      requestsPerSecond: 6,
      latency: { ttft: { p50: 0.7, p95: 1.9 }, tpot: { p50: 0.06, p95: 0.13 }, e2e: { p50: 7, p95: 17 }, queue: { p50: 0.9, p95: 3.5 } },
      generationTokensPerSecond: 1150,
    },
    api: { requestsPerSecond: 55, p95Seconds: 1.4, errorRatio: 0.03 },
    pvcs: { defaultUsed: 0.35, used: { 'vlinders-platform/data-postgres-0': 0.91 } },
  };
}

/** The broken world's PVC at 91 %. */
export const BROKEN_PVC = { namespace: 'vlinders-platform', name: 'data-postgres-0', used: 0.91 } as const;

/** Facts over time: each entry holds from its `from` (unix seconds) until the next one. */
export class FactsTimeline {
  private readonly entries: Array<{ from: number; facts: WorldFacts }>;

  /** `origin`: when the world's counters start at 0 (unix seconds). */
  constructor(
    readonly origin: number,
    first: WorldFacts,
  ) {
    this.entries = [{ from: origin, facts: first }];
  }

  /** From `from` on, the facts are `facts` (later changes are dropped: the timeline is rewritten from there). */
  set(from: number, facts: WorldFacts): this {
    if (from < this.origin) throw new Error(`facts set at ${from}, before the world's origin ${this.origin}`);
    const kept = this.entries.filter((e) => e.from < from);
    this.entries.splice(0, this.entries.length, ...kept, { from, facts });
    return this;
  }

  /** The facts at `t` (the first facts before the origin). */
  at(t: number): WorldFacts {
    let found = this.entries[0]!.facts;
    for (const e of this.entries) if (e.from <= t) found = e.facts;
    return found;
  }

  /** ∫ rate(facts) dt from the origin to `t`: a counter's value for a per-second rate. */
  integral(t: number, rate: (facts: WorldFacts) => number): number {
    let total = 0;
    this.entries.forEach((e, i) => {
      const end = Math.min(t, this.entries[i + 1]?.from ?? Infinity);
      if (end > e.from) total += rate(e.facts) * (end - e.from);
    });
    return total;
  }
}

/**
 * A queue building up: the broken facts from `start`, with vLLM's waiting requests rising from
 * none to the broken figure in one-minute steps over `minutes`.
 */
export function queueBuildingUp(timeline: FactsTimeline, broken: WorldFacts, start: number, minutes: number): FactsTimeline {
  for (let i = 0; i <= minutes; i++) {
    const waiting = Math.round((broken.vllm.requestsWaiting * i) / minutes);
    timeline.set(start + i * 60, { ...broken, vllm: { ...broken.vllm, requestsWaiting: waiting } });
  }
  return timeline;
}
