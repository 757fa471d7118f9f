// The k6 Job: the image and the script ConfigMap from config, --vus and --duration from the
// caller (validated), the summary exported to stdout so the bot reads it from the pod's log
// and needs no shared volume.
import type { V1Job } from '@kubernetes/client-node';
import type { Config } from '../config/schema.js';
import { NotFoundError, UsageError } from '../core/errors.js';
import type { KubeClient } from '../kube/client.js';
import { JOB_STEP_LABEL, jobName } from '../kube/jobs.js';

const SCRIPTS = '/scripts';
const DURATION = /^(\d+)(s|m|h)$/;

/** "90s", "5m", "1h" in seconds; anything else is refused, naming the option it came from. */
export function durationSeconds(text: string, option = '--duration'): number {
  const m = DURATION.exec(text);
  if (!m) throw new UsageError(`${option} "${text.slice(0, 40)}" is not a duration: use a number with s, m or h, like 30s, 5m or 1h`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

export function checkLoad(lt: Config['loadtest'], vus: number, duration: string): number {
  if (vus > lt.maxVus) throw new UsageError(`--vus ${vus} is above the configured maximum of ${lt.maxVus} virtual users.`);
  const seconds = durationSeconds(duration);
  if (seconds < 1 || seconds > lt.maxDurationSeconds) throw new UsageError(`--duration ${duration} is outside 1 s–${lt.maxDurationSeconds} s (loadtest.maxDurationSeconds).`);
  return seconds;
}

/**
 * The script must exist before a Job mounts it: with its ConfigMap (or key) missing, the pod
 * waits in ContainerCreating until the Job's deadline, minutes later, and says nothing.
 */
export async function assertScript(kube: KubeClient, namespace: string, lt: Config['loadtest']): Promise<void> {
  const name = lt.scriptConfigMap;
  const where = `${namespace}/${name}`;
  const fix = `Create it from the runbook's k6 script (kubectl create configmap ${name} -n ${namespace} --from-file=${lt.scriptKey}), or set loadtest.scriptConfigMap and scriptKey. Nothing was started.`;
  let data: Record<string, string> | undefined;
  try {
    data = (await kube.call({ verb: 'get', resource: 'configmaps', namespace, name }, () => kube.core.readNamespacedConfigMap({ namespace, name }))).data;
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`The k6 script's ConfigMap ${where} does not exist. ${fix}`);
    throw err;
  }
  if (!data?.[lt.scriptKey]?.trim()) throw new NotFoundError(`ConfigMap ${where} has no k6 script under key ${lt.scriptKey}. ${fix}`);
}

export function k6Job(lt: Config['loadtest'], vus: number, duration: string, deadlineSeconds: number): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName('vlinders-loadtest'), labels: { [JOB_STEP_LABEL]: 'loadtest', 'app.kubernetes.io/managed-by': 'vlinders-ops' } },
    spec: {
      backoffLimit: 0,
      // Kubernetes stops it and removes it later even if the bot is gone meanwhile.
      activeDeadlineSeconds: deadlineSeconds,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels: { [JOB_STEP_LABEL]: 'loadtest' } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'k6',
              image: lt.image,
              args: ['run', '--vus', String(vus), '--duration', duration, '--summary-export', '/dev/stdout', '--no-color', `${SCRIPTS}/${lt.scriptKey}`],
              env: [{ name: 'BASE_URL', value: lt.targetUrl }],
              volumeMounts: [{ name: 'script', mountPath: SCRIPTS, readOnly: true }],
            },
          ],
          volumes: [{ name: 'script', configMap: { name: lt.scriptConfigMap } }],
        },
      },
    },
  };
}
