import { z } from 'zod';
import { rangeCharts } from '../src/charts/index.js';
import type { Config } from '../src/config/schema.js';
import { defineCommand } from '../src/core/command.js';
import { errorMessage } from '../src/core/errors.js';
import type { ProblemTally, ReportOffer, ReportSection, ReportStatus } from '../src/core/report.js';
import { tallyLine, tallyProblems, worstStatus } from '../src/core/report.js';
import { readFleetGpus } from '../src/gpu/fleet.js';
import { prometheusFrom } from '../src/prometheus/client.js';
import { dashboardFor, type ServeApplicationsResponse } from '../src/ray/dashboard.js';
import type { KubeClient } from '../src/kube/client.js';
import { desiredWorkers, findWorkerGroup, type RayClusterObject } from '../src/ray/raycluster.js';
import { isWorkerReady, listWorkers, readSettings } from '../src/ray/workers.js';
import { latencyChartSpecs } from '../src/slo/charts.js';
import { findCudaOom, RUNBOOK_OOM_GPU_MEMORY, type CudaOom } from '../src/slo/cuda-oom.js';
import { durationSeconds } from '../src/slo/promql.js';
import { readSlo, sloReport, type ModelVerdict } from '../src/slo/slo.js';

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
  /** Each served model's SLO verdict (`slo`), when Prometheus answered. */
  slo?: ModelVerdict[];
  /** vLLM's gpu_memory_utilization now, the step and bounds `gpu-memory` moves in, and the least free memory of any GPU. */
  gpuMemory?: { current?: number; step: number; min: number; max: number; leastFreePercent?: number };
  /** A CUDA out-of-memory line in a GPU worker's log. */
  cudaOom?: CudaOom;
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
  // A model whose queue or KV cache is over its SLO is short of GPUs, whatever the API's P95 says.
  const saturated = (f.slo ?? []).filter((v) => v.queueOverTarget || v.kvCacheOverTarget);
  if (slow) statuses.push('fail');
  if (slow || (queued && busy) || saturated.length) {
    const sloWhy = saturated.map((v) => `${v.model}: ${v.problems.filter((p) => /^(Requests waiting|KV cache)/.test(p)).join(', ')}`);
    const why = [f.p95Seconds !== undefined ? `P95 ${ms(f.p95Seconds)} (target ${ms(f.p95TargetSeconds)})` : undefined, busy ? `GPUs at ${Math.round(f.meanGpuUtilizationPercent ?? 0)}%` : undefined, queued ? `${f.requestsWaiting} requests waiting` : undefined, ...sloWhy].filter(Boolean).join(', ');
    if ((busy || queued || saturated.length) && f.serveProblems.length === 0) {
      if (!slow) statuses.push(saturated.length ? 'fail' : 'warn');
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
  memoryFindings(f, lines, offers, statuses);
  return { status: worstStatus(statuses), lines, offers };
}

/**
 * The runbook's two gpu_memory_utilization moves: a CUDA OOM lowers it to 0.85; preemptions
 * while every GPU still has a step of memory free raise it one step (more KV cache).
 */
function memoryFindings(f: LatencyFacts, lines: string[], offers: ReportOffer[], statuses: ReportStatus[]): void {
  const mem = f.gpuMemory;
  const current = mem?.current;
  const shown = current === undefined ? 'unset' : String(current);
  if (f.cudaOom) {
    statuses.push('fail');
    if (current === undefined || current > RUNBOOK_OOM_GPU_MEMORY) {
      lines.push(`❌ CUDA out of memory in ${f.cudaOom.pod}: \`${f.cudaOom.line}\`. The runbook lowers gpu_memory_utilization to ${RUNBOOK_OOM_GPU_MEMORY}.`);
      offers.push({ intro: `Lower gpu_memory_utilization ${shown} → ${RUNBOOK_OOM_GPU_MEMORY} (restarts the GPU workers one at a time).`, words: ['gpu-memory', String(RUNBOOK_OOM_GPU_MEMORY)] });
    } else lines.push(`❌ CUDA out of memory in ${f.cudaOom.pod}: \`${f.cudaOom.line}\`, although gpu_memory_utilization is already ${shown}: look at what else holds GPU memory (\`gpu\`).`);
    return;
  }
  const preempting = (f.slo ?? []).filter((v) => v.preempting);
  if (!preempting.length || !mem || current === undefined) return;
  statuses.push('warn');
  const next = Math.round((current + mem.step) * 100) / 100;
  const who = preempting.map((v) => v.model).join(', ');
  if (mem.leastFreePercent === undefined) lines.push(`⚠️ ${who}: vLLM is preempting requests; GPU memory could not be read, so no gpu_memory_utilization change is offered.`);
  else if (next > mem.max) lines.push(`⚠️ ${who}: vLLM is preempting requests, and gpu_memory_utilization ${shown} is at the allowed maximum (${mem.max}): add a GPU worker instead.`);
  else if (mem.leastFreePercent < mem.step * 100) lines.push(`⚠️ ${who}: vLLM is preempting requests, but a GPU has only ${Math.round(mem.leastFreePercent)}% of its memory free: no room to give vLLM more.`);
  else {
    lines.push(`⚠️ ${who}: vLLM is preempting requests while every GPU has at least ${Math.round(mem.leastFreePercent)}% of its memory free: a bigger KV cache fits.`);
    offers.push({ intro: `Raise gpu_memory_utilization ${shown} → ${next} (restarts the GPU workers one at a time).`, words: ['gpu-memory', String(next)] });
  }
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
    pods,
    desired: desiredWorkers(group),
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
    const window = config.slo.window;
    const [gpus, serve, p95, waiting, running, slo, settings, drawn] = await Promise.all([
      attempt(async () => {
        const fleet = await readFleetGpus(kube, config, signal);
        const workers = await workerCounts(config, kube, fleet.raycluster);
        return { fleet, workers, oom: await attempt(() => findCudaOom(kube, workers.pods, { sinceSeconds: durationSeconds(window) ?? 3600, signal })) };
      }),
      attempt(() => dashboardFor(config.ray).getApplications(signal)),
      metric(queries.p95Latency),
      metric(queries.requestsWaiting),
      metric(queries.requestsRunning),
      attempt(async () => (prometheus ? readSlo(prometheus, config, { window, signal }) : undefined)),
      attempt(() => readSettings(kube, config.namespaces.inference, config.inference.configMap)),
      // Without Prometheus the fields above already say so; no chart line need repeat it.
      prometheus ? rangeCharts(prometheus, latencyChartSpecs(config, Date.now()), signal) : undefined,
    ]);
    const sloRead = slo.value ? sloReport(slo.value, config) : undefined;
    const currentMemory = Number(settings.value?.data?.[config.inference.gpuMemoryKey] ?? NaN);
    const freePercents = (gpus.value?.fleet.summary?.gpus ?? []).flatMap((g) => (g.memoryUsedMiB !== undefined && g.memoryTotalMiB ? [100 * (1 - g.memoryUsedMiB / g.memoryTotalMiB)] : []));

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
      workers: workers && { desired: workers.desired, ready: workers.ready, notReady: workers.notReady, max: workers.max },
      slo: sloRead?.verdicts,
      gpuMemory: {
        current: Number.isFinite(currentMemory) ? currentMemory : undefined,
        step: config.slo.gpuMemoryStep,
        min: config.inference.gpuMemoryMin,
        max: config.inference.gpuMemoryMax,
        leastFreePercent: freePercents.length ? Math.min(...freePercents) : undefined,
      },
      cudaOom: gpus.value?.oom.value,
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
    if (sloRead) sections.push(...sloRead.sections.map((sec) => (sec.title ? { ...sec, title: `SLO · ${sec.title}` } : sec)));
    else if (slo.error) sections.push({ title: 'SLO', lines: [`⚠️ not read: ${slo.error}`] });
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
        lines: [...(summary?.flags.map((f) => `${f.severity === 'fail' ? '❌' : '⚠️'} ${f.message}`) ?? []), ...(gpus.value.oom.error ? [`⚠️ worker logs not read (CUDA OOM check): ${gpus.value.oom.error}`] : [])],
      });
    } else sections.push({ title: 'GPU workers', lines: [`⚠️ not read: ${gpus.error ?? 'no answer'}`] });

    const tally = tallyProblems(sections);
    // A line marked ❌ or ⚠️ below makes the report at least that: its icon can't say ✅ above them.
    const status = worstStatus([findings.status, ...(unread || tally.warn || tally.unread ? (['warn'] as const) : []), ...(tally.fail ? (['fail'] as const) : [])]);
    // After the tally: a chart not drawn is a picture missing, not a finding.
    if (drawn?.lines.length) sections.push({ title: 'Charts', lines: drawn.lines });
    return {
      title: 'diagnose latency',
      status,
      summary: findings.lines.length ? undefined : quietSummary(tally),
      sections,
      offers: findings.offers.length ? findings.offers : undefined,
      ...(drawn?.charts.length ? { charts: drawn.charts } : {}),
    };
  },
});

/** With no latency finding: all clear only when no line below is marked ❌, ⚠️ or not read. */
function quietSummary(tally: ProblemTally): string {
  const marked = tallyLine(tally);
  return marked ? `No latency finding, but the details mark ${marked}: see below.` : 'Serve is RUNNING, P95 is within target and nothing is queued.';
}
