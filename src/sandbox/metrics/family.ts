// The contract between the world's metrics exporter and its families. A family is one real
// exporter's series (kube-state-metrics, the kubelet's volume stats, DCGM, vLLM...), read from
// the cluster state and the world's facts at a time.
//
// Adding a family: write families/<exporter>.ts exporting a `MetricsFamilySource` whose
// `collect` returns the series the real exporter serves (names, labels and types as its docs
// say), from `ctx.state` (the emulator's objects) and `ctx.facts` (what the world says at
// `ctx.t`); counters are `ctx.integral(rate)`, so they only grow and `rate()` gives `rate`
// back. Then add it to WORLD_FAMILIES in families/index.ts. Its `job` is the scrape job
// Prometheus files it under (the `job` label queries match), one job per real exporter.
import type { ClusterState } from '../kube/contract.js';
import type { WorldFacts } from './facts.js';
import type { MetricFamily } from './exposition.js';

export interface CollectContext {
  state: ClusterState;
  /** The facts at `t`. */
  facts: WorldFacts;
  /** Unix seconds the series are read at. */
  t: number;
  /** A counter's value at `t`: the integral of `rate` (per second, from the facts) since the world's origin. */
  integral(rate: (facts: WorldFacts) => number): number;
}

export interface MetricsFamilySource {
  /** The scrape job (Prometheus's `job` label), e.g. 'kube-state-metrics'. */
  job: string;
  collect(ctx: CollectContext): MetricFamily[];
}

export type { MetricFamily, MetricSample } from './exposition.js';
