// The Ray GPU workers' nvidia-smi readings, summarised: what `gpu`, the daily digest and
// `diagnose latency` all show, read one way.
import type { V1Pod } from '@kubernetes/client-node';
import type { Config } from '../config/schema.js';
import type { KubeClient } from '../kube/client.js';
import { resolveRayCluster, type RayClusterObject } from '../ray/raycluster.js';
import { type GpuFleetSummary, summariseGpus } from './gpu-summary.js';
import { probeGpuPods } from './probe-pods.js';

export interface FleetGpus {
  raycluster: RayClusterObject;
  /** The running worker pods that were asked. */
  pods: V1Pod[];
  /** Undefined when no worker is running (nothing to ask). */
  summary: GpuFleetSummary | undefined;
}

export async function readFleetGpus(kube: KubeClient, config: Config, signal: AbortSignal, opts: { pod?: string; beforeProbe?: (pods: number) => Promise<void> } = {}): Promise<FleetGpus> {
  const { ray, namespaces, gpu } = config;
  const { raycluster } = await resolveRayCluster(kube, { namespace: namespaces.inference, cluster: ray.cluster, service: ray.service });
  const ns = raycluster.metadata.namespace;
  const pods: V1Pod[] = [];
  for await (const pod of kube.list({ verb: 'list', resource: 'pods', namespace: ns }, (page) =>
    kube.core.listNamespacedPod({ namespace: ns, labelSelector: `ray.io/cluster=${raycluster.metadata.name},ray.io/node-type=worker`, ...page }),
  )) {
    if (pod.status?.phase === 'Running' && (!opts.pod || pod.metadata?.name === opts.pod)) pods.push(pod);
  }
  if (pods.length === 0) return { raycluster, pods, summary: undefined };
  await opts.beforeProbe?.(pods.length);
  const readings = await probeGpuPods(kube, pods, { concurrency: gpu.concurrency, timeoutMs: gpu.execTimeoutSeconds * 1000, signal });
  return { raycluster, pods, summary: summariseGpus(readings, gpu) };
}
