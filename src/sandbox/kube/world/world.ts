// Everything at once: seed the Vlinders cluster into a state (the emulator), start the KubeRay
// and Job controllers, and register the exec, logs and metrics hooks with it.
import type { ClusterState, WorldHooks } from '../contract.js';
import { type VlindersExecOptions, chainExec, vlindersExec } from './exec.js';
import { type PostgresExecOptions, postgresExec, seedPostgresSecret, seedSigningSecret } from './postgres-exec.js';
import { startDeploymentController } from './deployment-controller.js';
import { startDisruptionController } from './disruption-controller.js';
import { startJobController } from './job-controller.js';
import { jobRuns, withJobLogs } from './job-runs.js';
import { type K6RunOptions, k6Runner, seedLoadtestScript } from './k6-run.js';
import { type ModelFilesOptions, startModelFiles } from './model-files.js';
import { startKubeRayController } from './kuberay-controller.js';
import { startKubelet } from './kubelet.js';
import { vlindersLogs } from './logs.js';
import { type VlindersMetricsOptions, vlindersMetrics } from './metrics.js';
import { type SeedOptions, type SeededCluster, seedVlindersCluster } from './seed.js';
import { olderVersion } from './platform.js';

export interface WorldOptions extends SeedOptions {
  /** Scheduled Ray pods turn Ready after this long (default 300 ms). */
  readyDelayMs?: number;
  /** Job pods run this long (default 300 ms). */
  jobRunMs?: number;
  /** A Terminating pod's containers stop, and the kubelet deletes it, after this long (default 200 ms). */
  terminationMs?: number;
  /** A rolled-out Deployment's new pods turn Ready after this long (default 300 ms). */
  rolloutReadyDelayMs?: number;
  /** New pods of these Deployments (by name) crash in CrashLoopBackOff: their rollout never completes. */
  crashingRollouts?: readonly string[];
  /** The models PVC's backing directory and how the model Jobs behave. */
  models?: ModelFilesOptions;
  /** The numbers the k6 Job's summary reports. */
  k6?: K6RunOptions;
  exec?: Omit<VlindersExecOptions, 'state'>;
  metrics?: Omit<VlindersMetricsOptions, 'state'>;
  /** postgres-0 runs the real pg_dump/psql against this server; its password is in the postgres-credentials Secret. */
  postgres?: Omit<PostgresExecOptions, 'state'>;
}

export interface World {
  cluster: SeededCluster;
  hooks: WorldHooks;
  /** The models PVC's backing directory. */
  models: { dir: string };
  stop(): void;
}

export function startVlindersWorld(state: ClusterState & { setHooks?(hooks: WorldHooks): void }, opts: WorldOptions = {}): World {
  const cluster = seedVlindersCluster(state, opts);
  const I = cluster.namespaces.inference;
  const models = startModelFiles(state, I, (state.get('v1', 'ConfigMap', I, 'vlinders-config')?.data as Record<string, string> | undefined)?.model, opts.models);
  seedLoadtestScript(state, cluster.namespaces.platform);
  const jobs = jobRuns(state, { ...models.runners, loadtest: k6Runner(opts.k6) });
  const controllers = [startKubeRayController(state, { readyDelayMs: opts.readyDelayMs }), startJobController(state, { runMs: opts.jobRunMs, run: jobs.run }),
    startDeploymentController(state, { readyDelayMs: opts.rolloutReadyDelayMs, crash: (d) => opts.crashingRollouts?.includes(d.metadata.name) ?? false }),
    startKubelet(state, { terminationMs: opts.terminationMs }),
    startDisruptionController(state),
  ];
  if (opts.postgres) {
    seedPostgresSecret(state, opts.postgres.server);
    seedSigningSecret(state);
  }
  const hooks: WorldHooks = {
    exec: chainExec(vlindersExec({ state, ...opts.exec }), ...(opts.postgres ? [postgresExec({ state, ...opts.postgres })] : [])),
    logs: withJobLogs(jobs.source, vlindersLogs({ state })),
    metrics: vlindersMetrics({ state, ...opts.metrics }),
    ...(opts.kubernetesMinor !== undefined ? { version: olderVersion(opts.kubernetesMinor) } : {}),
  };
  state.setHooks?.(hooks);
  return {
    cluster,
    hooks,
    models: { dir: models.dir },
    stop: () => {
      controllers.forEach((c) => c.stop());
      models.stop();
    },
  };
}
