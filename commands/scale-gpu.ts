import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { ConfirmationError, NothingToDoError, UsageError } from '../src/core/errors.js';
import type { Report } from '../src/core/report.js';
import { gpuInventory } from '../src/kube/survey.js';
import { type WorkerGroupSpec, desiredWorkers, findWorkerGroup, gpusPerWorker, patchWorkerReplicas, resolveRayCluster } from '../src/ray/raycluster.js';
import { isWorkerReady, listWorkers } from '../src/ray/workers.js';

/** What the plan saw; the run refuses if the RayCluster moved on before approval. */
interface ScalePin {
  raycluster: string;
  namespace: string;
  index: number;
  from: number | undefined;
}

/** Why the spec's replicas is not what runs (the operator's clamp), or undefined when it is. */
function clampNote(group: WorkerGroupSpec, running: number): string | undefined {
  if (group.replicas === undefined || group.replicas === running) return undefined;
  const bound = group.replicas < running ? `below minReplicas ${running}` : `above maxReplicas ${running}`;
  return `replicas ${group.replicas} is ${bound}: the operator runs ${running}`;
}

const args = z.object({
  replicas: z.coerce.number().int().min(0).max(1000),
  group: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a worker group name').max(63).optional(),
});

export default defineCommand({
  name: 'scale-gpu',
  summary: 'Scale the Ray GPU worker group (shows GPUs free before you approve; to 0 needs two people)',
  usage: 'scale-gpu <replicas> [--group NAME] [--cluster NAME]',
  args,
  positional: ['replicas'],
  role: 'operator',
  risk: 'change',
  examples: ['scale-gpu 5', 'scale-gpu 2 --group gpu-workers'],
  plan: async (ctx, { replicas, group: groupName }) => {
    const kube = ctx.services.kube();
    const { ray, namespaces, limits } = ctx.config;
    const { raycluster, via } = await resolveRayCluster(kube, { namespace: namespaces.inference, cluster: ray.cluster, service: ray.service });
    const { index, group } = findWorkerGroup(raycluster, groupName ?? ray.workerGroup);
    // What runs now, as the operator clamps replicas: with minReplicas 2 and replicas 0 (the CRD's default), 2.
    const current = desiredWorkers(group);
    const min = group.minReplicas ?? 0;
    const max = Math.min(group.maxReplicas ?? limits.maxGpuWorkers, limits.maxGpuWorkers);
    if (replicas < min || replicas > max) {
      const why = replicas > limits.maxGpuWorkers && (group.maxReplicas ?? Infinity) > limits.maxGpuWorkers ? ` (the bot's limit limits.maxGpuWorkers is ${limits.maxGpuWorkers})` : '';
      throw new UsageError(
        `${replicas} is outside ${group.groupName}'s range [${min}, ${max}]${why}. Choose a count in that range, or raise minReplicas/maxReplicas in the RayCluster spec first.`,
        'scale-gpu <replicas> [--group NAME] [--cluster NAME]',
      );
    }
    const clamped = clampNote(group, current);
    if (replicas === current) throw new NothingToDoError(`${group.groupName} already has ${current} worker${current === 1 ? '' : 's'}${clamped ? ` (${clamped})` : ''}; nothing to change.`);

    const perWorker = gpusPerWorker(group);
    const inventory = await gpuInventory(kube);
    const free = inventory.filter((n) => n.ready).reduce((sum, n) => sum + Math.max(0, n.allocatable - n.requested), 0);
    const needed = Math.max(0, replicas - current) * perWorker;
    const warnings: string[] = [];
    if (needed > free) {
      const fit = perWorker > 0 ? Math.floor(free / perWorker) : 0;
      warnings.push(`⚠️ Needs ${needed} more GPUs but only ${free} are free: ${Math.max(0, replicas - current - fit)} of the new workers will stay Pending until GPU nodes are added.`);
    }
    // No worker serves no model: that takes the platform's inference down, so it needs two people.
    const toZero = replicas === 0;
    if (toZero) warnings.push('⚠️ Zero workers: every model stops serving until scaled up again. Destructive: a second person with the approver role must approve.');
    if (raycluster.spec.enableInTreeAutoscaling) {
      warnings.push('⚠️ The Ray autoscaler (enableInTreeAutoscaling) owns replicas in this cluster: it may change them back.');
    }
    const pin: ScalePin = { raycluster: raycluster.metadata.name, namespace: raycluster.metadata.namespace, index, from: group.replicas };
    return {
      title: `scale-gpu ${group.groupName}: ${current} → ${replicas}`,
      status: warnings.length > 0 ? 'warn' : 'info',
      summary: `RayCluster ${raycluster.metadata.namespace}/${raycluster.metadata.name}${via ? ` (active cluster of ${via})` : ''}, worker group ${group.groupName}.`,
      sections: [
        {
          fields: [
            { label: 'Workers', value: `${current} → ${replicas}` },
            ...(clamped ? [{ label: 'Spec replicas', value: `${group.replicas} → ${replicas} (${clamped})` }] : []),
            { label: 'Range', value: `min ${min}, max ${max}` },
            { label: 'GPUs per worker', value: String(perWorker) },
            { label: 'GPUs free', value: `${free} (needs ${needed})` },
          ],
        },
        ...(warnings.length > 0 ? [{ lines: warnings }] : []),
      ],
      pin,
      ...(toZero ? { risk: 'destructive' as const } : {}),
    };
  },
  run: async (ctx, { replicas, group: groupName }) => {
    const kube = ctx.services.kube();
    const pin = ctx.pin as ScalePin | undefined;
    const { ray, namespaces } = ctx.config;
    const { raycluster } = await resolveRayCluster(kube, { namespace: namespaces.inference, cluster: ray.cluster, service: ray.service });
    const { index, group } = findWorkerGroup(raycluster, groupName ?? ray.workerGroup);
    if (pin && (pin.raycluster !== raycluster.metadata.name || pin.index !== index || pin.from !== group.replicas)) {
      throw new ConfirmationError(
        `RayCluster ${raycluster.metadata.name} changed after the plan was shown (${group.groupName} replicas ${pin.from ?? 'unset'} → ${group.replicas ?? 'unset'}). Nothing was changed; run scale-gpu again.`,
      );
    }
    await patchWorkerReplicas(kube, raycluster, index, group, replicas);
    await ctx.progress(`Patched ${raycluster.metadata.name}: ${group.groupName} replicas → ${replicas}. Waiting for workers…`);

    const ns = raycluster.metadata.namespace;
    const deadline = Date.now() + ray.scaleTimeoutSeconds * 1000;
    let last = '';
    for (;;) {
      const pods = await listWorkers(kube, ns, raycluster.metadata.name, group.groupName);
      const ready = pods.filter(isWorkerReady).length;
      const line = `${ready}/${replicas} workers Ready`;
      if (line !== last) {
        await ctx.progress(line);
        last = line;
      }
      if (ready >= replicas && pods.length === replicas) {
        return { title: `scale-gpu ${group.groupName}`, status: 'ok', summary: `${group.groupName} is at ${replicas} worker${replicas === 1 ? '' : 's'}, all Ready.` } satisfies Report;
      }
      if (Date.now() >= deadline || ctx.signal.aborted) {
        const pending = pods.filter((p) => p.status?.phase === 'Pending');
        return {
          title: `scale-gpu ${group.groupName}`,
          status: 'warn',
          summary: `Replicas are set to ${replicas}, but only ${ready}/${replicas} workers are Ready after ${ray.scaleTimeoutSeconds} s.`,
          sections: pending.length
            ? [{ title: 'Pending workers', header: ['pod', 'scheduler says'], rows: pending.map((p) => [p.metadata?.name ?? '?', p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message ?? p.status?.conditions?.[0]?.message ?? 'no scheduling message yet']) }]
            : undefined,
        } satisfies Report;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  },
});
