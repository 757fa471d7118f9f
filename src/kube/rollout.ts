// `kubectl rollout restart` and `kubectl rollout status` for a Deployment: the restart is a
// merge patch of the pod template's restartedAt annotation, guarded by the resourceVersion the
// plan saw (a concurrent edit is a 409, and nothing changes); the status reads the Deployment
// the way kubectl does (observedGeneration, updated, ready and available replicas) and says why
// each pod that isn't Ready isn't.
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { MERGE_PATCH } from './client.js';
import { isPodServing } from './health.js';
import { assertLabelName, assertObjectName } from './names.js';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export function readDeployment(kube: KubeClient, namespace: string, name: string): Promise<V1Deployment> {
  assertLabelName(namespace, 'namespace');
  assertObjectName(name, 'deployment');
  return kube.call({ verb: 'get', resource: 'deployments.apps', namespace, name }, () => kube.apps.readNamespacedDeployment({ name, namespace }));
}

/** Sets restartedAt on the pod template; fails with a 409 if the Deployment changed since `resourceVersion`. */
export function restartDeployment(kube: KubeClient, namespace: string, name: string, resourceVersion: string, at: Date): Promise<V1Deployment> {
  assertLabelName(namespace, 'namespace');
  assertObjectName(name, 'deployment');
  const body = { metadata: { resourceVersion }, spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at.toISOString() } } } } };
  return kube.call({ verb: 'patch', resource: 'deployments.apps', namespace, name }, () => kube.apps.patchNamespacedDeployment({ name, namespace, body }, MERGE_PATCH));
}

export interface PodTrouble {
  pod: string;
  why: string;
}

export interface RolloutState {
  replicas: number;
  updated: number;
  ready: number;
  available: number;
  /** Updated pods that are Ready (the not-Ready pods counted as the new ones: a rollout keeps old pods until new ones are Ready). */
  updatedReady: number;
  /** The Deployment controller has seen the latest spec. */
  observed: boolean;
  /** The controller has seen the latest spec, and every replica is updated, ready and available. */
  done: boolean;
  notReady: PodTrouble[];
}

/** Why a pod isn't Ready, in the words `kubectl get pods` and `describe` would use. */
export function whyNotReady(p: V1Pod): string {
  if (p.metadata?.deletionTimestamp) return 'Terminating';
  for (const c of p.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason) {
      const last = c.lastState?.terminated;
      const exit = last?.exitCode !== undefined ? `, last exit code ${last.exitCode}` : '';
      return `${c.name}: ${waiting.reason}${c.restartCount ? ` (${c.restartCount} restarts${exit})` : ''}`;
    }
  }
  const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (scheduled) return `Pending: ${scheduled.message ?? scheduled.reason ?? 'not scheduled'}`;
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  return `${p.status?.phase ?? 'Unknown'}${ready?.reason ? `: ${ready.reason}` : ''}`;
}

export function selectorOf(d: V1Deployment): string {
  return Object.entries(d.spec?.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Where the Deployment's rollout stands, as `kubectl rollout status` judges it. */
export async function rolloutState(kube: KubeClient, namespace: string, name: string): Promise<RolloutState> {
  const d = await readDeployment(kube, namespace, name);
  const replicas = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const updated = s.updatedReplicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const done = observed && updated === replicas && ready === replicas && available === replicas && (s.replicas ?? 0) === replicas;
  const total = s.replicas ?? 0;
  const updatedReady = observed ? Math.max(0, Math.min(updated, ready, updated - Math.max(0, total - ready))) : 0;
  const notReady: PodTrouble[] = [];
  if (!done) {
    const labelSelector = selectorOf(d);
    for await (const pod of kube.list({ verb: 'list', resource: 'pods', namespace }, (page) => kube.core.listNamespacedPod({ namespace, labelSelector, ...page }))) {
      if (!isPodServing(pod)) notReady.push({ pod: pod.metadata?.name ?? '?', why: whyNotReady(pod) });
    }
  }
  return { replicas, updated: observed ? updated : 0, ready, available, updatedReady, observed, done, notReady };
}
