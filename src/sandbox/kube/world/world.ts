// Everything at once: seed the Vlinders cluster into a state (the emulator), start the KubeRay
// and Job controllers, and register the exec, logs and metrics hooks with it.
import type { ClusterState, WorldHooks } from '../contract.js';
import { type VlindersExecOptions, vlindersExec } from './exec.js';
import { startJobController } from './job-controller.js';
import { startKubeRayController } from './kuberay-controller.js';
import { vlindersLogs } from './logs.js';
import { type VlindersMetricsOptions, vlindersMetrics } from './metrics.js';
import { type SeedOptions, type SeededCluster, seedVlindersCluster } from './seed.js';

export interface WorldOptions extends SeedOptions {
  /** Scheduled Ray pods turn Ready after this long (default 300 ms). */
  readyDelayMs?: number;
  /** Job pods run this long (default 300 ms). */
  jobRunMs?: number;
  exec?: Omit<VlindersExecOptions, 'state'>;
  metrics?: Omit<VlindersMetricsOptions, 'state'>;
}

export interface World {
  cluster: SeededCluster;
  hooks: WorldHooks;
  stop(): void;
}

export function startVlindersWorld(state: ClusterState & { setHooks?(hooks: WorldHooks): void }, opts: WorldOptions = {}): World {
  const cluster = seedVlindersCluster(state, opts);
  const controllers = [startKubeRayController(state, { readyDelayMs: opts.readyDelayMs }), startJobController(state, { runMs: opts.jobRunMs })];
  const hooks: WorldHooks = {
    exec: vlindersExec({ state, ...opts.exec }),
    logs: vlindersLogs({ state }),
    metrics: vlindersMetrics({ state, ...opts.metrics }),
  };
  state.setHooks?.(hooks);
  return { cluster, hooks, stop: () => controllers.forEach((c) => c.stop()) };
}
