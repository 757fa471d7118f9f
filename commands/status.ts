import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { errorMessage } from '../src/core/errors.js';
import { worstStatus, type Report, type ReportSection } from '../src/core/report.js';
import type { Finding } from '../src/kube/health.js';
import { surveyCluster } from '../src/kube/survey.js';
import { desiredWorkers, resolveRayCluster } from '../src/ray/raycluster.js';
import { isWorkerReady, listWorkers } from '../src/ray/workers.js';
import { vlindersNamespaces } from '../src/config/schema.js';

export default defineCommand({
  name: 'status',
  summary: 'Health check: nodes, pods, PVCs, workloads and Ray workers; only what needs attention',
  usage: 'status [--cluster NAME]',
  args: z.object({}),
  role: 'viewer',
  risk: 'read',
  examples: ['status', 'status --cluster prod'],
  run: async (ctx) => {
    const kube = ctx.services.kube();
    const { namespaces, ray } = ctx.config;
    const survey = await surveyCluster(kube, vlindersNamespaces(namespaces));
    const findings: Finding[] = [...survey.findings];

    let rayLine = 'Ray: not checked';
    try {
      const { raycluster } = await resolveRayCluster(kube, { namespace: namespaces.inference, cluster: ray.cluster, service: ray.service });
      const groups = raycluster.spec.workerGroupSpecs ?? [];
      const parts: string[] = [];
      for (const group of groups) {
        const desired = desiredWorkers(group);
        const ns = raycluster.metadata.namespace;
        const ready = (await listWorkers(kube, ns, raycluster.metadata.name, group.groupName)).filter(isWorkerReady).length;
        parts.push(`${group.groupName} ${ready}/${desired} ready`);
        if (ready < desired) {
          findings.push({ severity: ready === 0 ? 'fail' : 'warn', subject: `raycluster ${ns}/${raycluster.metadata.name}`, reason: `worker group ${group.groupName}: ${ready}/${desired} workers ready` });
        }
      }
      rayLine = `Ray ${raycluster.metadata.name}: ${parts.join(', ') || 'no worker groups'}`;
    } catch (err) {
      findings.push({ severity: 'warn', subject: `raycluster ${ray.cluster}`, reason: errorMessage(err) });
    }

    const gpuAlloc = survey.nodes.gpu.reduce((n, g) => n + (g.ready ? g.allocatable : 0), 0);
    const gpuReq = survey.nodes.gpu.reduce((n, g) => n + g.requested, 0);
    const checked = [
      `${survey.nodes.ready}/${survey.nodes.total} nodes Ready`,
      `${survey.nodes.gpu.length} GPU nodes, ${gpuReq}/${gpuAlloc} GPUs requested`,
      survey.usage ? `CPU ${survey.usage.cpuPercent}%, memory ${survey.usage.memoryPercent}% used` : `usage unknown (${survey.usageError ?? 'no metrics'})`,
      `${survey.pods.inNamespaces} Vlinders pods`,
      `${survey.pvcs} PVCs`,
      `${survey.workloads} deployments/statefulsets`,
      rayLine,
    ];
    const status = findings.length === 0 ? 'ok' : worstStatus(findings.map((f) => f.severity));
    const sections: ReportSection[] = [];
    if (findings.length > 0) {
      sections.push({ title: 'Needs attention', header: ['what', 'why'], rows: findings.map((f) => [`${f.severity === 'fail' ? '❌' : '⚠️'} ${f.subject}`, f.reason]) });
    }
    sections.push({ title: 'Checked', lines: checked });
    const report: Report = {
      title: `status${ctx.services.clusterName ? ` · ${ctx.services.clusterName}` : ''}`,
      status,
      summary: findings.length === 0 ? 'All healthy.' : `${findings.length} thing${findings.length === 1 ? '' : 's'} need${findings.length === 1 ? 's' : ''} attention.`,
      sections,
    };
    return report;
  },
});
