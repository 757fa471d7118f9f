import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { NotFoundError } from '../src/core/errors.js';
import type { ReportSection } from '../src/core/report.js';
import { readFleetGpus } from '../src/gpu/fleet.js';

const fmt = (n: number | undefined, unit = '') => (n === undefined ? 'n/a' : `${Math.round(n * 100) / 100}${unit}`);

export default defineCommand({
  name: 'gpu',
  summary: 'nvidia-smi in every Ray GPU worker: utilization, memory, temperature, power, processes',
  usage: 'gpu [--pod NAME] [--cluster NAME]',
  args: z.object({ pod: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected a pod name').max(253).optional() }),
  role: 'viewer',
  risk: 'read',
  examples: ['gpu', 'gpu --pod vlinders-ray-cluster-gpu-workers-worker-abcde'],
  run: async (ctx, { pod: onlyPod }) => {
    const { raycluster, summary } = await readFleetGpus(ctx.services.kube(), ctx.config, ctx.signal, {
      pod: onlyPod,
      beforeProbe: (n) => ctx.progress(`Asking nvidia-smi in ${n} worker pod${n === 1 ? '' : 's'}…`),
    });
    const ns = raycluster.metadata.namespace;
    if (!summary) {
      throw new NotFoundError(onlyPod ? `No running Ray worker pod "${onlyPod}" in ${ns}.` : `RayCluster ${ns}/${raycluster.metadata.name} has no running worker pods.`);
    }
    const o = summary.overall;
    const sections: ReportSection[] = [];
    if (summary.flags.length > 0) {
      sections.push({ title: 'Needs attention', lines: summary.flags.map((f) => `${f.severity === 'fail' ? '❌' : '⚠️'} ${f.message}${f.hint ? ` ${f.hint}` : ''}`) });
    }
    sections.push({
      title: 'GPUs',
      header: ['node', 'pod', 'gpu', 'util', 'memory MiB', 'temp', 'power W', 'processes'],
      rows: summary.gpus.map((g) => [
        g.node,
        g.pod,
        `${g.index} ${g.name}`,
        g.utilizationText,
        `${fmt(g.memoryUsedMiB)}/${fmt(g.memoryTotalMiB)} (${fmt(g.memoryPercent, '%')})`,
        fmt(g.temperatureC, '°C'),
        `${fmt(g.powerDrawW)}/${fmt(g.powerLimitW)}`,
        g.processes === undefined ? '?' : g.processes.map((p) => `${p.name}(${fmt(p.usedMemoryMiB)}MiB)`).join(' ') || '-',
      ]),
    });
    if (summary.nodes.length > 1) {
      sections.push({
        title: 'Per node',
        header: ['node', 'gpus', 'mean util', 'memory MiB', 'power W'],
        rows: summary.nodes.map((n) => [n.node, String(n.gpuCount), fmt(n.meanUtilizationPercent, '%'), `${n.memoryUsedMiB}/${n.memoryTotalMiB}`, fmt(n.powerDrawW)]),
      });
    }
    if (summary.notes.length > 0) sections.push({ title: 'Notes', lines: summary.notes.map((n) => `${n.pod}: ${n.note}`) });
    return {
      title: 'gpu',
      status: summary.status,
      summary: `${o.gpuCount} GPU${o.gpuCount === 1 ? '' : 's'} in ${o.podCount - o.failedPodCount}/${o.podCount} pods · mean utilization ${fmt(o.meanUtilizationPercent, '%')} · memory ${o.memoryUsedMiB}/${o.memoryTotalMiB} MiB (${fmt(o.memoryPercent, '%')}) · ${fmt(o.powerDrawW, ' W')}${summary.failedPods.length ? ` · ${summary.failedPods.length} pod(s) without figures` : ''}`,
      sections,
    };
  },
});
