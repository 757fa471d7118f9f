import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { errorMessage } from '../src/core/errors.js';
import { worstStatus, type ReportSection, type ReportStatus } from '../src/core/report.js';
import { connectionStatus } from '../src/digest/database.js';
import { formatBytes } from '../src/digest/format.js';
import { findPod } from '../src/kube/find.js';
import { podFinding, podRestarts } from '../src/kube/health.js';
import { postgresFor } from '../src/postgres/index.js';
import { readConnections } from '../src/postgres/health.js';

/** The Service the bot would connect through: backup.host's first label when it is a cluster DNS name, else `postgres`. */
export function postgresServiceName(host: string): string {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9-]+\.svc(\..*)?)?$/.exec(host);
  return m && (m[3] || !host.includes('.')) ? (m[1] as string) : 'postgres';
}

const selects = (service: V1Service, pod: V1Pod) => {
  const selector = service.spec?.selector ?? {};
  const labels = pod.metadata?.labels ?? {};
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
};

export default defineCommand({
  name: 'diagnose db',
  summary: 'Database connection failures: the postgres pod and Service, SELECT 1, connections against max_connections',
  usage: 'diagnose db [--cluster NAME]',
  args: z.object({}),
  role: 'viewer',
  risk: 'read',
  examples: ['diagnose db'],
  run: async (ctx) => {
    const kube = ctx.services.kube();
    const pg = postgresFor(ctx);
    const { namespace, pod: podName, host } = pg.settings;
    const statuses: ReportStatus[] = [];
    const sections: ReportSection[] = [];

    // The pod.
    let pod: V1Pod | undefined;
    try {
      pod = await findPod(kube, [namespace], podName);
      const finding = podFinding(pod);
      statuses.push(finding?.severity ?? 'ok');
      sections.push({
        title: `Pod ${namespace}/${podName}`,
        fields: [
          { label: 'Phase', value: pod.status?.phase ?? 'Unknown' },
          { label: 'Ready', value: finding ? `no: ${finding.reason}` : 'yes' },
          { label: 'Restarts', value: String(podRestarts(pod)) },
          { label: 'Node', value: pod.spec?.nodeName ?? '(not scheduled)' },
        ],
      });
    } catch (err) {
      statuses.push('fail');
      sections.push({ title: `Pod ${namespace}/${podName}`, lines: [`❌ ${errorMessage(err)}`] });
    }

    // The Service.
    const serviceName = postgresServiceName(host);
    try {
      const svc = await kube.call({ verb: 'get', resource: 'services', namespace, name: serviceName }, () => kube.core.readNamespacedService({ namespace, name: serviceName }));
      const selectsPod = pod ? selects(svc, pod) : undefined;
      if (selectsPod === false) statuses.push('fail');
      sections.push({
        title: `Service ${namespace}/${serviceName}`,
        fields: [
          { label: 'Type', value: svc.spec?.type ?? 'ClusterIP' },
          { label: 'Cluster IP', value: svc.spec?.clusterIP ?? '-' },
          { label: 'Ports', value: (svc.spec?.ports ?? []).map((p) => `${p.name ? `${p.name} ` : ''}${p.port}→${String(p.targetPort ?? p.port)}`).join(', ') || '-' },
          { label: `Selects ${podName}`, value: selectsPod === undefined ? 'unknown (no pod)' : selectsPod ? 'yes' : `❌ no: selector ${JSON.stringify(svc.spec?.selector ?? {})} does not match the pod's labels` },
        ],
      });
    } catch (err) {
      statuses.push('fail');
      sections.push({ title: `Service ${namespace}/${serviceName}`, lines: [`❌ ${errorMessage(err)}`] });
    }

    // SELECT 1, then connections.
    await ctx.progress(`SELECT 1 on ${pg.where}…`);
    const started = performance.now();
    let headline: string;
    try {
      const rows = await pg.query('SELECT 1', { signal: ctx.signal });
      const ms = Math.round(performance.now() - started);
      if (rows[0]?.[0] !== '1') throw new Error(`SELECT 1 answered ${JSON.stringify(rows)}`);
      const c = await readConnections(pg, ctx.signal);
      const s = connectionStatus(c.connections, c.maxConnections);
      statuses.push(s);
      headline = `SELECT 1 answered in ${ms} ms; ${c.connections} of ${c.maxConnections} connections in use`;
      sections.push({
        title: 'PostgreSQL',
        fields: [
          { label: 'SELECT 1', value: `✅ ${ms} ms via ${pg.where}` },
          { label: 'Connections', value: `${s === 'ok' ? '✅' : s === 'warn' ? '⚠️' : '❌'} ${c.connections} of max_connections ${c.maxConnections} (${Math.round((c.connections / Math.max(1, c.maxConnections)) * 100)}%)` },
          { label: 'Database size', value: formatBytes(c.sizeBytes) },
        ],
        ...(s === 'ok' ? {} : { lines: ['Near the limit, new connections fail with "sorry, too many clients already": look for idle connections in pg_stat_activity or raise the pool limits.'] }),
      });
    } catch (err) {
      statuses.push('fail');
      headline = `PostgreSQL does not answer: ${errorMessage(err)}`;
      sections.push({ title: 'PostgreSQL', lines: [`❌ SELECT 1 via ${pg.where} failed: ${errorMessage(err)}`] });
    }
    return { title: `diagnose db · ${pg.settings.database}`, status: worstStatus(['ok', ...statuses]), summary: headline, sections };
  },
});
