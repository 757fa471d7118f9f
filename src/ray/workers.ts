// vLLM's settings ConfigMap and the Ray worker pods that read it, in the inference namespace.
//
// How the workers pick up a changed setting: vLLM reads gpu_memory_utilization once, when the
// engine starts in the worker's process. KubeRay does not roll worker pods when a RayCluster's
// pod template changes (it only creates missing pods and deletes surplus ones; a restartedAt
// annotation on workerGroupSpecs[].template would reach new pods only), so the way to restart
// them is KubeRay's own: delete a worker, and the operator creates a replacement to bring the
// group back to its replicas. Doing it one worker at a time keeps the rest serving.
import { isPodServing } from '../kube/health.js';
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import type { KubeClient } from '../kube/client.js';
import { JSON_PATCH, MERGE_PATCH } from '../kube/client.js';
import { assertLabelName, assertObjectName } from '../kube/names.js';
import { workerSelector } from './raycluster.js';

export function readSettings(kube: KubeClient, namespace: string, name: string): Promise<V1ConfigMap> {
  assertLabelName(namespace, 'namespace');
  assertObjectName(name, 'configmap');
  return kube.call({ verb: 'get', resource: 'configmaps', namespace, name }, () => kube.core.readNamespacedConfigMap({ name, namespace }));
}

/** Sets one key; a 409 if the ConfigMap changed since `resourceVersion`. */
export function patchSetting(kube: KubeClient, namespace: string, name: string, key: string, value: string, resourceVersion: string): Promise<V1ConfigMap> {
  assertLabelName(namespace, 'namespace');
  assertObjectName(name, 'configmap');
  const body = { metadata: { resourceVersion }, data: { [key]: value } };
  return kube.call({ verb: 'patch', resource: 'configmaps', namespace, name }, () => kube.core.patchNamespacedConfigMap({ name, namespace, body }, MERGE_PATCH));
}

const pointer = (key: string) => `/data/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

/**
 * Sets (or, with `to` undefined, removes) one key with a JSON patch that first tests the
 * resourceVersion and the key's old value: after a concurrent edit the API refuses it (422)
 * and nothing changes.
 */
export function replaceSetting(kube: KubeClient, namespace: string, name: string, key: string, change: { from: string | undefined; to: string | undefined; resourceVersion?: string }): Promise<V1ConfigMap> {
  assertLabelName(namespace, 'namespace');
  assertObjectName(name, 'configmap');
  const body: Array<Record<string, string>> = [];
  if (change.resourceVersion) body.push({ op: 'test', path: '/metadata/resourceVersion', value: change.resourceVersion });
  if (change.from !== undefined) body.push({ op: 'test', path: pointer(key), value: change.from });
  if (change.to === undefined) {
    if (change.from !== undefined) body.push({ op: 'remove', path: pointer(key) });
  } else body.push({ op: change.from === undefined ? 'add' : 'replace', path: pointer(key), value: change.to });
  return kube.call({ verb: 'patch', resource: 'configmaps', namespace, name }, () => kube.core.patchNamespacedConfigMap({ name, namespace, body }, JSON_PATCH));
}

export async function listWorkers(kube: KubeClient, namespace: string, cluster: string, group: string): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  for await (const pod of kube.list({ verb: 'list', resource: 'pods', namespace }, (page) => kube.core.listNamespacedPod({ namespace, labelSelector: workerSelector(cluster, group), ...page }))) {
    if (!pod.metadata?.deletionTimestamp) pods.push(pod);
  }
  return pods;
}

export async function deleteWorker(kube: KubeClient, namespace: string, name: string): Promise<void> {
  assertLabelName(namespace, 'namespace');
  assertObjectName(name, 'pod');
  await kube.call({ verb: 'delete', resource: 'pods', namespace, name }, () => kube.core.deleteNamespacedPod({ name, namespace }));
}

export const isWorkerReady = isPodServing;
