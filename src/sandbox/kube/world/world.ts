// Everything at once: seed the Vlinders cluster into a state (the emulator), start the KubeRay
// and Job controllers, and register the exec, logs and metrics hooks with it.
import type { ClusterState, WorldHooks } from '../contract.js';
import { type VlindersExecOptions, chainExec, vlindersExec } from './exec.js';
import { type PostgresExecOptions, postgresExec, seedPostgresSecret } from './postgres-exec.js';
import { startDeploymentController } from './deployment-controller.js';
import { startJobController } from './job-controller.js';
import { startKubeRayController } from './kuberay-controller.js';
import { vlindersLogs } from './logs.js';
import { type VlindersMetricsOptions, vlindersMetrics } from './metrics.js';
import { type SeedOptions, type SeededCluster, seedVlindersCluster } from './seed.js';
import { olderVersion } from './platform.js';

export interface WorldOptions extends SeedOptions {
  /** Scheduled Ray pods turn Ready after this long (default 300 ms). */
  readyDelayMs?: number;
  /** Job pods run this long (default 300 ms). */
  jobRunMs?: number;
  /** A rolled-out Deployment's new pods turn Ready after this long (default 300 ms). */
  rolloutReadyDelayMs?: number;
  /** New pods of these Deployments (by name) crash in CrashLoopBackOff: their rollout never completes. */
  crashingRollouts?: readonly string[];
  exec?: Omit<VlindersExecOptions, 'state'>;
  metrics?: Omit<VlindersMetricsOptions, 'state'>;
  /** postgres-0 runs the real pg_dump/psql against this server; its password is in the postgres-credentials Secret. */
  postgres?: Omit<PostgresExecOptions, 'state'>;
}

export interface World {
  cluster: SeededCluster;
  hooks: WorldHooks;
  stop(): void;
}

export function startVlindersWorld(state: ClusterState & { setHooks?(hooks: WorldHooks): void }, opts: WorldOptions = {}): World {
  const cluster = seedVlindersCluster(state, opts);
  const controllers = [startKubeRayController(state, { readyDelayMs: opts.readyDelayMs }), startJobController(state, { runMs: opts.jobRunMs }),
    startDeploymentController(state, { readyDelayMs: opts.rolloutReadyDelayMs, crash: (d) => opts.crashingRollouts?.includes(d.metadata.name) ?? false }),
  ];
  if (opts.postgres) seedPostgresSecret(state, opts.postgres.server);
  const hooks: WorldHooks = {
    exec: chainExec(vlindersExec({ state, ...opts.exec }), ...(opts.postgres ? [postgresExec({ state, ...opts.postgres })] : [])),
    logs: vlindersLogs({ state }),
    metrics: vlindersMetrics({ state, ...opts.metrics }),
    ...(opts.kubernetesMinor !== undefined ? { version: olderVersion(opts.kubernetesMinor) } : {}),
  };
  state.setHooks?.(hooks);
  return { cluster, hooks, stop: () => controllers.forEach((c) => c.stop()) };
}
