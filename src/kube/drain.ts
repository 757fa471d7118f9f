// Cordon, uncordon and drain, as kubectl does them: a node is cordoned by setting
// spec.unschedulable; a drain then evicts the node's pods through the Eviction API
// (pods/<name>/eviction, policy/v1 Eviction), which the apiserver refuses with a 429 while a
// PodDisruptionBudget allows no disruption. DaemonSet pods are skipped (their controller ignores
// unschedulable and would recreate them there) and so are mirror pods (static pods: the kubelet
// owns them, the API can't remove them), as `kubectl drain --ignore-daemonsets` skips them.
// Evictions go to whatever namespaces the node's pods are in: RBAC grants them cluster-wide.
import type { V1Node, V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { NotFoundError } from '../core/errors.js';
import type { KubeClient } from './client.js';
import { MERGE_PATCH } from './client.js';
import { isNodeReady } from './health.js';
import { assertObjectName } from './names.js';

/** The annotation the kubelet puts on the API's copy of a static pod. */
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export async function readNode(kube: KubeClient, name: string): Promise<V1Node> {
  assertObjectName(name, 'node');
  try {
    return await kube.call({ verb: 'get', resource: 'nodes', name }, () => kube.core.readNode({ name }));
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`There is no node "${name}" on cluster ${kube.name}. \`status\` lists the nodes.`);
    throw err;
  }
}

/** Cordons (true) or uncordons (false); a merge patch with null removes the field, as kubectl uncordon leaves it. */
export function setUnschedulable(kube: KubeClient, name: string, unschedulable: boolean): Promise<V1Node> {
  assertObjectName(name, 'node');
  const body = { spec: { unschedulable: unschedulable ? true : null } };
  return kube.call({ verb: 'patch', resource: 'nodes', name }, () => kube.core.patchNode({ name, body }, MERGE_PATCH));
}

export const isCordoned = (node: V1Node): boolean => node.spec?.unschedulable === true;

export interface NodeSummary {
  ready: boolean;
  cordoned: boolean;
  gpus: string | undefined;
}

export const summarizeNode = (node: V1Node): NodeSummary => ({ ready: isNodeReady(node), cordoned: isCordoned(node), gpus: node.status?.allocatable?.['nvidia.com/gpu'] });

/** Every pod bound to the node, in every namespace. */
export async function podsOnNode(kube: KubeClient, node: string): Promise<V1Pod[]> {
  assertObjectName(node, 'node');
  const pods: V1Pod[] = [];
  for await (const pod of kube.list({ verb: 'list', resource: 'pods' }, (page) => kube.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}`, ...page }))) pods.push(pod);
  return pods;
}

export interface DrainTargets {
  /** Pods the drain evicts. */
  evict: V1Pod[];
  daemonSet: V1Pod[];
  mirror: V1Pod[];
}

const controllerKind = (pod: V1Pod): string | undefined => pod.metadata?.ownerReferences?.find((r) => r.controller)?.kind;

/** What a drain evicts and what it leaves, as kubectl drain --ignore-daemonsets sorts them. */
export function drainTargets(pods: readonly V1Pod[]): DrainTargets {
  const out: DrainTargets = { evict: [], daemonSet: [], mirror: [] };
  for (const pod of pods) {
    if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) out.mirror.push(pod);
    else if (controllerKind(pod) === 'DaemonSet') out.daemonSet.push(pod);
    else out.evict.push(pod);
  }
  return out;
}

export const podRef = (pod: V1Pod): string => `${pod.metadata?.namespace ?? '?'}/${pod.metadata?.name ?? '?'}`;

/** One eviction request; a 429 comes back as KubeTooManyRequestsError, a pod already gone as NotFoundError. */
export async function evictPod(kube: KubeClient, pod: V1Pod): Promise<void> {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  assertObjectName(namespace, 'namespace');
  assertObjectName(name, 'pod');
  const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } };
  await kube.call({ verb: 'create', resource: 'pods/eviction', namespace, name }, () => kube.core.createNamespacedPodEviction({ name, namespace, body }));
}

export async function listBudgets(kube: KubeClient): Promise<V1PodDisruptionBudget[]> {
  const budgets: V1PodDisruptionBudget[] = [];
  for await (const pdb of kube.list({ verb: 'list', resource: 'poddisruptionbudgets.policy' }, (page) => kube.policy.listPodDisruptionBudgetForAllNamespaces(page))) budgets.push(pdb);
  return budgets;
}

/** Whether a budget's selector (matchLabels and matchExpressions) selects the pod; an empty one selects nothing. */
function selects(pdb: V1PodDisruptionBudget, pod: V1Pod): boolean {
  if (pdb.metadata?.namespace !== pod.metadata?.namespace) return false;
  const selector = pdb.spec?.selector;
  const labels = pod.metadata?.labels ?? {};
  const match = Object.entries(selector?.matchLabels ?? {});
  const expressions = selector?.matchExpressions ?? [];
  if (!match.length && !expressions.length) return false;
  return (
    match.every(([k, v]) => labels[k] === v) &&
    expressions.every((e) => {
      const has = Object.hasOwn(labels, e.key);
      if (e.operator === 'Exists') return has;
      if (e.operator === 'DoesNotExist') return !has;
      const inValues = has && (e.values ?? []).includes(labels[e.key] as string);
      return e.operator === 'In' ? inValues : e.operator === 'NotIn' ? !inValues : false;
    })
  );
}

/** The budget that governs the pod's eviction (the apiserver allows only one). */
export const budgetFor = (pod: V1Pod, budgets: readonly V1PodDisruptionBudget[]): V1PodDisruptionBudget | undefined => budgets.find((b) => selects(b, pod));
