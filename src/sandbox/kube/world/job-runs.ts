// What the runbook's Jobs do inside the world (hooked into the Job controller by its `run`
// option): each Job kind, told apart by the label the bot puts on it, gets a runner that
// does the work (writes model files into the PVC's backing directory, runs the real
// sha256sum, prints a k6 summary) and returns the exit code; what it printed is the pod's log.
import type { ClusterState, KubeObject, LogRequest, LogSource } from '../contract.js';
import type { Pod } from './objects.js';

/** The pod's container and what it needs: env, volume mounts resolved to the claims behind them. */
export interface JobPodView {
  job: KubeObject;
  pod: Pod;
  env: Record<string, string>;
  args: string[];
  command: string[];
  workingDir?: string;
  /** mountPath → PVC claim name. */
  claims: Record<string, string>;
  print(line: string): void;
}

export type JobRunner = (view: JobPodView) => Promise<number>;

interface Volume { name: string; persistentVolumeClaim?: { claimName: string } }
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }
interface ContainerSpec { env?: EnvVar[]; args?: string[]; command?: string[]; workingDir?: string; volumeMounts?: Array<{ name: string; mountPath: string }> }

export const STEP_LABEL = 'vlinders.io/runbook-step';

export function jobRuns(state: ClusterState, runners: Record<string, JobRunner>) {
  // What the kubelet does: env from a Secret key is resolved into the container's env.
  const envValue = (ns: string | undefined, e: EnvVar): string | undefined => {
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) return e.value;
    const data = (state.get('v1', 'Secret', ns, ref.name) as { data?: Record<string, string> } | undefined)?.data?.[ref.key];
    return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
  };
  const logs = new Map<string, string[]>();
  const key = (ns: string | undefined, pod: string) => `${ns ?? 'default'}/${pod}`;
  const run = (job: KubeObject, podObject: KubeObject): Promise<number> | undefined => {
    const runner = runners[job.metadata.labels?.[STEP_LABEL] ?? ''];
    if (!runner) return undefined;
    const pod = podObject as Pod;
    const c = (pod.spec.containers[0] ?? {}) as ContainerSpec;
    const volumes = ((pod.spec as { volumes?: Volume[] }).volumes ?? []);
    const claims: Record<string, string> = {};
    for (const m of c.volumeMounts ?? []) {
      const claim = volumes.find((v) => v.name === m.name)?.persistentVolumeClaim?.claimName;
      if (claim) claims[m.mountPath] = claim;
    }
    const lines: string[] = [];
    logs.set(key(pod.metadata.namespace, pod.metadata.name), lines);
    const env: Record<string, string> = {};
    for (const e of c.env ?? []) {
      const value = envValue(pod.metadata.namespace, e);
      if (value !== undefined) env[e.name] = value;
    }
    return runner({ job, pod, env, args: c.args ?? [], command: c.command ?? [], workingDir: c.workingDir, claims, print: (l) => lines.push(l) });
  };
  /** Logs of the Job pods this knows; undefined for any other pod. */
  const source = (req: LogRequest): string[] | undefined => {
    const lines = logs.get(key(req.namespace, req.pod));
    if (!lines) return undefined;
    return req.tailLines !== undefined ? (req.tailLines === 0 ? [] : lines.slice(-req.tailLines)) : [...lines];
  };
  return { run, source };
}

/** Job pods' logs first, then the world's others. */
export const withJobLogs =
  (jobs: (req: LogRequest) => string[] | undefined, rest: LogSource): LogSource =>
  (req) =>
    jobs(req) ?? rest(req);
