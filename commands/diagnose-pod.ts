import type { CoreV1Event, V1ContainerState, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineCommand } from '../src/core/command.js';
import { errorMessage } from '../src/core/errors.js';
import type { ReportSection } from '../src/core/report.js';
import { findPod } from '../src/kube/find.js';
import { podFinding, podRestarts } from '../src/kube/health.js';
import { vlindersNamespaces } from '../src/config/schema.js';

const LOG_LINES = 50;

function describeState(state: V1ContainerState | undefined): string {
  if (state?.running) return `Running since ${String(state.running.startedAt ?? '?')}`;
  if (state?.waiting) return `Waiting: ${state.waiting.reason ?? '?'}${state.waiting.message ? ` (${state.waiting.message})` : ''}`;
  if (state?.terminated) {
    const t = state.terminated;
    return `Terminated: ${t.reason ?? '?'}, exit code ${t.exitCode}${t.signal ? `, signal ${t.signal}` : ''}${t.finishedAt ? ` at ${String(t.finishedAt)}` : ''}${t.message ? ` (${t.message})` : ''}`;
  }
  return 'unknown';
}

const age = (t: Date | string | undefined) => (t ? String(t instanceof Date ? t.toISOString() : t) : '');

export default defineCommand({
  name: 'diagnose pod',
  summary: 'Like kubectl describe: status, conditions, containers, last termination, events and the last 50 log lines',
  usage: 'diagnose pod <name> [--cluster NAME]',
  args: z.object({ name: z.string().min(1).max(253) }),
  positional: ['name'],
  role: 'viewer',
  risk: 'read',
  examples: ['diagnose pod postgres-0'],
  run: async (ctx, { name }) => {
    const kube = ctx.services.kube();
    const { namespaces } = ctx.config;
    const pod: V1Pod = await findPod(kube, vlindersNamespaces(namespaces), name);
    const ns = pod.metadata?.namespace ?? '';
    const finding = podFinding(pod);
    const sections: ReportSection[] = [
      {
        fields: [
          { label: 'Namespace', value: ns },
          { label: 'Node', value: pod.spec?.nodeName ?? '(not scheduled)' },
          { label: 'Phase', value: pod.status?.phase ?? 'Unknown' },
          { label: 'Restarts', value: String(podRestarts(pod)) },
          { label: 'IP', value: pod.status?.podIP ?? '-' },
          { label: 'Owner', value: pod.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}`).join(', ') || '-' },
        ],
      },
      { title: 'Conditions', header: ['type', 'status', 'reason', 'message'], rows: (pod.status?.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']) },
      {
        title: 'Containers',
        header: ['container', 'ready', 'restarts', 'state', 'last termination'],
        rows: (pod.status?.containerStatuses ?? []).map((c) => [c.name, c.ready ? 'yes' : 'no', String(c.restartCount), describeState(c.state), c.lastState?.terminated ? describeState(c.lastState) : '-']),
      },
    ];

    const events: CoreV1Event[] = [];
    for await (const e of kube.list({ verb: 'list', resource: 'events', namespace: ns }, (page) =>
      kube.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${pod.metadata?.name ?? name}`, ...page }),
    )) {
      events.push(e);
    }
    events.sort((a, b) => age(a.lastTimestamp ?? a.eventTime).localeCompare(age(b.lastTimestamp ?? b.eventTime)));
    sections.push(
      events.length
        ? { title: 'Events', header: ['type', 'reason', 'count', 'from', 'message'], rows: events.slice(-20).map((e) => [e.type ?? '', e.reason ?? '', String(e.count ?? 1), e.source?.component ?? e.reportingComponent ?? '', e.message ?? '']) }
        : { title: 'Events', lines: ['none'] },
    );

    for (const container of pod.spec?.containers ?? []) {
      const lines: string[] = [];
      try {
        for await (const line of kube.logLines(ns, pod.metadata?.name ?? name, container.name, { tailLines: LOG_LINES, signal: ctx.signal })) lines.push(line);
        // One-column rows render monospace, whatever the log line contains.
        sections.push({ title: `Last ${LOG_LINES} log lines of ${container.name}`, ...(lines.length ? { rows: lines.map((l) => [l]) } : { lines: ['(empty)'] }) });
      } catch (err) {
        sections.push({ title: `Logs of ${container.name}`, lines: [`unavailable: ${errorMessage(err)}`] });
      }
    }

    return {
      title: `diagnose pod ${ns}/${pod.metadata?.name ?? name}`,
      status: finding ? finding.severity : 'ok',
      summary: finding ? finding.reason : 'Running and Ready.',
      sections,
    };
  },
});
