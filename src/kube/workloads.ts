// Is a named platform workload up, and are the pods a selector picks Ready: the questions
// preflight and verify ask of the databases, the gateway, monitoring, the GPU Operator and the CNI.
import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { podFinding } from './health.js';

export interface WorkloadState {
  kind: 'Deployment' | 'StatefulSet';
  namespace: string;
  name: string;
  desired: number;
  ready: number;
}

const stateOf = (kind: WorkloadState['kind'], w: V1Deployment | V1StatefulSet): WorkloadState => ({
  kind,
  namespace: w.metadata?.namespace ?? '',
  name: w.metadata?.name ?? '',
  desired: w.spec?.replicas ?? 1,
  ready: w.status?.readyReplicas ?? 0,
});

/** The Deployment or StatefulSet of that name in the namespace, or undefined. */
export async function findWorkload(kube: KubeClient, namespace: string, name: string): Promise<WorkloadState | undefined> {
  for await (const d of kube.list({ verb: 'list', resource: 'deployments.apps', namespace }, (page) => kube.apps.listNamespacedDeployment({ namespace, ...page }))) {
    if (d.metadata?.name === name) return stateOf('Deployment', d);
  }
  for await (const s of kube.list({ verb: 'list', resource: 'statefulsets.apps', namespace }, (page) => kube.apps.listNamespacedStatefulSet({ namespace, ...page }))) {
    if (s.metadata?.name === name) return stateOf('StatefulSet', s);
  }
  return undefined;
}

export const isWorkloadReady = (w: WorkloadState): boolean => w.desired > 0 && w.ready >= w.desired;
export const workloadText = (w: WorkloadState): string => `${w.kind} ${w.namespace}/${w.name} ${w.ready}/${w.desired} ready`;

export interface PodCensus {
  total: number;
  ready: number;
  /** Why the first few pods that are not Running and Ready are not. */
  problems: string[];
}

/** Pods across all namespaces that match a label selector, counted Ready or not. */
export async function podCensus(kube: KubeClient, labelSelector: string): Promise<PodCensus> {
  const census: PodCensus = { total: 0, ready: 0, problems: [] };
  for await (const pod of kube.list({ verb: 'list', resource: 'pods' }, (page) => kube.core.listPodForAllNamespaces({ labelSelector, ...page }))) {
    census.total++;
    const finding = podFinding(pod);
    if (!finding) census.ready++;
    else if (census.problems.length < 3) census.problems.push(`${finding.subject}: ${finding.reason}`);
  }
  return census;
}
