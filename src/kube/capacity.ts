// Requested against allocatable GPU, CPU and memory over the whole cluster: nodes, then every
// active scheduled pod a page at a time (the scheduler's own sum: containers' requests, or the
// largest init container's when that is more).
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { GPU_RESOURCE, isNodeReady, parseQuantity, podIsActive } from './health.js';

export type CapacityResource = 'gpu' | 'cpu' | 'memory';
const KEYS: Record<CapacityResource, string> = { gpu: GPU_RESOURCE, cpu: 'cpu', memory: 'memory' };

export interface ResourceCapacity {
  allocatable: number;
  requested: number;
}

export interface ClusterCapacity {
  nodes: number;
  readyNodes: number;
  resources: Record<CapacityResource, ResourceCapacity>;
  /** Nodes with at least 90 % of some resource requested. */
  fullNodes: Array<{ node: string; resource: CapacityResource; percent: number }>;
}

const sumOf = (containers: V1Container[] | undefined, key: string) => (containers ?? []).reduce((n, c) => n + parseQuantity(c.resources?.requests?.[key] ?? c.resources?.limits?.[key]), 0);
const maxOf = (containers: V1Container[] | undefined, key: string) => Math.max(0, ...(containers ?? []).map((c) => parseQuantity(c.resources?.requests?.[key] ?? c.resources?.limits?.[key])));

/** What a pod takes from its node for one resource, as the scheduler counts it. */
export function podRequest(pod: V1Pod, resource: CapacityResource): number {
  const key = KEYS[resource];
  return Math.max(sumOf(pod.spec?.containers, key), maxOf(pod.spec?.initContainers, key));
}

export async function clusterCapacity(kube: KubeClient): Promise<ClusterCapacity> {
  const resources = Object.keys(KEYS) as CapacityResource[];
  const perNode = new Map<string, { alloc: Record<CapacityResource, number>; req: Record<CapacityResource, number> }>();
  let readyNodes = 0;
  for await (const node of kube.list({ verb: 'list', resource: 'nodes' }, (page) => kube.core.listNode(page))) {
    const a = node.status?.allocatable ?? {};
    if (isNodeReady(node)) readyNodes++;
    perNode.set(node.metadata?.name ?? '?', { alloc: { gpu: parseQuantity(a[GPU_RESOURCE]), cpu: parseQuantity(a.cpu), memory: parseQuantity(a.memory) }, req: { gpu: 0, cpu: 0, memory: 0 } });
  }
  for await (const pod of kube.list({ verb: 'list', resource: 'pods' }, (page) => kube.core.listPodForAllNamespaces(page))) {
    const entry = perNode.get(pod.spec?.nodeName ?? '');
    if (!entry || !podIsActive(pod)) continue;
    for (const r of resources) entry.req[r] += podRequest(pod, r);
  }
  const total = Object.fromEntries(resources.map((r) => [r, { allocatable: 0, requested: 0 }])) as Record<CapacityResource, ResourceCapacity>;
  const fullNodes: ClusterCapacity['fullNodes'] = [];
  for (const [node, { alloc, req }] of perNode) {
    for (const r of resources) {
      total[r].allocatable += alloc[r];
      total[r].requested += req[r];
      if (alloc[r] > 0 && req[r] / alloc[r] >= 0.9) fullNodes.push({ node, resource: r, percent: Math.round((req[r] / alloc[r]) * 100) });
    }
  }
  fullNodes.sort((a, b) => b.percent - a.percent);
  return { nodes: perNode.size, readyNodes, resources: total, fullNodes };
}
