// What needs attention in a cluster, read off Kubernetes objects. Pure functions: the
// status command feeds them pages of objects, tests feed them captured ones.
import type { V1Deployment, V1Node, V1PersistentVolumeClaim, V1Pod, V1StatefulSet } from '@kubernetes/client-node';

export const GPU_RESOURCE = 'nvidia.com/gpu';

export interface Finding {
  severity: 'warn' | 'fail';
  /** The object, e.g. `pod vlinders-platform/vlinders-api-7d9f`. */
  subject: string;
  reason: string;
}

/** Kubernetes quantities ('500m', '2', '16Gi', '1.5') as numbers of the base unit. */
export function parseQuantity(value: string | number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  const m = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(value.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const suffix: Record<string, number> = {
    '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  };
  return n * (suffix[m[2] ?? ''] ?? 1);
}

const condition = (conds: Array<{ type: string; status: string; reason?: string; message?: string }> | undefined, type: string) =>
  conds?.find((c) => c.type === type);

export function isNodeReady(node: V1Node): boolean {
  return condition(node.status?.conditions, 'Ready')?.status === 'True';
}

export function nodeFindings(node: V1Node): Finding[] {
  const name = node.metadata?.name ?? '?';
  const out: Finding[] = [];
  const ready = condition(node.status?.conditions, 'Ready');
  if (ready?.status !== 'True') {
    const why = [ready?.reason, ready?.message].filter(Boolean).join(': ') || 'no Ready condition reported';
    out.push({ severity: 'fail', subject: `node ${name}`, reason: `NotReady (${why})` });
  }
  for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable']) {
    const c = condition(node.status?.conditions, type);
    if (c?.status === 'True') out.push({ severity: 'warn', subject: `node ${name}`, reason: `${type}${c.message ? `: ${c.message}` : ''}` });
  }
  if (node.spec?.unschedulable) out.push({ severity: 'warn', subject: `node ${name}`, reason: 'cordoned (unschedulable)' });
  return out;
}

/** GPUs a pod holds or asks for: the larger of its containers' requests and limits (GPUs must be equal anyway). */
export function podGpus(pod: V1Pod): number {
  let total = 0;
  for (const c of pod.spec?.containers ?? []) {
    const r = c.resources;
    total += Math.max(parseQuantity(r?.requests?.[GPU_RESOURCE]), parseQuantity(r?.limits?.[GPU_RESOURCE]));
  }
  return total;
}

/**
 * Ready and not being deleted. A Terminating pod keeps its Ready condition until its containers
 * stop, but the endpoints controller has already taken it out of service.
 */
export function isPodServing(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
}

/** Pods that hold resources on their node (not finished). */
export function podIsActive(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}

export function podRestarts(pod: V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

/** Why a pod is not Running and Ready, in kubectl's words, or undefined when it is fine. */
export function podFinding(pod: V1Pod): Finding | undefined {
  const name = `pod ${pod.metadata?.namespace ?? '?'}/${pod.metadata?.name ?? '?'}`;
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase === 'Succeeded') return undefined;
  const restarts = podRestarts(pod);
  const restartText = restarts > 0 ? `, ${restarts} restart${restarts === 1 ? '' : 's'}` : '';
  if (pod.metadata?.deletionTimestamp) return { severity: 'warn', subject: name, reason: `Terminating${restartText}` };
  if (phase === 'Pending') {
    const scheduled = condition(pod.status?.conditions, 'PodScheduled');
    if (scheduled?.status === 'False') {
      return { severity: 'fail', subject: name, reason: `Pending: ${scheduled.reason ?? 'Unschedulable'}${scheduled.message ? `: ${scheduled.message}` : ''}` };
    }
    const waiting = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((c) => c.state?.waiting?.reason);
    const reason = waiting?.state?.waiting?.reason;
    return { severity: reason && /BackOff|Err|Invalid/.test(reason) ? 'fail' : 'warn', subject: name, reason: `Pending${reason ? `: ${reason}${waiting?.state?.waiting?.message ? ` (${waiting.state.waiting.message})` : ''}` : ''}${restartText}` };
  }
  if (phase === 'Failed') return { severity: 'fail', subject: name, reason: `Failed${pod.status?.reason ? `: ${pod.status.reason}` : ''}${pod.status?.message ? ` (${pod.status.message})` : ''}` };
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason) {
      const last = c.lastState?.terminated;
      const lastText = last ? `; last exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}` : '';
      return { severity: 'fail', subject: name, reason: `${waiting.reason} in container ${c.name}${restartText}${lastText}${waiting.message ? `: ${waiting.message}` : ''}` };
    }
    if (c.state?.terminated && c.state.terminated.exitCode !== 0) {
      return { severity: 'fail', subject: name, reason: `container ${c.name} exited with code ${c.state.terminated.exitCode}${restartText}` };
    }
  }
  if (phase !== 'Running') return { severity: 'warn', subject: name, reason: `${phase}${restartText}` };
  const ready = condition(pod.status?.conditions, 'Ready');
  if (ready?.status !== 'True') {
    const notReady = (pod.status?.containerStatuses ?? []).filter((c) => !c.ready).map((c) => c.name);
    return { severity: 'warn', subject: name, reason: `Running but not Ready${notReady.length ? ` (${notReady.join(', ')})` : ''}${restartText}` };
  }
  return undefined;
}

export function pvcFinding(pvc: V1PersistentVolumeClaim): Finding | undefined {
  const phase = pvc.status?.phase ?? 'Unknown';
  if (phase === 'Bound') return undefined;
  const sc = pvc.spec?.storageClassName ? ` (storage class ${pvc.spec.storageClassName})` : '';
  return { severity: phase === 'Lost' ? 'fail' : 'warn', subject: `pvc ${pvc.metadata?.namespace ?? '?'}/${pvc.metadata?.name ?? '?'}`, reason: `${phase}, not Bound${sc}` };
}

export function workloadFinding(kind: 'deployment' | 'statefulset', w: V1Deployment | V1StatefulSet): Finding | undefined {
  const desired = w.spec?.replicas ?? 1;
  const ready = w.status?.readyReplicas ?? 0;
  if (ready >= desired) return undefined;
  return {
    severity: ready === 0 && desired > 0 ? 'fail' : 'warn',
    subject: `${kind} ${w.metadata?.namespace ?? '?'}/${w.metadata?.name ?? '?'}`,
    reason: `${ready}/${desired} replicas ready`,
  };
}
