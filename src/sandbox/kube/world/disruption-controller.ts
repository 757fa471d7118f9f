// kube-controller-manager's disruption controller for the world: keeps each PodDisruptionBudget's
// status current from the pods its selector matches, which is all the apiserver's eviction reads.
// expectedPods: the matched pods for an integer minAvailable, else the scale of their controllers
// (Deployment through its ReplicaSet, ReplicaSet, StatefulSet); a pod of any other controller (a
// RayCluster has no scale subresource) makes the sync fail, and a failed budget allows nothing,
// as the real controller's fail-safe does. currentHealthy: Ready pods not terminating.
// status.disruptedPods, which the apiserver fills on each eviction, is pruned once the pod is
// terminating or gone (here that is at once: the apiserver deletes right after it records it,
// so unlike a real controller's lagging view, no recorded pod is ever seen still healthy).
import type { ClusterState, KubeObject } from '../contract.js';
import { disruptionAllowedCondition, type Pdb, type PdbStatus } from '../eviction.js';
import { labelSelectorMatcher } from '../selectors.js';
import type { Pod } from './objects.js';
import { isReady } from './objects.js';
import { startLoop } from './loop.js';
import type { Controller } from './kuberay-controller.js';

/** How long an eviction the controller hasn't seen the pod go for still holds the pod out (DeletionTimeout). */
const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

/** An IntOrString against a total: "30%" rounds up, as intstr.GetScaledValueFromIntOrPercent(roundUp) does. */
function scaled(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) throw new Error(`invalid value for IntOrString: ${value}`);
  return Math.ceil((Number(m[1]) * total) / 100);
}

export function startDisruptionController(state: ClusterState): Controller {
  /** The scale of a pod's controller, by uid; undefined when it has none this controller can read. */
  function controllerScale(pod: Pod): { uid: string; replicas: number } | undefined {
    const ref = pod.metadata.ownerReferences?.find((r) => r.controller);
    if (!ref) return undefined;
    const ns = pod.metadata.namespace;
    const owner = ref.kind === 'ReplicaSet' || ref.kind === 'StatefulSet' ? state.get('apps/v1', ref.kind, ns, ref.name) : undefined;
    if (!owner || owner.metadata.uid !== ref.uid) return undefined;
    const deployRef = owner.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
    const deployment = deployRef && state.get('apps/v1', 'Deployment', ns, deployRef.name);
    const scaleOf = (o: KubeObject) => ({ uid: o.metadata.uid as string, replicas: Number((o.spec as { replicas?: number } | undefined)?.replicas ?? 1) });
    return deployment ? scaleOf(deployment) : scaleOf(owner);
  }

  function statusOf(pdb: Pdb, pods: Pod[], now: number): PdbStatus {
    const { minAvailable, maxUnavailable } = pdb.spec;
    let expected = pods.length;
    let failed = false;
    if (maxUnavailable !== undefined || typeof minAvailable === 'string') {
      const scales = new Map<string, number>();
      for (const pod of pods) {
        const scale = controllerScale(pod);
        if (!scale) failed = true;
        else scales.set(scale.uid, scale.replicas);
      }
      expected = [...scales.values()].reduce((a, b) => a + b, 0);
    }
    const disrupted: Record<string, string> = {};
    for (const [name, at] of Object.entries(pdb.status?.disruptedPods ?? {})) {
      const pod = pods.find((p) => p.metadata.name === name);
      if (pod && !pod.metadata.deletionTimestamp && Date.parse(at) + DELETION_TIMEOUT_MS > now) disrupted[name] = at;
    }
    const healthy = pods.filter((p) => isReady(p.status.conditions) && !p.metadata.deletionTimestamp).length;
    let desired = 0;
    if (maxUnavailable !== undefined) desired = Math.max(0, expected - scaled(maxUnavailable, expected));
    else if (minAvailable !== undefined) desired = scaled(minAvailable, expected);
    return {
      observedGeneration: pdb.metadata.generation ?? 1,
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      disruptionsAllowed: failed ? 0 : Math.max(0, healthy - desired),
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: expected,
    };
  }

  const loop = startLoop(state, {
    onEvent: ({ object }) => (object.apiVersion === 'v1' && object.kind === 'Pod') || (object.apiVersion === 'policy/v1' && object.kind === 'PodDisruptionBudget'),
    pass() {
      const now = Date.now();
      let nextExpiry = Infinity;
      for (const pdb of state.list('policy/v1', 'PodDisruptionBudget') as Pdb[]) {
        const matches = labelSelectorMatcher(pdb.spec.selector);
        const pods = matches ? (state.list('v1', 'Pod', pdb.metadata.namespace) as Pod[]).filter((p) => matches(p.metadata.labels ?? {})) : [];
        const status: PdbStatus = statusOf(pdb, pods, now);
        status.conditions = disruptionAllowedCondition({ ...pdb, status: status as Pdb['status'] }, pdb.status?.conditions);
        for (const at of Object.values(status.disruptedPods ?? {})) nextExpiry = Math.min(nextExpiry, Date.parse(at) + DELETION_TIMEOUT_MS);
        if (JSON.stringify(status) !== JSON.stringify(pdb.status ?? {})) state.replace({ ...pdb, status: status as Pdb['status'] });
      }
      if (nextExpiry < Infinity) loop.later('expiry', Math.max(0, nextExpiry - now), () => loop.kick());
    },
  });
  return { stop: () => loop.stop() };
}
