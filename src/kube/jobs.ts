// batch/v1 Jobs the runbook starts (model download and verify, the k6 load test): create one,
// follow it to the end with progress, read its pod's log, and delete it with its pods.
// Jobs go through the custom-objects client (batch/v1 is a plain group/version there), so
// every call carries the same KubeCall description and deadline as the rest of src/kube.
import { randomBytes } from 'node:crypto';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { UnreachableError, errorMessage } from '../core/errors.js';
import type { KubeClient } from './client.js';
import { KubeTimeoutError } from './errors.js';
import { assertLabelName, assertObjectName } from './names.js';

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
/** Every Job the bot starts carries it, with the runbook step as its value. */
export const JOB_STEP_LABEL = 'vlinders.io/runbook-step';

const BATCH = 'batch';

export function createJob(kube: KubeClient, namespace: string, job: V1Job): Promise<V1Job> {
  assertLabelName(namespace, 'namespace');
  const name = assertObjectName(job.metadata?.name ?? '', 'job');
  return kube.call({ verb: 'create', resource: 'jobs.batch', namespace, name }, () =>
    kube.custom.createNamespacedCustomObject({ group: BATCH, version: 'v1', namespace, plural: 'jobs', body: job }),
  ) as Promise<V1Job>;
}

export function readJob(kube: KubeClient, namespace: string, name: string): Promise<V1Job> {
  assertLabelName(namespace, 'namespace');
  assertObjectName(name, 'job');
  return kube.call({ verb: 'get', resource: 'jobs.batch', namespace, name }, () =>
    kube.custom.getNamespacedCustomObject({ group: BATCH, version: 'v1', namespace, plural: 'jobs', name }),
  ) as Promise<V1Job>;
}

/** Deletes the Job and, in the background, its pods (what `kubectl delete job` does). Gone already is fine. */
export async function deleteJob(kube: KubeClient, namespace: string, name: string): Promise<void> {
  assertLabelName(namespace, 'namespace');
  assertObjectName(name, 'job');
  try {
    await kube.call({ verb: 'delete', resource: 'jobs.batch', namespace, name }, () =>
      kube.custom.deleteNamespacedCustomObject({ group: BATCH, version: 'v1', namespace, plural: 'jobs', name, propagationPolicy: 'Background' }),
    );
  } catch (err) {
    if ((err as Error).name !== 'NotFoundError') throw err;
  }
}

export async function jobPods(kube: KubeClient, namespace: string, job: string): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  const labelSelector = `${JOB_NAME_LABEL}=${assertObjectName(job, 'job')}`;
  for await (const pod of kube.list({ verb: 'list', resource: 'pods', namespace }, (page) => kube.core.listNamespacedPod({ namespace, labelSelector, ...page }))) pods.push(pod);
  return pods;
}

export interface JobOutcome {
  succeeded: boolean;
  /** The Job's FailureTarget/Failed condition message, or the pod's termination reason. */
  message: string;
  /** The pod that ran last (its log holds the output). */
  pod?: string;
}

export interface FollowOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** Called with a new line whenever the Job's state or its pod's last log line changes. */
  progress(line: string): Promise<void>;
  /** How often to look (default 1 s). */
  pollMs?: number;
  /** Also report the pod's last log line while it runs (a downloader's bytes and rate, k6's iterations). */
  logTail?: boolean;
}

/** Waiting reasons that need a fix, not time. */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

const condition = (job: V1Job, type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === 'True');

function podState(pod: V1Pod | undefined): string {
  if (!pod) return 'waiting for its pod';
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting?.reason)?.state?.waiting;
  if (waiting?.reason) return `pod ${pod.metadata?.name}: ${waiting.reason}`;
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return `pod ${pod.metadata?.name}: Pending (${unscheduled.message ?? unscheduled.reason ?? 'not scheduled'})`;
  return `pod ${pod.metadata?.name}: ${pod.status?.phase ?? 'Pending'}`;
}

/** How long past a Job's own activeDeadlineSeconds we wait for Kubernetes to stop it before giving up ourselves. */
const SERVER_DEADLINE_MARGIN_MS = 10_000;

/**
 * Waits until the Job is Complete or failed, reporting its pod's state (and last log line) as it
 * changes. A Job with activeDeadlineSeconds is stopped by Kubernetes (DeadlineExceeded, its pods
 * killed): that is the expected end of an overrun, so our own deadline comes a margin after it.
 * Kubernetes ≥ 1.31 marks a failing Job FailureTarget at once and Failed only after its pods have
 * terminated, up to their grace period later (kubernetes.io/docs/concepts/workloads/controllers/job/
 * #terminal-job-conditions): FailureTarget is already the outcome, as the docs advise.
 */
export async function followJob(kube: KubeClient, namespace: string, name: string, opts: FollowOptions): Promise<JobOutcome> {
  const started = Date.now();
  let deadline = started + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 1000;
  let last = '';
  for (;;) {
    if (opts.signal.aborted) throw new UnreachableError(`Stopped while waiting for Job ${namespace}/${name}.`);
    const job = await readJob(kube, namespace, name);
    const serverLimit = job.spec?.activeDeadlineSeconds;
    if (serverLimit !== undefined) deadline = Math.max(deadline, started + serverLimit * 1000 + SERVER_DEADLINE_MARGIN_MS);
    const pods = await jobPods(kube, namespace, name);
    const pod = pods.at(-1);
    const podName = pod?.metadata?.name;
    if (condition(job, 'Complete')) return { succeeded: true, message: 'Complete', pod: podName };
    const failed = condition(job, 'FailureTarget') ?? condition(job, 'Failed');
    if (failed?.reason === 'DeadlineExceeded') throw new KubeTimeoutError(`Job ${namespace}/${name} did not finish within ${serverLimit ?? '?'} s: Kubernetes stopped it (DeadlineExceeded).`);
    if (failed) {
      const terminated = pod?.status?.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated;
      const exit = terminated ? `exit code ${terminated.exitCode}${terminated.reason ? `, ${terminated.reason}` : ''}` : '';
      return { succeeded: false, message: [failed.message ?? failed.reason ?? 'Failed', exit].filter(Boolean).join('; '), pod: podName };
    }
    // A pod that can't start won't start by waiting: a bad image, a missing Secret key.
    const stuck = pod?.status?.containerStatuses?.find((c) => STUCK.has(c.state?.waiting?.reason ?? ''))?.state?.waiting;
    if (stuck) return { succeeded: false, message: `its pod cannot start: ${stuck.reason}${stuck.message ? ` (${stuck.message})` : ''}`, pod: podName };
    let line = `Job ${name}: ${podState(pod)}`;
    if (opts.logTail && podName && pod?.status?.phase === 'Running') {
      const container = pod.spec?.containers[0]?.name;
      if (container) for await (const l of kube.logLines(namespace, podName, container, { tailLines: 1, signal: opts.signal })) line += ` · ${l}`;
    }
    if (line !== last) {
      await opts.progress(line);
      last = line;
    }
    if (Date.now() >= deadline) throw new KubeTimeoutError(`Job ${namespace}/${name} did not finish within ${Math.round(opts.timeoutMs / 1000)} s (${podState(pod)}).`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Creates the Job, follows it to the end, then hands its pod's log (all of it, or the last
 * `tailLines`) to `read`, streamed. The Job and its pods are deleted whatever happens; if that
 * fails, `leftover` says so (the result is still worth having; the Job's TTL removes it later).
 */
export async function runJob<T>(kube: KubeClient, namespace: string, spec: V1Job, opts: FollowOptions & { tailLines?: number }, read: (lines: AsyncIterable<string>) => Promise<T>): Promise<JobOutcome & { output?: T; leftover?: string }> {
  const name = spec.metadata?.name ?? '';
  await createJob(kube, namespace, spec);
  type Result = JobOutcome & { output?: T; leftover?: string };
  let result: Result | undefined;
  try {
    result = await followJob(kube, namespace, name, opts);
    const container = spec.spec?.template.spec?.containers[0]?.name;
    if (result.pod && container) {
      try {
        result = { ...result, output: await read(kube.logLines(namespace, result.pod, container, { tailLines: opts.tailLines, signal: opts.signal })) };
      } catch (err) {
        // A pod that never started has no log (400); the failure itself is the news.
        if (result.succeeded) throw err;
      }
    }
  } finally {
    const deleted = await deleteJob(kube, namespace, name).then(
      () => undefined,
      (err: unknown) => `could not delete Job ${namespace}/${name}: ${errorMessage(err)}`,
    );
    if (deleted && result) result = { ...result, leftover: deleted };
  }
  // Only reached when the try block set it (an error there propagated past the finally).
  return result as Result;
}

/** A Job name: `<prefix>-<base36 time><random>`, unique across replicas and valid as a label value. */
export function jobName(prefix: string, now = Date.now()): string {
  return assertLabelName(`${prefix}-${now.toString(36)}${randomBytes(2).toString('hex')}`, 'job');
}
