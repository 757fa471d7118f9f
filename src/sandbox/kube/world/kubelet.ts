// The kubelet's part of a pod's graceful deletion: once the apiserver has marked a scheduled
// pod Terminating, its containers get SIGTERM and exit, and the kubelet makes the final delete
// (grace 0). Real servers take about a second for that; the world takes `terminationMs`, well
// inside any grace period, so a Terminating pod is visible for a moment and then goes. A pod
// whose PID 1 ignores SIGTERM (a shell script's, often) runs on until its grace period ends and
// is killed then: the apiserver store's grace timer makes that final delete. A NotReady node's
// kubelet is unreachable: its pods stay Terminating until it is Ready again (then they stop as
// usual) or the Node object is deleted (the store's pod GC).
import type { ClusterState, KubeObject } from '../contract.js';
import { kubeletCanFinish, nodeIsReady } from '../store.js';
import { startLoop } from './loop.js';
import type { Controller } from './kuberay-controller.js';

export interface KubeletOptions {
  /** How long a Terminating pod's containers take to stop (default 200 ms). */
  terminationMs?: number;
  /** Pods that ignore SIGTERM: they stop only when their grace period ends (SIGKILL). */
  ignoresSigterm?: (pod: KubeObject) => boolean;
}

export function startKubelet(state: ClusterState, opts: KubeletOptions = {}): Controller {
  const terminationMs = opts.terminationMs ?? 200;
  /** Terminating pods an unreachable kubelet holds, by node: stopped when the node is Ready again. */
  const held = new Map<string, Map<string, KubeObject>>();
  const stop = (object: KubeObject): void => {
    const { namespace, name, uid } = object.metadata;
    loop.later(`stop:${namespace}/${name}`, terminationMs, () => {
      const pod = state.get('v1', 'Pod', namespace, name);
      if (pod && pod.metadata.uid === uid && pod.metadata.deletionTimestamp && kubeletCanFinish(state, pod)) state.remove('v1', 'Pod', namespace, name);
    });
  };
  const loop = startLoop(state, {
    onEvent({ type, object }) {
      if (object.apiVersion !== 'v1') return false;
      if (object.kind === 'Node') {
        const pods = held.get(object.metadata.name);
        const back = type !== 'DELETED' && nodeIsReady(object);
        if (back || type === 'DELETED') held.delete(object.metadata.name);
        if (back) for (const pod of pods?.values() ?? []) stop(pod);
        return false;
      }
      if (type === 'DELETED' || object.kind !== 'Pod' || !object.metadata.deletionTimestamp) return false;
      if (opts.ignoresSigterm?.(object)) return false;
      if (!kubeletCanFinish(state, object)) {
        const node = (object.spec as { nodeName: string }).nodeName;
        held.set(node, (held.get(node) ?? new Map()).set(`${object.metadata.namespace}/${object.metadata.name}`, object));
        return false;
      }
      stop(object);
      return false;
    },
    pass() {},
  });
  return { stop: () => loop.stop() };
}
