// CUDA out-of-memory in the GPU workers' logs: the runbook's cue to lower vLLM's
// gpu_memory_utilization (to RUNBOOK_OOM_GPU_MEMORY). Logs are streamed and the scan stops at
// the first hit; each pod's read is capped, so a chatty worker can't hold the diagnosis up.
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeClient } from '../kube/client.js';

/** The runbook's gpu_memory_utilization after a CUDA OOM. */
export const RUNBOOK_OOM_GPU_MEMORY = 0.85;

/** What PyTorch and the CUDA runtime print when an allocation fails. */
const CUDA_OOM = /CUDA out of memory|torch\.(?:cuda\.)?OutOfMemoryError|CUDA error: out of memory/;

const MAX_LOG_BYTES = 4 * 1024 * 1024;

export interface CudaOom {
  pod: string;
  line: string;
}

export async function findCudaOom(kube: KubeClient, pods: readonly V1Pod[], opts: { sinceSeconds: number; signal?: AbortSignal }): Promise<CudaOom | undefined> {
  for (const pod of pods) {
    const name = pod.metadata?.name;
    const namespace = pod.metadata?.namespace;
    const container = pod.spec?.containers[0]?.name;
    if (!name || !namespace || !container || pod.status?.phase !== 'Running') continue;
    for await (const line of kube.logLines(namespace, name, container, { sinceSeconds: opts.sinceSeconds, limitBytes: MAX_LOG_BYTES, signal: opts.signal })) {
      if (CUDA_OOM.test(line)) return { pod: name, line: line.trim().slice(0, 200) };
    }
  }
  return undefined;
}
