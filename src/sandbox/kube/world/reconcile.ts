// One pass of the KubeRay operator over a RayCluster, plus the scheduler's part for its pods:
// make the head and its service, bring each worker group to its clamped replicas, bind Pending
// workers when GPUs free up, and write the status. The seeder runs it once with pods coming up
// at once; the controller runs it on every change, with pods turning Ready after a delay.
import type { ClusterState } from '../contract.js';
import type { Node, Pod, PodHealth } from './objects.js';
import { troubleEvent } from './objects.js';
import type { RayCluster, WorkerGroupSpec } from './ray.js';
import { CLUSTER_LABEL, NODE_TYPE_LABEL, RAY_API, buildHeadService, buildRayPod, desiredReplicas, headServiceName, isWorkerOf, rayClusterStatus } from './ray.js';
import type { GpuLedger } from './scheduler.js';
import { applyPlacement, placePod } from './scheduler.js';

export interface RayEnv {
  state: ClusterState;
  ledger: GpuLedger;
  nodes(): readonly Node[];
  podIP(): string;
  serviceIP(): string;
  /** 'now': bound pods start Running and Ready (seeding); 'later': ContainerCreating, see onCreating. */
  start: 'now' | 'later';
  /** Called for every bound worker still creating its containers; the controller times its readiness. */
  onCreating?(pod: Pod): void;
}

/** Schedules and creates a Ray pod; Pending with the scheduler's message when nothing fits. */
function createPod(env: RayEnv, pod: Pod): Pod {
  const placed = placePod(pod, env.nodes(), env.ledger);
  applyPlacement(pod, placed, started(env), env.podIP);
  const created = env.state.create(pod) as Pod;
  env.ledger.observe(created);
  const why = 'node' in placed ? undefined : troubleEvent(created, { kind: 'unschedulable', message: placed.message });
  if (why) env.state.create(why);
  return created;
}

/** Retries a Pending pod; rewrites it when it now fits, or when the scheduler's message changed. */
function retry(env: RayEnv, pod: Pod): Pod {
  const placed = placePod(pod, env.nodes(), env.ledger);
  if (!('node' in placed) && pod.status.conditions?.find((c) => c.type === 'PodScheduled')?.message === placed.message) return pod;
  const written = env.state.replace(applyPlacement(structuredClone(pod), placed, started(env), env.podIP)) as Pod;
  env.ledger.observe(written);
  return written;
}

/** Which workers go when scaling down: those named in workersToDelete, then Pending, then unready, then the newest. */
function victims(workers: Pod[], group: WorkerGroupSpec, count: number): Pod[] {
  const named = new Set(group.scaleStrategy?.workersToDelete ?? []);
  const rank = (p: Pod): number => (named.has(p.metadata.name) ? 0 : !p.spec.nodeName ? 1 : p.status.phase !== 'Running' ? 2 : 3);
  return [...workers]
    .sort((a, b) => rank(a) - rank(b) || (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || b.metadata.name.localeCompare(a.metadata.name))
    .slice(0, count);
}

const started = (env: RayEnv): PodHealth => ({ kind: env.start === 'now' ? 'running' : 'creating' });

const isCreating = (p: Pod): boolean => !!p.spec.nodeName && p.status.phase === 'Pending' && !!p.status.containerStatuses?.some((c) => (c.state.waiting as { reason?: string } | undefined)?.reason === 'ContainerCreating');

export function reconcileRayCluster(env: RayEnv, rc: RayCluster): void {
  const { state } = env;
  const ns = rc.metadata.namespace as string;
  let pods = (state.list('v1', 'Pod', ns) as Pod[]).filter((p) => p.metadata.labels?.[CLUSTER_LABEL] === rc.metadata.name && !p.metadata.deletionTimestamp);

  let service = state.get('v1', 'Service', ns, headServiceName(rc));
  if (!service) service = state.create(buildHeadService(rc, env.serviceIP()));
  if (!pods.some((p) => p.metadata.labels?.[NODE_TYPE_LABEL] === 'head')) pods.push(createPod(env, buildRayPod(rc, 'head')));

  for (const group of rc.spec.workerGroupSpecs ?? []) {
    const workers = pods.filter((p) => isWorkerOf(p, group.groupName));
    const want = desiredReplicas(group);
    for (let i = workers.length; i < want; i++) pods.push(createPod(env, buildRayPod(rc, group)));
    if (workers.length > want) {
      const gone = new Set(victims(workers, group, workers.length - want));
      for (const p of gone) {
        state.remove('v1', 'Pod', ns, p.metadata.name);
        env.ledger.observe(p, true);
      }
      pods = pods.filter((p) => !gone.has(p));
    }
  }

  // Oldest first, as the scheduling queue would take them.
  const pending = pods.filter((p) => !p.spec.nodeName).sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
  for (const p of pending) {
    const after = retry(env, p);
    pods = pods.map((x) => (x === p ? after : x));
  }
  for (const p of pods) if (isCreating(p)) env.onCreating?.(p);

  // Status last, on a fresh read: the spec may have changed under us (a patch between passes).
  const fresh = state.get(RAY_API, 'RayCluster', ns, rc.metadata.name) as RayCluster | undefined;
  if (!fresh) return;
  const status = rayClusterStatus(fresh, pods, service);
  const strip = (s: unknown): string => JSON.stringify({ ...(s as object), lastUpdateTime: undefined });
  if (strip(status) !== strip(fresh.status)) state.replace({ ...fresh, status });
}
