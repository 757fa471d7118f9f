// The two Jobs of a model update, both mounting the models PVC: the download (image and argv
// from config; the model id and revision go in as env, never into a command line) and the
// checksum verification (`sha256sum -c` of the manifest the download wrote, in the model's
// directory). Neither runs a shell.
import type { V1Job } from '@kubernetes/client-node';
import type { Config } from '../config/schema.js';
import type { KubeClient } from '../kube/client.js';
import { type FollowOptions, JOB_STEP_LABEL, jobName, runJob } from '../kube/jobs.js';
import type { ModelRef } from './model-id.js';

export type ModelsConfig = Config['models'];

const VOLUME = 'models';

export function modelDir(models: ModelsConfig, model: ModelRef): string {
  return `${models.mountPath.replace(/\/+$/, '')}/${model.dir}`;
}

function job(step: 'model-download' | 'model-verify' | 'model-cleanup', model: ModelRef, models: ModelsConfig, container: NonNullable<NonNullable<V1Job['spec']>['template']['spec']>['containers'][number]): V1Job {
  const name = jobName({ 'model-download': 'vlinders-model-fetch', 'model-verify': 'vlinders-model-verify', 'model-cleanup': 'vlinders-model-cleanup' }[step]);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      labels: { [JOB_STEP_LABEL]: step, 'app.kubernetes.io/managed-by': 'vlinders-ops' },
      annotations: { 'vlinders.io/model': model.id, 'vlinders.io/revision': model.revision },
    },
    spec: {
      backoffLimit: 0,
      // Kubernetes stops it and removes it later even if the bot is gone meanwhile.
      activeDeadlineSeconds: models.jobTimeoutSeconds,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels: { [JOB_STEP_LABEL]: step } },
        spec: {
          restartPolicy: 'Never',
          containers: [{ ...container, volumeMounts: [{ name: VOLUME, mountPath: models.mountPath }] }],
          volumes: [{ name: VOLUME, persistentVolumeClaim: { claimName: models.pvc } }],
        },
      },
    },
  };
}

export function downloadJob(models: ModelsConfig, model: ModelRef): V1Job {
  return job('model-download', model, models, {
    name: 'download',
    image: models.downloadImage,
    command: [...models.downloadCommand],
    env: [
      { name: 'MODEL_ID', value: model.id },
      { name: 'MODEL_REVISION', value: model.revision },
      { name: 'MODEL_DIR', value: modelDir(models, model) },
      { name: 'CHECKSUM_FILE', value: models.checksumFile },
      ...(models.tokenSecret ? [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: models.tokenSecret.name, key: models.tokenSecret.key } } }] : []),
    ],
  });
}

export function verifyJob(models: ModelsConfig, model: ModelRef): V1Job {
  return job('model-verify', model, models, {
    name: 'verify',
    image: models.verifyImage,
    command: ['sha256sum', '-c', models.checksumFile],
    workingDir: modelDir(models, model),
  });
}

/** Removes a model's directory from the PVC (after a failed update; never the served model's). */
export function cleanupJob(models: ModelsConfig, model: ModelRef): V1Job {
  return job('model-cleanup', model, models, {
    name: 'cleanup',
    image: models.verifyImage,
    command: ['rm', '-rf', '--', modelDir(models, model)],
  });
}

export interface JobRun {
  succeeded: boolean;
  message: string;
  /** The last lines the pod printed. */
  tail: string[];
}

/** Runs the Job to its end (deleting it after) and keeps the last `keep` lines of its log. */
export async function runModelJob(kube: KubeClient, namespace: string, spec: V1Job, opts: FollowOptions & { keep: number }): Promise<JobRun> {
  const run = await runJob(kube, namespace, spec, { ...opts, tailLines: opts.keep }, async (lines) => {
    const tail: string[] = [];
    for await (const line of lines) tail.push(line);
    return tail;
  });
  if (run.leftover) await opts.progress(`⚠️ ${run.leftover}`);
  return { succeeded: run.succeeded, message: run.message, tail: run.output ?? [] };
}

export interface VerifyResult {
  ok: boolean;
  /** sha256sum's complaints: `file: FAILED`, a missing manifest or file. */
  problems: string[];
  detail: string;
}

/** Runs `sha256sum -c` of the model's manifest in a Job on the models PVC. */
export async function verifyModel(kube: KubeClient, namespace: string, models: ModelsConfig, model: ModelRef, opts: { timeoutMs: number; signal: AbortSignal; progress(line: string): Promise<void>; pollMs?: number }): Promise<VerifyResult> {
  const run = await runModelJob(kube, namespace, verifyJob(models, model), { ...opts, keep: 50 });
  const checked = run.tail.filter((l) => /: OK$/.test(l)).length;
  const problems = run.tail.filter((l) => /: FAILED|No such file|WARNING|sha256sum:/.test(l));
  if (run.succeeded) return { ok: true, problems: [], detail: `${checked} file${checked === 1 ? '' : 's'} of ${model.id} match ${models.checksumFile}` };
  return { ok: false, problems, detail: problems.length ? problems.join('; ') : `the verify Job failed: ${run.message}` };
}
