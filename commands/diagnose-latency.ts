import { z } from 'zod';
import type { Config } from '../src/config/schema.js';
import { defineCommand } from '../src/core/command.js';
import { errorMessage } from '../src/core/errors.js';
import type { ProblemTally, ReportOffer, ReportSection, ReportStatus } from '../src/core/report.js';
import { tallyLine, tallyProblems, worstStatus } from '../src/core/report.js';
import { readFleetGpus } from '../src/gpu/fleet.js';
import { prometheusFrom } from '../src/prometheus/client.js';
import { dashboardFor, type ServeApplicationsResponse } from '../src/ray/dashboard.js';
import type { KubeClient } from '../src/kube/client.js';
import { findWorkerGroup, type RayClusterObject } from '../src/ray/raycluster.js';
import { isWorkerReady, listWorkers } from '../src/ray/workers.js';

/** What the diagnosis measured; undefined where a source could not be read. */
export interface LatencyFacts {
  p95Seconds?: number;
  p95TargetSeconds: number;
  requestsWaiting?: number;
  meanGpuUtilizationPercent?: number;
  gpuUtilizationTargetPercent: number;
  /** Serve applications or deployments that are not serving. */
  serveProblems: string[];
  workers?: { desired: number; ready: number; notReady: string[]; max: number };
}

export interface LatencyFindings {
  status: ReportStatus;
  lines: string[];
  offers: ReportOffer[];
}

/**
 * The runbook's reading of slow inference: Serve not serving comes first; then latency over
 * target with busy GPUs or a queue means too few GPU workers (add one, within the limits);
 * over target with idle GPUs and no queue means the time goes elsewhere (API, database).
 */
export function latencyFindings(f: LatencyFacts): LatencyFindings {
  const lines: string[] = [];
  const offers: ReportOffer[] = [];
  const statuses: ReportStatus[] = ['ok'];
  for (const p of f.serveProblems) lines.push(`❌ ${p}`);
  if (f.serveProblems.length) statuses.push('fail');
  if (f.workers && f.workers.ready < f.workers.desired) {
    statuses.push('warn');
    lines.push(`⚠️ Only ${f.workers.ready}/${f.workers.desired} GPU workers are Ready: requests queue on fewer GPUs.`);
    const [first] = f.workers.notReady;
    if (first) offers.push({ intro: `${first} is not Ready: see why.`, words: ['diagnose', 'pod', first] });
  }
  const ms = (s: number) => `${Math.round(s * 1000)} ms`;
  const slow = f.p95Seconds !== undefined && f.p95Seconds > f.p95TargetSeconds;
  const queued = (f.requestsWaiting ?? 0) > 0;
  const busy = f.meanGpuUtilizationPercent !== undefined && f.meanGpuUtilizationPercent >= f.gpuUtilizationTargetPercent;
  const idle = f.meanGpuUtilizationPercent !== undefined && !busy;
  if (slow) statuses.push('fail');
  if (slow || (queued && busy)) {
    const why = [f.p95Seconds !== undefined ? `P95 ${ms(f.p95Seconds)} (target ${ms(f.p95TargetSeconds)})` : undefined, busy ? `GPUs at ${Math.round(f.meanGpuUtilizationPercent ?? 0)}%` : undefined, queued ? `${f.requestsWaiting} requests waiting` : undefined].filter(Boolean).join(', ');
    if ((busy || queued) && f.serveProblems.length === 0) {
      if (!slow) statuses.push('warn');
      const w = f.workers;
      if (w && w.ready >= w.desired) {
        if (w.desired + 1 <= w.max) {
          lines.push(`${slow ? '❌' : '⚠️'} ${why}: the GPU workers are saturated. The runbook adds a GPU worker.`);
          offers.push({ intro: `Add a GPU worker (${w.desired} → ${w.desired + 1}).`, words: ['scale-gpu', String(w.desired + 1)] });
        } else lines.push(`${slow ? '❌' : '⚠️'} ${why}: the GPU workers are saturated, and already at the maximum of ${w.max}. Raise limits.maxGpuWorkers or the worker group's maxReplicas, or shed load.`);
      } else lines.push(`${slow ? '❌' : '⚠️'} ${why}.`);
    } else if (slow && idle && !queued) {
      lines.push(`❌ ${why}, but the GPUs are at ${Math.round(f.meanGpuUtilizationPercent ?? 0)}% with nothing waiting: the time is spent outside inference. Check the API and the database.`);
      offers.push({ intro: 'Check the database the API waits on.', words: ['diagnose', 'db'] });
    } else if (slow) lines.push(`❌ ${why}.`);
  }
  return { status: worstStatus(statuses), lines, offers };
}

/** Each source on its own: one that fails becomes a line in the report, not the end of it. */
async function attempt<T>(read: () => Promise<T>): Promise<{ value?: T; error?: string }> {
  try {
    return { value: await read() };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

const RUNNING_DEPLOYMENT = new Set(['HEALTHY', 'UPSCALING', 'DOWNSCALING']);

function serveLines(apps: ServeApplicationsResponse): { lines: string[]; problems: string[] } {
  const lines: string[] = [];
  const problems: string[] = [];
  for (const app of Object.values(apps.applications)) {
    const firstLine = (s: string) => s.split('\n').find((l) => l.trim()) ?? '';
    if (app.status !== 'RUNNING') problems.push(`Serve application ${app.name} is ${app.status}${app.message ? `: ${firstLine(app.message)}` : ''}`);
    lines.push(`${app.status === 'RUNNING' ? '✅' : '❌'} application ${app.name}: ${app.status}`);
    for (const d of Object.values(app.deployments)) {
      const replicas = (Array.isArray(d.replicas) ? d.replicas : []) as Array<{ state?: string }>;
      const running = replicas.filter((r) => r.state === 'RUNNING').length;
      const cfg = (d.deployment_config ?? {}) as { num_replicas?: unknown; max_ongoing_requests?: unknown; autoscaling_config?: { min_replicas?: number; max_replicas?: number } | null };
      const target = typeof cfg.num_replicas === 'number' ? String(cfg.num_replicas) : cfg.autoscaling_config ? `${cfg.autoscaling_config.min_replicas ?? '?'}–${cfg.autoscaling_config.max_replicas ?? '?'} (autoscaling)` : '?';
      const ok = RUNNING_DEPLOYMENT.has(d.status);
      if (!ok && app.status === 'RUNNING') problems.push(`Serve deployment ${app.name}/${d.name} is ${d.status}${d.message ? `: ${firstLine(d.message)}` : ''}`);
      const perReplica = typeof cfg.max_ongoing_requests === 'number' ? `, max ${cfg.max_ongoing_requests} ongoing requests each` : '';
      lines.push(`    ${ok ? '✅' : '❌'} ${d.name}: ${d.status}, ${running}/${target} replicas RUNNING${perReplica}`);
    }
  }
  if (lines.length === 0) problems.push('Ray Serve has no applications deployed');
  return { lines, problems };
}

async function workerCounts(config: Config, kube: KubeClient, raycluster: RayClusterObject) {
  const { group } = findWorkerGroup(raycluster, config.ray.workerGroup);
  const pods = await listWorkers(kube, raycluster.metadata.namespace, raycluster.metadata.name, group.groupName);
  const ready = pods.filter(isWorkerReady);
  return {
    desired: group.replicas ?? 0,
    ready: ready.length,
    notReady: pods.filter((p) => !isWorkerReady(p)).map((p) => p.metadata?.name ?? '?'),
    max: Math.min(config.limits.maxGpuWorkers, group.maxReplicas ?? Number.POSITIVE_INFINITY),
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export default defineCommand({
  name: 'diagnose latency',
  summary: "The runbook's slow-inference checks: GPU utilization, Ray Serve status, P95, replicas and queue; offers the remedy",
  usage: 'diagnose latency [--cluster NAME]',
  args: z.object({}),
  role: 'viewer',
  risk: 'read',
  examples: ['diagnose latency'],
  run: async (ctx) => {
    const { config, signal } = ctx;
    const kube = ctx.services.kube();
    const prometheus = prometheusFrom(config);
    const { queries } = config.prometheus;
    const metric = (promql: string) => attempt(async () => (prometheus ? (await prometheus.query(promql, { signal })).map((s) => s.value).filter(Number.isFinite) : undefined));
    await ctx.progress('Reading the GPUs, the Ray workers, Ray Serve and Prometheus…');
    const [gpus, serve, p95, waiting, running] = await Promise.all([
      attempt(async () => {
        const fleet = await readFleetGpus(kube, config, signal);
        return { fleet, workers: await workerCounts(config, kube, fleet.raycluster) };
      }),
      attempt(() => dashboardFor(config.ray).getApplications(signal)),
      metric(queries.p95Latency),
      metric(queries.requestsWaiting),
      metric(queries.requestsRunning),
    ]);

    const serveRead = serve.value ? serveLines(serve.value) : undefined;
    const summary = gpus.value?.fleet.summary;
    const workers = gpus.value?.workers;
    const p95Seconds = p95.value?.length ? Math.max(...p95.value) : undefined;
    const facts: LatencyFacts = {
      p95Seconds,
      p95TargetSeconds: config.loadtest.thresholds.p95Ms / 1000,
      requestsWaiting: waiting.value?.length ? sum(waiting.value) : undefined,
      meanGpuUtilizationPercent: summary?.overall.meanUtilizationPercent,
      gpuUtilizationTargetPercent: config.gpu.utilizationTargetPercent,
      serveProblems: serveRead?.problems ?? [],
      workers,
    };
    const findings = latencyFindings(facts);
    const unread = [gpus.error, serve.error, p95.error, waiting.error, running.error].some(Boolean);

    const ms = (s: number) => `${Math.round(s * 1000)} ms`;
    const unmeasured = (r: { error?: string }) => (r.error ? `not measured: ${r.error}` : prometheus ? 'no data' : 'not measured: prometheus.url is not configured');
    const sections: ReportSection[] = [];
    if (findings.lines.length) sections.push({ title: 'Findings', lines: findings.lines });
    sections.push({
      title: 'Latency and queue',
      fields: [
        { label: 'P95 latency', value: p95Seconds !== undefined ? `${ms(p95Seconds)} (target ${config.loadtest.thresholds.p95Ms} ms)` : unmeasured(p95) },
        { label: 'Requests waiting', value: facts.requestsWaiting !== undefined ? String(facts.requestsWaiting) : unmeasured(waiting) },
        { label: 'Requests running', value: running.value?.length ? String(sum(running.value)) : unmeasured(running) },
      ],
    });
    sections.push({ title: 'Ray Serve', lines: serveRead ? serveRead.lines : [`⚠️ not read: ${serve.error ?? 'no answer'}`] });
    if (gpus.value && workers) {
      const o = summary?.overall;
      sections.push({
        title: 'GPU workers',
        fields: [
          { label: 'Workers Ready', value: `${workers.ready}/${workers.desired} (at most ${workers.max})` },
          { label: 'Mean GPU utilization', value: o?.meanUtilizationPercent !== undefined ? `${Math.round(o.meanUtilizationPercent)}% (target ${config.gpu.utilizationTargetPercent}%)` : summary ? 'not reported (MIG or an unreadable GPU)' : 'no running worker' },
          { label: 'GPU memory', value: o ? `${o.memoryUsedMiB}/${o.memoryTotalMiB} MiB` : '-' },
        ],
        lines: summary?.flags.map((f) => `${f.severity === 'fail' ? '❌' : '⚠️'} ${f.message}`),
      });
    } else sections.push({ title: 'GPU workers', lines: [`⚠️ not read: ${gpus.error ?? 'no answer'}`] });

    const tally = tallyProblems(sections);
    // A line marked ❌ or ⚠️ below makes the report at least that: its icon can't say ✅ above them.
    const status = worstStatus([findings.status, ...(unread || tally.warn || tally.unread ? (['warn'] as const) : []), ...(tally.fail ? (['fail'] as const) : [])]);
    return {
      title: 'diagnose latency',
      status,
      summary: findings.lines.length ? undefined : quietSummary(tally),
      sections,
      offers: findings.offers.length ? findings.offers : undefined,
    };
  },
});

/** With no latency finding: all clear only when no line below is marked ❌, ⚠️ or not read. */
function quietSummary(tally: ProblemTally): string {
  const marked = tallyLine(tally);
  return marked ? `No latency finding, but the details mark ${marked}: see below.` : 'Serve is RUNNING, P95 is within target and nothing is queued.';
}
