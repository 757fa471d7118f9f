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
  spec: { suspend?: boolean; selector?: { matchLabels?: Record<string, string> }; template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } };
  status?: Record<string, unknown>;
}

const JOB_API = 'batch/v1';
const JOB_LABEL = 'batch.kubernetes.io/job-name';

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
    if (!('node' in placed)) return;
    const key = `finish:${pod.metadata.namespace}/${name}`;
    const running = opts.run?.(job, pod);
    if (!running) loop.later(key, runMs, () => finish(job, pod));
    else running.then((code) => loop.later(key, runMs, () => finish(job, pod, code)), () => loop.later(key, runMs, () => finish(job, pod, 1)));
  }

  function finish(job: Job, started: Pod, exitCode?: number): void {
    const pod = state.get('v1', 'Pod', started.metadata.namespace, started.metadata.name) as Pod | undefined;
    const current = state.get(JOB_API, 'Job', job.metadata.namespace, job.metadata.name) as Job | undefined;
    if (!pod || !current) return;
    const code = exitCode ?? (opts.fail?.(current) ? 1 : 0);
    const failed = code !== 0;
    const now = timestamp();
    state.replace({ ...pod, status: podStatus(pod, failed ? { kind: 'failed', exitCode: code } : { kind: 'succeeded' }, placementOf(pod)) });
    const cond = (type: string, reason: string, message: string) => ({ type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now });
    const status = failed
      ? { failed: 1, conditions: [cond('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'), cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] }
      : { succeeded: 1, completionTime: now, conditions: [cond('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'), cond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods')] };
    state.replace({ ...current, status: { ...current.status, active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {}, ...status } });
  }

  function collect(job: KubeObject): void {
    for (const pod of state.list('v1', 'Pod', job.metadata.namespace) as Pod[])
      if (pod.metadata.ownerReferences?.some((o) => o.uid === job.metadata.uid)) state.remove('v1', 'Pod', pod.metadata.namespace, pod.metadata.name);
  }

  const loop = startLoop(state, {
    onEvent: ({ type, object }) => {
      if (object.apiVersion !== JOB_API || object.kind !== 'Job') return false;
      // The garbage collector: a deleted Job's pods go with it (propagationPolicy Background).
      if (type === 'DELETED') loop.later(`gc:${object.metadata.namespace}/${object.metadata.name}`, 0, () => collect(object));
      return type !== 'DELETED';
    },
    pass() {
      // A Job with a startTime has its pod already: one pod per Job, no retries.
      for (const job of state.list(JOB_API, 'Job') as Job[]) if (!job.spec.suspend && !job.status?.startTime) start(job);
    },
  });
  return { stop: () => loop.stop() };
}
