// RayCluster access for scaling. A RayCluster has no scale subresource (`kubectl scale
// raycluster` does not work): worker count is spec.workerGroupSpecs[i].replicas. When a
// RayService owns the cluster, the RayCluster to patch is the one its status names active.
import type { KubeClient } from '../kube/client.js';
import { JSON_PATCH } from '../kube/client.js';
import { NotFoundError, UsageError } from '../core/errors.js';
import { GPU_RESOURCE, parseQuantity } from '../kube/health.js';

export const RAY_GROUP = 'ray.io';
export const RAY_VERSION = 'v1';

interface Container {
  name?: string;
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
}

export interface WorkerGroupSpec {
  groupName: string;
  replicas?: number;
  minReplicas?: number;
  maxReplicas?: number;
  template?: { spec?: { containers?: Container[] } };
}

export interface RayClusterObject {
  metadata: { name: string; namespace: string; resourceVersion?: string; ownerReferences?: Array<{ kind: string; name: string }> };
  spec: { enableInTreeAutoscaling?: boolean; workerGroupSpecs?: WorkerGroupSpec[] };
  status?: { state?: string; readyWorkerReplicas?: number; availableWorkerReplicas?: number; desiredWorkerReplicas?: number };
}

interface RayServiceObject {
  status?: { activeServiceStatus?: { rayClusterName?: string } };
}

export interface RayTarget {
  namespace: string;
  cluster: string;
  /** A RayService: its active RayCluster is the target. */
  service?: string;
}

/** The RayCluster to act on, and how it was found. */
export async function resolveRayCluster(kube: KubeClient, target: RayTarget): Promise<{ raycluster: RayClusterObject; via?: string }> {
  let name = target.cluster;
  let via: string | undefined;
  if (target.service) {
    const svc = (await kube.call({ verb: 'get', resource: 'rayservices.ray.io', namespace: target.namespace, name: target.service }, () =>
      kube.custom.getNamespacedCustomObject({ group: RAY_GROUP, version: RAY_VERSION, namespace: target.namespace, plural: 'rayservices', name: target.service as string }),
    )) as RayServiceObject;
    const active = svc.status?.activeServiceStatus?.rayClusterName;
    if (!active) throw new NotFoundError(`RayService ${target.namespace}/${target.service} has no active RayCluster yet (status.activeServiceStatus.rayClusterName is empty).`);
    name = active;
    via = `RayService ${target.service}`;
  }
  const raycluster = (await kube.call({ verb: 'get', resource: 'rayclusters.ray.io', namespace: target.namespace, name }, () =>
    kube.custom.getNamespacedCustomObject({ group: RAY_GROUP, version: RAY_VERSION, namespace: target.namespace, plural: 'rayclusters', name }),
  )) as RayClusterObject;
  return { raycluster, via };
}

export function findWorkerGroup(rc: RayClusterObject, groupName: string): { index: number; group: WorkerGroupSpec } {
  const groups = rc.spec.workerGroupSpecs ?? [];
  const index = groups.findIndex((g) => g.groupName === groupName);
  const group = groups[index];
  if (!group) {
    const names = groups.map((g) => g.groupName).join(', ') || 'none';
    throw new UsageError(`RayCluster ${rc.metadata.name} has no worker group "${groupName}" (it has: ${names})`);
  }
  return { index, group };
}

/** maxReplicas when a group has none: the CRD's default, KubeRay's math.MaxInt32. */
const INT32_MAX = 2147483647;

/**
 * How many workers the KubeRay operator runs for a group: replicas clamped to
 * [minReplicas, maxReplicas], minReplicas when replicas is absent (KubeRay's
 * utils.GetWorkerGroupDesiredReplicas). On a real cluster replicas is never absent, since the
 * CRD defaults it to 0, so a group declared with minReplicas 2 alone reads back replicas 0 and
 * runs 2 workers: read the count here, never from replicas.
 */
export function desiredWorkers(group: WorkerGroupSpec): number {
  const min = group.minReplicas ?? 0;
  const max = group.maxReplicas ?? INT32_MAX;
  if (group.replicas === undefined || group.replicas < min) return min;
  return Math.min(group.replicas, max);
}

export function gpusPerWorker(group: WorkerGroupSpec): number {
  return (group.template?.spec?.containers ?? []).reduce((n, c) => n + Math.max(parseQuantity(c.resources?.limits?.[GPU_RESOURCE]), parseQuantity(c.resources?.requests?.[GPU_RESOURCE])), 0);
}

/**
 * Sets a worker group's replicas with a JSON patch whose `test` ops pin what the plan saw:
 * the group at that index and its replica count. A concurrent edit fails the patch (422).
 * The apiserver fills in the CRD's default (0) whenever it decodes a RayCluster, on writes and
 * on reads from etcd alike (KEP-575), so replicas is always there to test and replace; an
 * object that somehow lacks it fails the test, and nothing changes.
 */
export async function patchWorkerReplicas(kube: KubeClient, rc: RayClusterObject, index: number, group: WorkerGroupSpec, replicas: number): Promise<void> {
  const base = `/spec/workerGroupSpecs/${index}`;
  const ops = [
    { op: 'test', path: `${base}/groupName`, value: group.groupName },
    { op: 'test', path: `${base}/replicas`, value: group.replicas ?? 0 },
    { op: 'replace', path: `${base}/replicas`, value: replicas },
  ];
  const { name, namespace } = rc.metadata;
  await kube.call({ verb: 'patch', resource: 'rayclusters.ray.io', namespace, name }, () =>
    kube.custom.patchNamespacedCustomObject({ group: RAY_GROUP, version: RAY_VERSION, namespace, plural: 'rayclusters', name, body: ops }, JSON_PATCH),
  );
}

export const workerSelector = (cluster: string, group: string) => `ray.io/cluster=${cluster},ray.io/node-type=worker,ray.io/group=${group}`;
