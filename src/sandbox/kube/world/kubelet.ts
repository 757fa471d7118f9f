// The kubelet's part of a pod's graceful deletion: once the apiserver has marked a scheduled
// pod Terminating, its containers get SIGTERM and exit, and the kubelet makes the final delete
// (grace 0). Real servers take about a second for that; the world takes `terminationMs`, well
// inside any grace period, so a Terminating pod is visible for a moment and then goes. A pod
// whose PID 1 ignores SIGTERM (a shell script's, often) runs on until its grace period ends and
// is killed then: the apiserver store's grace timer makes that final delete.
import type { ClusterState, KubeObject } from '../contract.js';
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
  const loop = startLoop(state, {
    onEvent({ type, object }) {
      if (type === 'DELETED' || object.apiVersion !== 'v1' || object.kind !== 'Pod' || !object.metadata.deletionTimestamp) return false;
      if (opts.ignoresSigterm?.(object)) return false;
      const { namespace, name, uid } = object.metadata;
      loop.later(`stop:${namespace}/${name}`, terminationMs, () => {
        const pod = state.get('v1', 'Pod', namespace, name);
        if (pod && pod.metadata.uid === uid && pod.metadata.deletionTimestamp) state.remove('v1', 'Pod', namespace, name);
      });
      return false;
    },
    pass() {},
  });
  return { stop: () => loop.stop() };
}
