// A small KubeRay operator for the world: worker pods follow workerGroupSpecs[].replicas
// (clamped to [minReplicas, maxReplicas]), land on GPU nodes with free `nvidia.com/gpu` or
// stay Pending with the scheduler's message, turn Ready after a delay, and the RayCluster
// status follows. Deleting a RayCluster deletes its pods and services (the store's garbage collector).
import type { ClusterState } from '../contract.js';
import type { Node, Pod } from './objects.js';
import { GpuLedger } from './scheduler.js';
import { ipv4, isPod, isReady, placementOf, podGpus, podStatus } from './objects.js';
import type { RayCluster } from './ray.js';
import { CLUSTER_LABEL, RAY_API } from './ray.js';
import { type RayEnv, reconcileRayCluster } from './reconcile.js';
import { startLoop } from './loop.js';

export interface KubeRayControllerOptions {
  /** How long a scheduled Ray pod takes to turn Running and Ready (default 300 ms). */
  readyDelayMs?: number;
}

export interface Controller {
  stop(): void;
}

export function startKubeRayController(state: ClusterState, opts: KubeRayControllerOptions = {}): Controller {
  const readyDelayMs = opts.readyDelayMs ?? 300;
  // Built on first need (listing every pod once), then kept current from the watch.
  let ledger: GpuLedger | undefined;
  let nodes: Node[] | undefined; // per pass
  let ips = 0;

  const env: RayEnv = {
    state,
    get ledger() {
      return (ledger ??= GpuLedger.fromPods(state.list('v1', 'Pod')));
    },
    nodes: () => (nodes ??= state.list('v1', 'Node') as Node[]),
    // Away from the seeder's 10.244/16 and 10.96/16 ranges.
    podIP: () => ipv4(++ips, [10, 246]),
    serviceIP: () => ipv4(++ips, [10, 100]),
    start: 'later',
    onCreating: (pod) => loop.later(`ready:${pod.metadata.namespace}/${pod.metadata.name}`, readyDelayMs, () => markReady(pod.metadata.namespace, pod.metadata.name)),
  };

  /** The kubelet's part: containers up, probes passing. Not on a node that stopped reporting. */
  function markReady(ns: string, name: string): void {
    const pod = state.get('v1', 'Pod', ns, name) as Pod | undefined;
    if (!pod?.spec.nodeName || pod.status.phase !== 'Pending') return;
    const node = state.get('v1', 'Node', undefined, pod.spec.nodeName) as Node | undefined;
    if (!node || !isReady(node.status.conditions)) return;
    state.replace({ ...pod, status: podStatus(pod, { kind: 'running' }, placementOf(pod)) });
  }

  const loop = startLoop(state, {
    onEvent({ type, object }) {
      // A deleted RayCluster's pods and services go with it: the garbage collector follows their ownerReferences.
      if (object.apiVersion === RAY_API && object.kind === 'RayCluster') return type !== 'DELETED';
      if (isPod(object)) {
        ledger?.observe(object, type === 'DELETED');
        // Ray pods change status; any GPU pod coming or going changes what fits.
        return object.metadata.labels?.[CLUSTER_LABEL] !== undefined || podGpus(object) > 0;
      }
      return object.apiVersion === 'v1' && object.kind === 'Node';
    },
    pass() {
      nodes = undefined;
      for (const rc of state.list(RAY_API, 'RayCluster') as RayCluster[]) if (!rc.metadata.deletionTimestamp) reconcileRayCluster(env, rc);
    },
  });
  return { stop: () => loop.stop() };
}
