// A tiny batch/v1 Job controller: each Job gets one pod from its template, which runs and,
// after a delay, Succeeds (or Fails, when the test says so); the Job's status follows with
// the conditions a real one ends with (SuccessCriteriaMet + Complete, or FailureTarget + Failed).
import type { ClusterState, KubeObject } from '../contract.js';
import type { Node, Pod, PodSpec } from './objects.js';
import { ipv4, ownerRef, placementOf, podStatus, randomSuffix, timestamp } from './objects.js';
import { GpuLedger, applyPlacement, placePod } from './scheduler.js';
import { startLoop } from './loop.js';
import type { Controller } from './kuberay-controller.js';

export interface JobControllerOptions {
  /** How long a Job's pod runs (default 300 ms). */
  runMs?: number;
  /** Jobs for which the pod exits 1 instead of 0. */
  fail?: (job: KubeObject) => boolean;
  /** What a Job's pod does (job-runs.ts): its exit code; undefined for an ordinary pod. */
  run?: (job: KubeObject, pod: KubeObject) => Promise<number> | undefined;
}

interface Job extends KubeObject {
  spec: { suspend?: boolean; activeDeadlineSeconds?: number; selector?: { matchLabels?: Record<string, string> }; template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } };
  status?: Record<string, unknown>;
}

const JOB_API = 'batch/v1';
const JOB_LABEL = 'batch.kubernetes.io/job-name';

const condition = (type: string, reason: string, message: string): Record<string, string> => {
  const now = timestamp();
  return { type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now };
};
const failedConditions = (reason: string, message: string): Array<Record<string, string>> => [condition('FailureTarget', reason, message), condition('Failed', reason, message)];
const isFinished = (job: Job): boolean =>
  ((job.status?.conditions ?? []) as Array<{ type?: string; status?: string }>).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

export function startJobController(state: ClusterState, opts: JobControllerOptions = {}): Controller {
  const runMs = opts.runMs ?? 300;
  let ips = 0;

  function start(job: Job): void {
    const uid = job.metadata.uid ?? '';
    const name = `${job.metadata.name}-${randomSuffix()}`;
    const labels = { ...job.spec.template.metadata?.labels, [JOB_LABEL]: job.metadata.name, 'batch.kubernetes.io/controller-uid': uid, 'controller-uid': uid, 'job-name': job.metadata.name };
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, generateName: `${job.metadata.name}-`, namespace: job.metadata.namespace ?? 'default', labels, ownerReferences: [ownerRef(job)] },
      spec: { restartPolicy: 'Never', ...structuredClone(job.spec.template.spec) },
      status: { phase: 'Pending' },
    };
    const placed = placePod(pod, state.list('v1', 'Node') as Node[], new GpuLedger());
    state.create(applyPlacement(pod, placed, { kind: 'running' }, () => ipv4(++ips, [10, 247])));
    const now = timestamp();
    // The API server's defaulting: a Job selects its pods by controller-uid (what `kubectl logs job/…` follows).
    const spec = { ...job.spec, selector: job.spec.selector ?? { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } } };
    state.replace({ ...job, spec, status: { startTime: now, active: 1, ready: 'node' in placed ? 1 : 0, terminating: 0, uncountedTerminatedPods: {} } });
    const deadline = job.spec.activeDeadlineSeconds;
    if (deadline !== undefined) loop.later(`deadline:${job.metadata.namespace}/${job.metadata.name}`, deadline * 1000, () => deadlineExceeded(job));
    if (!('node' in placed)) return;
    const key = `finish:${pod.metadata.namespace}/${name}`;
    const running = opts.run?.(job, pod);
    if (!running) loop.later(key, runMs, () => finish(job, pod));
    else running.then((code) => loop.later(key, runMs, () => finish(job, pod, code)), () => loop.later(key, runMs, () => finish(job, pod, 1)));
  }

  function finish(job: Job, started: Pod, exitCode?: number): void {
    const pod = state.get('v1', 'Pod', started.metadata.namespace, started.metadata.name) as Pod | undefined;
    const current = state.get(JOB_API, 'Job', job.metadata.namespace, job.metadata.name) as Job | undefined;
    if (!pod || !current || isFinished(current)) return;
    const code = exitCode ?? (opts.fail?.(current) ? 1 : 0);
    const failed = code !== 0;
    state.replace({ ...pod, status: podStatus(pod, failed ? { kind: 'failed', exitCode: code } : { kind: 'succeeded' }, placementOf(pod)) });
    const status = failed
      ? { failed: 1, conditions: failedConditions('BackoffLimitExceeded', 'Job has reached the specified backoff limit') }
      : { succeeded: 1, completionTime: timestamp(), conditions: [condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'), condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods')] };
    state.replace({ ...current, status: { ...current.status, active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {}, ...status } });
  }

  /** spec.activeDeadlineSeconds passed while the Job still ran: its pods are killed and it fails with DeadlineExceeded. */
  function deadlineExceeded(started: Job): void {
    const job = state.get(JOB_API, 'Job', started.metadata.namespace, started.metadata.name) as Job | undefined;
    if (!job || job.metadata.uid !== started.metadata.uid || isFinished(job)) return;
    let killed = 0;
    for (const pod of state.list('v1', 'Pod', job.metadata.namespace) as Pod[]) {
      if (!pod.metadata.ownerReferences?.some((o) => o.uid === job.metadata.uid) || pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
      state.remove('v1', 'Pod', pod.metadata.namespace, pod.metadata.name);
      killed++;
    }
    const failed = Number(job.status?.failed ?? 0) + killed;
    state.replace({ ...job, status: { ...job.status, active: 0, ready: 0, terminating: 0, failed, uncountedTerminatedPods: {}, conditions: failedConditions('DeadlineExceeded', 'Job was active longer than specified deadline') } });
  }

  const loop = startLoop(state, {
    onEvent: ({ type, object }) => {
      // A deleted Job's pods are the garbage collector's (the store's), per the DELETE's propagationPolicy.
      if (object.apiVersion !== JOB_API || object.kind !== 'Job') return false;
      return type !== 'DELETED';
    },
    pass() {
      // A Job with a startTime has its pod already: one pod per Job, no retries.
      for (const job of state.list(JOB_API, 'Job') as Job[]) if (!job.spec.suspend && !job.status?.startTime) start(job);
    },
  });
  return { stop: () => loop.stop() };
}
