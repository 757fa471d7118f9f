// A tiny batch/v1 Job controller: each Job gets one pod from its template, which runs and,
// after a delay, Succeeds (or Fails, when the test says so); the Job's status follows with
// the conditions a real one ends with (SuccessCriteriaMet + Complete, or FailureTarget + Failed).
// Past activeDeadlineSeconds it behaves as Kubernetes ≥ 1.31 does: FailureTarget first, its pods
// terminated with their grace period, and Failed only once they are gone
// (kubernetes.io/docs/concepts/workloads/controllers/job/#terminal-job-conditions, "Termination of Job pods").
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
const conditionOf = (job: Job, type: string): Record<string, string> | undefined =>
  ((job.status?.conditions ?? []) as Array<Record<string, string>>).find((c) => c.type === type && c.status === 'True');
/** The controller has judged the Job (FailureTarget, SuccessCriteriaMet) or it has ended: nothing more runs. */
const isDecided = (job: Job): boolean => ['FailureTarget', 'SuccessCriteriaMet', 'Complete', 'Failed'].some((type) => conditionOf(job, type));
const isTerminal = (pod: Pod): boolean => pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed';

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
    if (!pod || !current || isDecided(current) || pod.metadata.deletionTimestamp) return;
    const code = exitCode ?? (opts.fail?.(current) ? 1 : 0);
    const failed = code !== 0;
    state.replace({ ...pod, status: podStatus(pod, failed ? { kind: 'failed', exitCode: code } : { kind: 'succeeded' }, placementOf(pod)) });
    const status = failed
      ? { failed: 1, conditions: failedConditions('BackoffLimitExceeded', 'Job has reached the specified backoff limit') }
      : { succeeded: 1, completionTime: timestamp(), conditions: [condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'), condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods')] };
    state.replace({ ...current, status: { ...current.status, active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {}, ...status } });
  }

  const podsOf = (job: Job): Pod[] => (state.list('v1', 'Pod', job.metadata.namespace) as Pod[]).filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === job.metadata.uid));

  /**
   * spec.activeDeadlineSeconds passed while the Job still ran: FailureTarget (DeadlineExceeded)
   * and its running pods are deleted, each terminating for its grace period; settle() adds Failed.
   */
  function deadlineExceeded(started: Job): void {
    const job = state.get(JOB_API, 'Job', started.metadata.namespace, started.metadata.name) as Job | undefined;
    if (!job || job.metadata.uid !== started.metadata.uid || isDecided(job)) return;
    for (const pod of podsOf(job)) if (!isTerminal(pod) && !pod.metadata.deletionTimestamp) state.terminate('v1', 'Pod', pod.metadata.namespace, pod.metadata.name);
    const conditions = [...((job.status?.conditions ?? []) as Array<Record<string, string>>), condition('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline')];
    const terminating = podsOf(job).filter((p) => !isTerminal(p)).length;
    state.replace({ ...job, status: { ...job.status, active: 0, ready: 0, terminating, uncountedTerminatedPods: {}, conditions } });
    loop.kick();
  }

  /** A Job with FailureTarget gets Failed (same reason and message) once none of its pods is still terminating; each one gone counts as failed. */
  function settle(job: Job): void {
    const target = conditionOf(job, 'FailureTarget');
    if (!target || conditionOf(job, 'Failed')) return;
    const terminating = podsOf(job).filter((p) => !isTerminal(p)).length;
    const before = Number(job.status?.terminating ?? 0);
    if (terminating === before && terminating > 0) return;
    const failed = Number(job.status?.failed ?? 0) + Math.max(0, before - terminating);
    const conditions = [...((job.status?.conditions ?? []) as Array<Record<string, string>>), ...(terminating === 0 ? [condition('Failed', target.reason ?? '', target.message ?? '')] : [])];
    state.replace({ ...job, status: { ...job.status, terminating, failed, conditions } });
  }

  const loop = startLoop(state, {
    onEvent: ({ type, object }) => {
      // A Job's pod that changes or goes may let a failing Job settle.
      if (object.apiVersion === 'v1' && object.kind === 'Pod') return object.metadata.ownerReferences?.some((o) => o.apiVersion === JOB_API && o.kind === 'Job') ?? false;
      // A deleted Job's pods are the garbage collector's (the store's), per the DELETE's propagationPolicy.
      if (object.apiVersion !== JOB_API || object.kind !== 'Job') return false;
      return type !== 'DELETED';
    },
    pass() {
      for (const job of state.list(JOB_API, 'Job') as Job[]) {
        // A Job with a startTime has its pod already: one pod per Job, no retries.
        if (!job.spec.suspend && !job.status?.startTime) start(job);
        else settle(job);
      }
    },
  });
  return { stop: () => loop.stop() };
}
