import { z } from 'zod';
import { defineCommand, type CommandContext } from '../src/core/command.js';
import { parseModelRef } from '../src/models/model-id.js';
import { modelDir } from '../src/models/model-jobs.js';
import { servingLock } from '../src/models/serving-lock.js';
import { STEPS, currentModel, refuseNoop, runModelUpdate, type ModelUpdateDeps, type ModelUpdatePin } from '../src/models/update.js';
import { dashboardFor } from '../src/ray/dashboard.js';

const USAGE = 'model update <org/name> [--revision R] [--cluster NAME]';

const args = z.object({
  model: z.string().min(1, 'give the model id, e.g. meta-llama/Llama-3.1-8B-Instruct').max(200),
  revision: z.string().min(1).max(100).optional(),
});

const depsOf = (ctx: CommandContext): ModelUpdateDeps => ({
  kube: ctx.services.kube(),
  config: ctx.config,
  dashboard: dashboardFor(ctx.config.ray),
  signal: ctx.signal,
  progress: (text) => ctx.progress(text),
});

export default defineCommand({
  name: 'model update',
  summary: 'Download a model into the models PVC, verify it, switch vlinders-config and Ray Serve to it; roll back on any failure',
  usage: USAGE,
  args,
  positional: ['model'],
  role: 'admin',
  risk: 'change',
  examples: ['model update meta-llama/Llama-3.1-70B-Instruct', 'model update Qwen/Qwen2.5-7B-Instruct --revision a09a3545'],
  plan: async (ctx, { model, revision }) => {
    const ref = parseModelRef(model, revision);
    const { config } = ctx;
    await servingLock(ctx).assertIdle();
    const state = await currentModel(depsOf(ctx));
    refuseNoop(state, ref);
    const ns = config.namespaces.inference;
    const pin: ModelUpdatePin = state.pin;
    return {
      title: `model update: ${state.pin.from ?? 'unset'} → ${ref.id}`,
      status: state.serve.status === 'RUNNING' ? 'info' : 'warn',
      summary: `Downloads ${ref.id}@${ref.revision} into PVC ${ns}/${config.models.pvc}, verifies its checksums, sets \`${config.models.configKey}\` in ConfigMap ${ns}/${config.inference.configMap} and redeploys Ray Serve application ${config.ray.serveApplication}. Any failure puts the ConfigMap and the Serve config back as they are now.`,
      sections: [
        {
          fields: [
            { label: 'Current model (ConfigMap)', value: state.pin.from ?? 'unset' },
            { label: 'Served now', value: `${state.serve.model ?? 'unnamed'} (${state.serve.status})` },
            { label: 'New model', value: `${ref.id}@${ref.revision}` },
            { label: 'Into', value: `${config.models.pvc}:${modelDir(config.models, ref)}` },
            { label: 'Redeploy', value: config.ray.redeploy === 'serve-api' ? 'PUT /api/serve/applications/' : 'Ray Jobs submission' },
          ],
        },
        { title: 'Steps', lines: STEPS.map((s, i) => `${i + 1}. ${s}`) },
        ...(state.serve.status === 'RUNNING' ? [] : [{ lines: [`⚠️ ${config.ray.serveApplication} is ${state.serve.status} now${state.serve.message ? `: ${state.serve.message.split('\n')[0]}` : ''}.`] }]),
      ],
      pin,
    };
  },
  run: async (ctx, { model, revision }) => {
    const ref = parseModelRef(model, revision);
    const deps = depsOf(ctx);
    return servingLock(ctx).run(
      'model update',
      () => runModelUpdate(deps, ref, ctx.pin as ModelUpdatePin | undefined),
      `to ${ref.id}`,
    );
  },
});
