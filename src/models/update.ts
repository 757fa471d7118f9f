// `model update`, step by step: download into the models PVC (a Job), verify the checksums (a
// Job), patch the model entry of vlinders-config (a JSON patch that tests what the plan saw),
// redeploy Ray Serve, and wait until the application is RUNNING and /v1/models lists the
// model. A failure at any step undoes the steps before it: the ConfigMap gets its old entry
// back and Serve its old config, and the report says so. The Jobs never outlive their step.
import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { ConfirmationError, NothingToDoError, errorMessage } from '../core/errors.js';
import type { Report } from '../core/report.js';
import type { KubeClient } from '../kube/client.js';
import type { RayDashboard, ServeDeployConfig } from '../ray/dashboard.js';
import { readSettings, replaceSetting } from '../ray/workers.js';
import type { ModelRef } from './model-id.js';
import { cleanupJob, downloadJob, modelDir, runModelJob, verifyModel } from './model-jobs.js';
import { redeploy, serveView, type ServeView, waitServing } from './serve-model.js';

/**
 * What the plan saw; the run refuses to start if either changed. The Serve config is pinned by
 * its hash: pins are stored with the pending action, and a Serve config may carry tokens in
 * its env. The run re-reads it, checks the hash, and keeps that copy for a rollback.
 */
export interface ModelUpdatePin {
  resourceVersion: string;
  from: string | undefined;
  serveHash: string;
  served: string | undefined;
}

interface Seen {
  pin: ModelUpdatePin;
  serve: ServeDeployConfig;
}

export const hashOf = (config: ServeDeployConfig): string => createHash('sha256').update(JSON.stringify(config)).digest('hex');

export interface ModelUpdateDeps {
  kube: KubeClient;
  config: Config;
  dashboard: RayDashboard;
  signal: AbortSignal;
  progress(text: string): Promise<void>;
  /** How often Jobs and Serve are polled (default 500 ms). */
  pollMs?: number;
}

export const STEPS = ['download', 'verify checksums', 'patch ConfigMap', 'redeploy Ray Serve', 'wait until serving'] as const;

export interface ModelState {
  pin: ModelUpdatePin;
  serve: ServeView;
}

/** The current model (ConfigMap and Serve), as the plan shows and pins it. */
export async function currentModel(deps: ModelUpdateDeps): Promise<ModelState> {
  const { config } = deps;
  const cm = await readSettings(deps.kube, config.namespaces.inference, config.inference.configMap);
  const serve = serveView(await deps.dashboard.getApplications(deps.signal), config.ray);
  return { serve, pin: { resourceVersion: cm.metadata?.resourceVersion ?? '', from: cm.data?.[config.models.configKey], serveHash: hashOf(serve.config), served: serve.model } };
}

export function refuseNoop(state: ModelState, model: ModelRef): void {
  if (state.pin.from === model.id && state.serve.model === model.id && state.serve.status === 'RUNNING') {
    throw new NothingToDoError(`${model.id} is already the model in the ConfigMap and Ray Serve is RUNNING it; nothing to update.`);
  }
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** `pin`: what the plan saw; without one (no plan was shown) the update starts from what is there now. */
export async function runModelUpdate(deps: ModelUpdateDeps, model: ModelRef, planned?: ModelUpdatePin): Promise<Report> {
  const { config, kube } = deps;
  const ns = config.namespaces.inference;
  const cmName = config.inference.configMap;
  const key = config.models.configKey;
  const title = `model update ${model.id}`;

  // Refuse before doing anything if the world moved since the plan.
  const now = await currentModel(deps);
  const pin = planned ?? now.pin;
  if (now.pin.resourceVersion !== pin.resourceVersion) {
    throw new ConfirmationError(`ConfigMap ${ns}/${cmName} changed after the plan was shown (${key} is now ${now.pin.from ?? 'unset'}). Nothing was changed; run model update again.`);
  }
  if (now.pin.serveHash !== pin.serveHash) {
    throw new ConfirmationError(`The Ray Serve config changed after the plan was shown (application ${config.ray.serveApplication} now serves ${now.serve.model ?? 'an unnamed model'}). Nothing was changed; run model update again.`);
  }

  const seen: Seen = { pin, serve: now.serve.config };
  const done: string[] = [];
  const reached = { files: false, configMap: false, serve: false };
  let step = 0;
  const pollMs = deps.pollMs ?? 500;
  const jobOpts = { timeoutMs: config.models.jobTimeoutSeconds * 1000, signal: deps.signal, pollMs, progress: deps.progress };
  const serveOpts = { timeoutMs: config.models.serveTimeoutSeconds * 1000, signal: deps.signal, pollMs, progress: deps.progress };
  const begin = async (text: string) => {
    await deps.progress(`Step ${step + 1}/${STEPS.length} · ${text}`);
    return Date.now();
  };
  const finish = async (started: number, detail: string) => {
    const line = `✅ ${STEPS[step]}: ${detail} (${seconds(started)})`;
    done.push(line);
    await deps.progress(line);
    step++;
  };

  try {
    reached.files = true;
    let t = await begin(`downloading ${model.id}@${model.revision} into PVC ${ns}/${config.models.pvc} at ${modelDir(config.models, model)}`);
    const download = await runModelJob(kube, ns, downloadJob(config.models, model), { ...jobOpts, logTail: true, keep: 5 });
    if (!download.succeeded) throw new Error(`the download Job failed (${download.message})${download.tail.length ? `; its last lines: ${download.tail.slice(-3).join(' | ')}` : ''}`);
    await finish(t, `${model.id}@${model.revision} downloaded`);

    t = await begin(`verifying checksums (sha256sum -c ${config.models.checksumFile})`);
    const verified = await verifyModel(kube, ns, config.models, model, jobOpts);
    if (!verified.ok) throw new Error(`checksums do not match: ${verified.detail}`);
    await finish(t, verified.detail);

    t = await begin(`setting ${key} in ConfigMap ${ns}/${cmName}: ${pin.from ?? 'unset'} → ${model.id}`);
    // The resourceVersion was checked at approval; a download takes long, so from here only the
    // model entry itself is tested: someone's gpu-memory change meanwhile is kept, a changed model refused.
    await replaceSetting(kube, ns, cmName, key, { from: pin.from, to: model.id });
    reached.configMap = true;
    await finish(t, `${key} = ${model.id}`);

    t = await begin(config.ray.redeploy === 'serve-api' ? `redeploying Ray Serve: PUT /api/serve/applications/ with ${config.ray.serveModelEnv}=${model.id}` : `redeploying Ray Serve through a Ray job (${config.ray.redeployEntrypoint})`);
    reached.serve = true;
    await redeploy(deps.dashboard, config.ray, seen.serve, model.id, serveOpts);
    await finish(t, 'accepted');

    t = await begin(`waiting until ${config.ray.serveApplication} is RUNNING and /v1/models lists ${model.id}`);
    await waitServing(deps.dashboard, config.ray, model.id, serveOpts);
    await finish(t, `RUNNING; /v1/models lists ${model.id}`);
  } catch (err) {
    const failed = `❌ ${STEPS[step]}: ${errorMessage(err)}`;
    await deps.progress(failed);
    const undone = await rollback(deps, model, seen, reached);
    const notRun = STEPS.slice(step + 1).map((s) => `– ${s}: not run`);
    return {
      title,
      status: 'fail',
      summary: `Step ${step + 1}/${STEPS.length} (${STEPS[step]}) failed: ${errorMessage(err)} ${reached.configMap || reached.serve ? 'Rolled back; see below.' : 'Nothing had been changed yet: the ConfigMap and Ray Serve are as they were.'}`,
      sections: [{ title: 'Steps', lines: [...done, failed, ...notRun] }, ...(undone.length ? [{ title: 'Rollback', lines: undone }] : [])],
    };
  }
  return {
    title,
    status: 'ok',
    summary: `${model.id}@${model.revision} is downloaded, verified, set in ${ns}/${cmName} and served by Ray Serve (was ${pin.from ?? 'unset'}).`,
    sections: [{ title: 'Steps', lines: done }],
  };
}

/** Puts back what the failed update changed; each line says what was restored, or what to do by hand. */
async function rollback(deps: ModelUpdateDeps, model: ModelRef, { pin, serve }: Seen, reached: { files: boolean; configMap: boolean; serve: boolean }): Promise<string[]> {
  const { config, kube } = deps;
  const ns = config.namespaces.inference;
  const cmName = config.inference.configMap;
  const key = config.models.configKey;
  const lines: string[] = [];
  const say = async (line: string) => {
    lines.push(line);
    await deps.progress(line);
  };
  // The rollback must run even when the update was aborted: it gets its own signals.
  const signal = AbortSignal.timeout(config.models.serveTimeoutSeconds * 1000);
  if (reached.configMap) {
    try {
      await replaceSetting(kube, ns, cmName, key, { from: model.id, to: pin.from });
      await say(`↩️ Restored ${key} in ConfigMap ${ns}/${cmName} to ${pin.from ?? 'unset'}.`);
    } catch (err) {
      await say(`⚠️ Could not restore ${key} in ConfigMap ${ns}/${cmName} to ${pin.from ?? 'unset'}: ${errorMessage(err)} Set it back by hand.`);
    }
  }
  if (reached.serve) {
    const opts = { signal, timeoutMs: config.models.serveTimeoutSeconds * 1000, pollMs: deps.pollMs ?? 500, progress: deps.progress };
    try {
      if (config.ray.redeploy === 'serve-api') await deps.dashboard.putApplications(serve, signal);
      else if (pin.served) await redeploy(deps.dashboard, config.ray, serve, pin.served, opts);
      if (pin.served) await waitServing(deps.dashboard, config.ray, pin.served, opts);
      await say(`↩️ Redeployed the previous Ray Serve config${pin.served ? `: ${config.ray.serveApplication} serves ${pin.served} again` : ''}.`);
    } catch (err) {
      await say(`⚠️ Could not redeploy the previous Ray Serve config: ${errorMessage(err)} Redeploy it by hand (serve deploy with ${config.ray.serveModelEnv}=${pin.served ?? '?'}).`);
    }
  }
  // The new model's files go too, unless they are the model the ConfigMap or Serve named before.
  if (reached.files && model.id !== pin.from && model.id !== pin.served) {
    const where = `${config.models.pvc}:${modelDir(config.models, model)}`;
    try {
      // Another update of the same model may have finished meanwhile: then the files are in use.
      const inUse = await currentModel({ ...deps, signal }).then((now) => now.pin.from === model.id || now.serve.model === model.id);
      if (inUse) {
        await say(`Kept the files of ${model.id} on ${where}: the ConfigMap or Ray Serve names that model now.`);
        return lines;
      }
      const run = await runModelJob(kube, ns, cleanupJob(config.models, model), { timeoutMs: config.models.jobTimeoutSeconds * 1000, signal: AbortSignal.timeout((config.models.jobTimeoutSeconds + 30) * 1000), pollMs: deps.pollMs ?? 500, progress: async () => undefined, keep: 3 });
      if (!run.succeeded) throw new Error(`${run.message}${run.tail.length ? `: ${run.tail.join(' | ')}` : ''}`);
      await say(`🧹 Removed the downloaded files of ${model.id} from ${where}.`);
    } catch (err) {
      await say(`⚠️ Could not remove the downloaded files of ${model.id} from ${where}: ${errorMessage(err)} They are not used; delete them by hand.`);
    }
  }
  return lines;
}
