// One pass over a cluster for `status`: nodes, every pod (paged, so 30,000 pods cost one
// page of memory at a time), PVCs and workloads in the Vlinders namespaces. Only what needs
// attention is kept, plus the counts that say what was checked.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { KubeClient } from './client.js';
import { GPU_RESOURCE, isNodeReady, nodeFindings, parseQuantity, podFinding, podGpus, podIsActive, pvcFinding, workloadFinding, type Finding } from './health.js';

export interface NodeGpu {
  name: string;
  ready: boolean;
  allocatable: number;
  requested: number;
}

export interface ClusterSurvey {
  nodes: { total: number; ready: number; gpu: NodeGpu[] };
  pods: { total: number; inNamespaces: number };
  pvcs: number;
  workloads: number;
  usage?: { cpuPercent: number; memoryPercent: number; hottest: Array<{ node: string; cpuPercent: number; memoryPercent: number }> };
  usageError?: string;
  findings: Finding[];
}

/** Only what the GPU and usage summaries need of a node: 1,000 whole nodes are tens of MB. */
const slim = (node: V1Node): V1Node => ({ metadata: { name: node.metadata?.name }, status: { allocatable: node.status?.allocatable, conditions: node.status?.conditions } });

/** GPUs per GPU node: allocatable against what active pods bound to it request. */
export async function gpuInventory(kube: KubeClient): Promise<NodeGpu[]> {
  const nodes: V1Node[] = [];
  for await (const node of kube.list({ verb: 'list', resource: 'nodes' }, (page) => kube.core.listNode(page))) nodes.push(slim(node));
  const requested = await surveyPods(kube);
  return gpuNodes(nodes, requested);
}

/** GPU requests per node over every active pod; `onPod` sees each pod on the way. */
async function surveyPods(kube: KubeClient, onPod?: (pod: V1Pod) => void): Promise<Map<string, number>> {
  const requested = new Map<string, number>();
  for await (const pod of kube.list({ verb: 'list', resource: 'pods' }, (page) => kube.core.listPodForAllNamespaces(page))) {
    onPod?.(pod);
    const node = pod.spec?.nodeName;
    if (node && podIsActive(pod)) {
      const gpus = podGpus(pod);
      if (gpus > 0) requested.set(node, (requested.get(node) ?? 0) + gpus);
    }
  }
  return requested;
}

function gpuNodes(nodes: V1Node[], requested: Map<string, number>): NodeGpu[] {
  return nodes
    .filter((n) => parseQuantity(n.status?.allocatable?.[GPU_RESOURCE]) > 0)
    .map((n) => {
      const name = n.metadata?.name ?? '?';
      return { name, ready: isNodeReady(n), allocatable: parseQuantity(n.status?.allocatable?.[GPU_RESOURCE]), requested: requested.get(name) ?? 0 };
    });
}

export async function surveyCluster(kube: KubeClient, namespaces: readonly string[]): Promise<ClusterSurvey> {
  const findings: Finding[] = [];
  const nodes: V1Node[] = [];
  for await (const node of kube.list({ verb: 'list', resource: 'nodes' }, (page) => kube.core.listNode(page))) {
    nodes.push(slim(node));
    findings.push(...nodeFindings(node));
  }
  const watched = new Set(namespaces);
  let pods = 0;
  let inNamespaces = 0;
  const requested = await surveyPods(kube, (pod) => {
    pods++;
    if (!watched.has(pod.metadata?.namespace ?? '')) return;
    inNamespaces++;
    const f = podFinding(pod);
    if (f) findings.push(f);
  });

  let pvcs = 0;
  let workloads = 0;
  for (const namespace of namespaces) {
    for await (const pvc of kube.list({ verb: 'list', resource: 'persistentvolumeclaims', namespace }, (page) => kube.core.listNamespacedPersistentVolumeClaim({ namespace, ...page }))) {
      pvcs++;
      const f = pvcFinding(pvc);
      if (f) findings.push(f);
    }
    for await (const d of kube.list({ verb: 'list', resource: 'deployments.apps', namespace }, (page) => kube.apps.listNamespacedDeployment({ namespace, ...page }))) {
      workloads++;
      const f = workloadFinding('deployment', d);
      if (f) findings.push(f);
    }
    for await (const s of kube.list({ verb: 'list', resource: 'statefulsets.apps', namespace }, (page) => kube.apps.listNamespacedStatefulSet({ namespace, ...page }))) {
      workloads++;
      const f = workloadFinding('statefulset', s);
      if (f) findings.push(f);
    }
  }

  const survey: ClusterSurvey = {
    nodes: { total: nodes.length, ready: nodes.filter(isNodeReady).length, gpu: gpuNodes(nodes, requested) },
    pods: { total: pods, inNamespaces },
    pvcs,
    workloads,
    findings,
  };
  try {
    survey.usage = await nodeUsage(kube, nodes);
    for (const hot of survey.usage.hottest) {
      if (hot.cpuPercent >= 90 || hot.memoryPercent >= 90) {
        findings.push({ severity: 'warn', subject: `node ${hot.node}`, reason: `CPU ${hot.cpuPercent}%, memory ${hot.memoryPercent}% of allocatable` });
      }
    }
  } catch (err) {
    survey.usageError = (err as Error).message;
  }
  return survey;
}

async function nodeUsage(kube: KubeClient, nodes: V1Node[]): Promise<NonNullable<ClusterSurvey['usage']>> {
  const metrics = await kube.nodeMetrics();
  const alloc = new Map(nodes.map((n) => [n.metadata?.name ?? '', n.status?.allocatable ?? {}]));
  let cpuUsed = 0;
  let cpuAlloc = 0;
  let memUsed = 0;
  let memAlloc = 0;
  const per: Array<{ node: string; cpuPercent: number; memoryPercent: number }> = [];
  for (const item of metrics.items) {
    const a = alloc.get(item.metadata.name);
    if (!a) continue;
    const cpu = parseQuantity(item.usage.cpu);
    const mem = parseQuantity(item.usage.memory);
    const ac = parseQuantity(a.cpu);
    const am = parseQuantity(a.memory);
    cpuUsed += cpu;
    cpuAlloc += ac;
    memUsed += mem;
    memAlloc += am;
    per.push({ node: item.metadata.name, cpuPercent: ac ? Math.round((cpu / ac) * 100) : 0, memoryPercent: am ? Math.round((mem / am) * 100) : 0 });
  }
  per.sort((x, y) => Math.max(y.cpuPercent, y.memoryPercent) - Math.max(x.cpuPercent, x.memoryPercent));
  return {
    cpuPercent: cpuAlloc ? Math.round((cpuUsed / cpuAlloc) * 100) : 0,
    memoryPercent: memAlloc ? Math.round((memUsed / memAlloc) * 100) : 0,
    hottest: per.slice(0, 20),
  };
}
