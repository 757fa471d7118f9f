// Runs nvidia-smi in GPU pods through Kubernetes exec (argv only) and reads the answers:
// every pod in parallel up to a bound, each with its own deadline, so one hung pod costs
// its timeout and nothing more.
import { getMaxListeners, setMaxListeners } from 'node:events';
import { Writable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { mapLimit } from '../core/concurrency.js';
import { errorMessage } from '../core/errors.js';
import type { KubeClient } from '../kube/client.js';
import { KubeTimeoutError } from '../kube/errors.js';
import { GPU_RESOURCE, parseQuantity } from '../kube/health.js';
import { NVIDIA_SMI_COMPUTE_APPS_QUERY, NVIDIA_SMI_GPU_QUERY, NVIDIA_SMI_TABLE } from './nvidia-smi-commands.js';
import { readPodProbe, shouldReadTable, type ExecOutcome, type PodReading } from './read-nvidia-smi.js';

/** Collects a stream into a string, up to a bound (nvidia-smi prints a few kB). */
class TextSink extends Writable {
  text = '';
  constructor(private max = 1 << 20) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    if (this.text.length < this.max) this.text += chunk.toString('utf8');
    done();
  }
}

/** The container that holds the GPUs (the first one when none asks for them). */
export function gpuContainer(pod: V1Pod): string | undefined {
  const containers = pod.spec?.containers ?? [];
  const withGpu = containers.find((c) => parseQuantity(c.resources?.limits?.[GPU_RESOURCE]) > 0 || parseQuantity(c.resources?.requests?.[GPU_RESOURCE]) > 0);
  return (withGpu ?? containers[0])?.name;
}

async function run(kube: KubeClient, pod: V1Pod, argv: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<ExecOutcome> {
  const stdout = new TextSink();
  const stderr = new TextSink();
  const container = gpuContainer(pod);
  if (!container) return { ok: false, error: 'the pod has no containers' };
  try {
    const exitCode = await kube.exec(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', container, argv, { stdout, stderr, timeoutMs, signal });
    return { ok: true, stdout: stdout.text, stderr: stderr.text, exitCode };
  } catch (err) {
    return { ok: false, error: errorMessage(err), timedOut: err instanceof KubeTimeoutError };
  }
}

export interface ProbeOptions {
  concurrency: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export async function probeGpuPods(kube: KubeClient, pods: readonly V1Pod[], opts: ProbeOptions): Promise<PodReading[]> {
  // Every exec in flight listens for the abort: up to two per pod at the concurrency bound.
  setMaxListeners(Math.max(getMaxListeners(opts.signal), opts.concurrency * 2 + 10), opts.signal);
  return mapLimit(pods, opts.concurrency, async (pod) => {
    const name = pod.metadata?.name ?? '?';
    const node = pod.spec?.nodeName ?? '?';
    const [gpus, processes] = await Promise.all([
      run(kube, pod, NVIDIA_SMI_GPU_QUERY, opts.timeoutMs, opts.signal),
      run(kube, pod, NVIDIA_SMI_COMPUTE_APPS_QUERY, opts.timeoutMs, opts.signal),
    ]);
    const reading = readPodProbe({ pod: name, node, gpus, processes });
    if (!shouldReadTable(reading)) return reading;
    return readPodProbe({ pod: name, node, gpus: await run(kube, pod, NVIDIA_SMI_TABLE, opts.timeoutMs, opts.signal) });
  });
}
