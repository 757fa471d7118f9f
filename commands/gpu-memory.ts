import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { ConfirmationError, NothingToDoError, UsageError, errorMessage } from '../src/core/errors.js';
import type { Report } from '../src/core/report.js';
import { servingLock } from '../src/models/serving-lock.js';
import { RUNBOOK_OOM_GPU_MEMORY } from '../src/slo/cuda-oom.js';
import { findWorkerGroup, resolveRayCluster } from '../src/ray/raycluster.js';
import { deleteWorker, isWorkerReady, listWorkers, patchSetting, readSettings } from '../src/ray/workers.js';

const USAGE = 'gpu-memory <fraction> [--cluster NAME]';

/** What the plan saw: the ConfigMap patch is pinned to this resourceVersion. */
interface GpuMemoryPin {
  resourceVersion: string;
  from: string | undefined;
}

const args = z.object({ fraction: z.coerce.number().finite() });

function checkRange(fraction: number, min: number, max: number): void {
  if (fraction < min || fraction > max) {
    throw new UsageError(`gpu_memory_utilization ${fraction} is outside the allowed range ${min}–${max}. vLLM needs headroom for CUDA graphs and other processes; choose a value in that range (the runbook's CUDA OOM remedy is ${RUNBOOK_OOM_GPU_MEMORY}).`, USAGE);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export default defineCommand({
  name: 'gpu-memory',
  summary: "Set vLLM's gpu_memory_utilization and restart the Ray GPU workers one at a time",
  usage: USAGE,
  args,
  positional: ['fraction'],
  role: 'operator',
  risk: 'change',
  examples: ['gpu-memory 0.85'],
  plan: async (ctx, { fraction }) => {
    const { inference, namespaces, ray } = ctx.config;
    checkRange(fraction, inference.gpuMemoryMin, inference.gpuMemoryMax);
    await servingLock(ctx).assertIdle();
    const kube = ctx.services.kube();
    const ns = namespaces.inference;
    const cm = await readSettings(kube, ns, inference.configMap);
    const from = cm.data?.[inference.gpuMemoryKey];
    const value = String(fraction);
    if (from !== undefined && Number(from) === fraction) throw new NothingToDoError(`${inference.gpuMemoryKey} is already ${from}; nothing to change.`);
    const { raycluster } = await resolveRayCluster(kube, { namespace: namespaces.inference, cluster: ray.cluster, service: ray.service });
    const { group } = findWorkerGroup(raycluster, ray.workerGroup);
    const workers = await listWorkers(kube, ns, raycluster.metadata.name, group.groupName);
    const pin: GpuMemoryPin = { resourceVersion: cm.metadata?.resourceVersion ?? '', from };
    return {
      title: `gpu-memory: ${from ?? 'unset'} → ${value}`,
      status: 'info',
      summary: `Sets ${inference.gpuMemoryKey} in ConfigMap ${ns}/${inference.configMap}, then restarts the ${workers.length} ${group.groupName} worker${workers.length === 1 ? '' : 's'} of ${raycluster.metadata.name} one at a time so vLLM starts with it.`,
      sections: [
        {
          fields: [
            { label: inference.gpuMemoryKey, value: `${from ?? 'unset'} → ${value}` },
            { label: 'Allowed range', value: `${inference.gpuMemoryMin}–${inference.gpuMemoryMax}` },
            { label: 'Workers to restart', value: `${workers.length} (${workers.filter(isWorkerReady).length} Ready now)` },
          ],
        },
      ],
      pin,
    };
  },
  run: (ctx, { fraction }) =>
    servingLock(ctx).run('gpu-memory change', async () => {
      const { inference, namespaces, ray } = ctx.config;
      checkRange(fraction, inference.gpuMemoryMin, inference.gpuMemoryMax);
      const kube = ctx.services.kube();
      const ns = namespaces.inference;
      const pin = ctx.pin as GpuMemoryPin | undefined;
      const cm = await readSettings(kube, ns, inference.configMap);
      const from = pin ? pin.from : cm.data?.[inference.gpuMemoryKey];
      const resourceVersion = pin?.resourceVersion ?? cm.metadata?.resourceVersion ?? '';
      if (pin && cm.metadata?.resourceVersion !== pin.resourceVersion) {
        throw new ConfirmationError(`ConfigMap ${ns}/${inference.configMap} changed after the plan was shown (${inference.gpuMemoryKey} is now ${cm.data?.[inference.gpuMemoryKey] ?? 'unset'}). Nothing was changed; run gpu-memory again.`);
      }
      const { raycluster } = await resolveRayCluster(kube, { namespace: namespaces.inference, cluster: ray.cluster, service: ray.service });
      const { group } = findWorkerGroup(raycluster, ray.workerGroup);
      const value = String(fraction);
      await patchSetting(kube, ns, inference.configMap, inference.gpuMemoryKey, value, resourceVersion);
      await ctx.progress(`Set ${inference.gpuMemoryKey} ${from ?? 'unset'} → ${value} in ${ns}/${inference.configMap}. Restarting workers one at a time…`);

      const restarted: string[] = [];
      const deadline = Date.now() + inference.rolloutTimeoutSeconds * 1000;
      const title = `gpu-memory ${value}`;
      try {
        const targets = (await listWorkers(kube, ns, raycluster.metadata.name, group.groupName)).map((p) => p.metadata?.name ?? '').filter(Boolean);
        const want = targets.length;
        for (const [i, name] of targets.entries()) {
          await deleteWorker(kube, ns, name);
          restarted.push(name);
          let last = '';
          for (;;) {
            const pods = await listWorkers(kube, ns, raycluster.metadata.name, group.groupName);
            const ready = pods.filter((p) => p.metadata?.name !== name && isWorkerReady(p)).length;
            const gone = !pods.some((p) => p.metadata?.name === name);
            const line = `Worker ${i + 1}/${want} restarted (${name}): ${ready}/${want} workers Ready`;
            if (line !== last) {
              await ctx.progress(line);
              last = line;
            }
            if (gone && ready >= want && pods.length === want) break;
            if (Date.now() >= deadline || ctx.signal.aborted) {
              const waiting = pods.filter((p) => !isWorkerReady(p));
              throw new Error(`only ${ready}/${want} workers were Ready after ${inference.rolloutTimeoutSeconds} s${waiting.length ? ` (not Ready: ${waiting.map((p) => p.metadata?.name ?? '?').join(', ')})` : ''}`);
            }
            await sleep(500);
          }
        }
        return { title, status: 'ok', summary: `${inference.gpuMemoryKey} is ${value} (was ${from ?? 'unset'}); all ${want} workers restarted and Ready.` } satisfies Report;
      } catch (err) {
        let restored: string;
        try {
          const now = await readSettings(kube, ns, inference.configMap);
          if (from === undefined) restored = `${inference.gpuMemoryKey} was unset before; it is left at ${value} (remove it by hand if needed).`;
          else {
            await patchSetting(kube, ns, inference.configMap, inference.gpuMemoryKey, from, now.metadata?.resourceVersion ?? '');
            restored = `Restored ${inference.gpuMemoryKey} to ${from} in ${ns}/${inference.configMap}.`;
          }
        } catch (restoreErr) {
          restored = `Could not restore ${inference.gpuMemoryKey} to ${from ?? 'unset'}: ${errorMessage(restoreErr)}. Set it back by hand.`;
        }
        return {
          title,
          status: 'fail',
          summary: `Restarting the workers failed: ${errorMessage(err)}. ${restored}`,
          sections: restarted.length
            ? [{ lines: [`Workers already restarted with ${value}: ${restarted.join(', ')}. They keep it until their next restart.`] }]
            : undefined,
        } satisfies Report;
      }
    }, `to ${fraction}`),
});
