// Just enough of kube-scheduler for the world's GPU story: the filters that decide where a
// Ray pod may go (unschedulable, taints, node selector, free `nvidia.com/gpu`) and, when
// nothing fits, the scheduler's own FitError message ("0/N nodes are available: ...").
// CPU and memory are not checked: the world sizes its nodes so GPUs always run out first.
import type { KubeObject } from '../contract.js';
import type { Node, Pod, PodHealth, Taint, Toleration } from './objects.js';
import { GPU, isPod, nodeIP, objectKey, podGpus, podStatus, quantity, timestamp } from './objects.js';

/** GPUs held on each node by bound, unfinished pods; fed every pod write. */
export class GpuLedger {
  private readonly held = new Map<string, { node: string; gpus: number }>();
  private readonly perNode = new Map<string, number>();

  static fromPods(pods: Iterable<KubeObject>): GpuLedger {
    const ledger = new GpuLedger();
    for (const p of pods) ledger.observe(p);
    return ledger;
  }

  /** Records a pod's current version (or its deletion). Idempotent. */
  observe(obj: KubeObject, deleted = false): void {
    if (!isPod(obj)) return;
    const k = objectKey(obj);
    const before = this.held.get(k);
    if (before) {
      this.perNode.set(before.node, (this.perNode.get(before.node) ?? 0) - before.gpus);
      this.held.delete(k);
    }
    const phase = obj.status?.phase;
    const node = obj.spec?.nodeName;
    const gpus = podGpus(obj);
    if (deleted || !node || gpus === 0 || phase === 'Succeeded' || phase === 'Failed') return;
    this.held.set(k, { node, gpus });
    this.perNode.set(node, (this.perNode.get(node) ?? 0) + gpus);
  }

  used(node: string): number {
    return this.perNode.get(node) ?? 0;
  }
}

const tolerates = (tolerations: Toleration[], t: Taint): boolean =>
  tolerations.some(
    (tol) =>
      (!tol.effect || tol.effect === t.effect) &&
      (tol.operator === 'Exists' ? !tol.key || tol.key === t.key : tol.key === t.key && (tol.value ?? '') === (t.value ?? '')),
  );

/** Why a node can't take the pod, in the scheduler's words (filters in its plugin order), or undefined. */
function misfit(pod: Pod, node: Node, ledger: GpuLedger): { reason: string; resource: boolean } | undefined {
  if (node.spec.unschedulable) return { reason: 'node(s) were unschedulable', resource: false };
  const untolerated = (node.spec.taints ?? []).find((t) => t.effect !== 'PreferNoSchedule' && !tolerates(pod.spec.tolerations ?? [], t));
  if (untolerated) return { reason: `node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`, resource: false };
  const selector = pod.spec.nodeSelector ?? {};
  if (Object.entries(selector).some(([k, v]) => node.metadata.labels?.[k] !== v)) return { reason: "node(s) didn't match Pod's node affinity/selector", resource: false };
  const want = podGpus(pod);
  if (want > 0 && quantity(node.status.allocatable[GPU]) - ledger.used(node.metadata.name) < want) return { reason: `Insufficient ${GPU}`, resource: true };
  return undefined;
}

/** "3 Insufficient nvidia.com/gpu, 1 node(s) ..." sorted as strings, the way the scheduler sorts them. */
const histogram = (reasons: string[]): string => {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).sort().join(', ');
};

export type PlaceResult = { node: Node } | { message: string };

/**
 * Picks a node for the pod: among the nodes that pass every filter, the one with the most
 * free GPUs (then by name), as LeastAllocated scoring would. Nothing fits: the FitError text,
 * including the preemption post-filter's verdict (no victims: every pod has the same priority).
 */
export function placePod(pod: Pod, nodes: readonly Node[], ledger: GpuLedger): PlaceResult {
  let best: Node | undefined;
  let bestFree = -1;
  const reasons: string[] = [];
  const preemption: string[] = [];
  for (const node of nodes) {
    const why = misfit(pod, node, ledger);
    if (why) {
      reasons.push(why.reason);
      preemption.push(why.resource ? 'No preemption victims found for incoming pod' : 'Preemption is not helpful for scheduling');
      continue;
    }
    const free = quantity(node.status.allocatable[GPU]) - ledger.used(node.metadata.name);
    if (free > bestFree || (free === bestFree && best && node.metadata.name < best.metadata.name)) {
      best = node;
      bestFree = free;
    }
  }
  if (best) return { node: best };
  const n = nodes.length;
  if (n === 0) return { message: 'no nodes available to schedule pods' };
  return { message: `0/${n} nodes are available: ${histogram(reasons)}. preemption: 0/${n} nodes are available: ${histogram(preemption)}.` };
}

/** The binding: the pod on its node with the given health, or Pending with the scheduler's message. */
export function applyPlacement(pod: Pod, placed: PlaceResult, health: PodHealth, podIP: () => string): Pod {
  if ('node' in placed) {
    pod.spec.nodeName = placed.node.metadata.name;
    pod.status = podStatus(pod, health, { hostIP: nodeIP(placed.node), podIP: podIP(), now: timestamp() });
  } else {
    pod.status = podStatus(pod, { kind: 'unschedulable', message: placed.message });
  }
  return pod;
}
