// diagnose latency through Slack, Bolt and the cluster emulator, with the Ray dashboard and
// Prometheus stubs answering their documented shapes: what it reads, the remedy it offers
// (scale-gpu to one more worker, through the normal confirmation), and what it says when a
// source can't be read. The alert path attaches it to an incident thread with its remedy.
import { afterEach, describe, expect, it } from 'vitest';
import { latencyFindings, type LatencyFacts } from '../../commands/diagnose-latency.js';
import type { ModelVerdict } from '../../src/slo/slo.js';
import type { Config } from '../../src/config/schema.js';
import { fixedClusters } from '../../src/kube/directory.js';
import { PrometheusStub } from '../../src/sandbox/prometheus/server.js';
import { vlindersExec, type WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { RayDashboardStub } from '../../src/sandbox/ray/dashboard-stub.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clientFor } from '../kube/kube-client.js';
import { clusterConfig, startCluster } from './cluster.js';
import { alertBody, postAlert, serveAlerts } from './alert-server.js';
import { blocksText, startBot } from './harness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Load {
  p95Seconds?: number;
  waiting?: number;
  running?: number;
}

async function setup(load: Load, tweak: (c: Config) => void = () => {}, world: WorldOptions = { workers: 2 }) {
  const cluster = await startCluster({ gpuNodes: 4, readyDelayMs: 50, ...world });
  closers.push(() => cluster.close());
  const dashboard = await RayDashboardStub.start();
  closers.push(() => dashboard.close());
  const prometheus = await PrometheusStub.start();
  closers.push(() => prometheus.close());
  const config = clusterConfig();
  config.ray.dashboardUrl = dashboard.url;
  config.prometheus.url = prometheus.url;
  const q = config.prometheus.queries;
  if (load.p95Seconds !== undefined) prometheus.setInstant(q.p95Latency, [{ metric: {}, value: load.p95Seconds }]);
  if (load.waiting !== undefined) prometheus.setInstant(q.requestsWaiting, [{ metric: {}, value: load.waiting }]);
  if (load.running !== undefined) prometheus.setInstant(q.requestsRunning, [{ metric: {}, value: load.running }]);
  tweak(config);
  // Every configured cluster is the one emulator, under its own name.
  const services = config.clusters.length > 1 ? fixedClusters(config.clusters.map((c) => clientFor(cluster.kube, c.name))) : cluster.services;
  const bot = await startBot({ config, services });
  closers.push(() => bot.close());
  return { cluster, bot, dashboard, prometheus, config };
}

type Bot = Awaited<ReturnType<typeof setup>>['bot'];
const diagnosis = (bot: Bot, channel: string) => bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === channel && blocksText(m.blocks).includes('diagnose latency')), 30_000);
const offers = (bot: Bot, channel: string, ts: string) => bot.emu.threadOf(channel, ts).filter((m) => blocksText(m.blocks).includes('vlinders_suggest'));
const button = (m: { blocks?: unknown[] }) => (m.blocks?.find((b) => (b as { type: string }).type === 'actions') as { elements: Array<{ action_id: string; value: string; text: { text: string } }> }).elements[0];

describe('diagnose latency', () => {
  it('saturated GPUs and a queue over the P95 target: says so, and offers one more GPU worker through confirmation', async () => {
    const { cluster, bot } = await setup({ p95Seconds: 1.4, waiting: 12, running: 48 });
    await bot.slash(USERS.viewer, CHANNELS.ops, 'diagnose latency');
    const root = await diagnosis(bot, CHANNELS.ops);
    const text = blocksText(root.blocks);
    // The h100 capture under load reads 100 % utilization.
    expect(text).toContain('P95 1400 ms (target 500 ms), GPUs at 100%, 12 requests waiting: the GPU workers are saturated');
    expect(text).toContain('1400 ms (target 500 ms)');
    expect(text).toContain('48');
    expect(text).toContain('VLLMDeployment: HEALTHY, 1/1 replicas RUNNING');
    expect(text).toContain('2/2 (at most 8)');
    const offer = await bot.emu.waitFor(() => offers(bot, CHANNELS.ops, root.ts)[0], 30_000);
    expect(button(offer)?.text.text).toBe('scale-gpu 3');
    // The viewer who asked may not scale; an operator pressing it gets the plan, and nothing changes before Approve.
    await bot.click(USERS.viewer, CHANNELS.ops, offer.ts, button(offer)?.action_id ?? '');
    expect((await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => e.user === USERS.viewer && e.text.includes('role')))).text).toContain('needs the operator role');
    await bot.click(USERS.admin, CHANNELS.ops, offer.ts, button(offer)?.action_id ?? '');
    const card = await bot.emu.waitFor(() => bot.emu.threadOf(CHANNELS.ops, root.ts).find((m) => blocksText(m.blocks).includes('vlinders_approve')), 30_000);
    expect(blocksText(card.blocks)).toContain('2 → 3');
    expect(cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster')?.spec).toMatchObject({ workerGroupSpecs: [{ replicas: 2 }] });
  }, 60_000);

  it('saturated, on a group declared with minReplicas 2 and no replicas (read back as 0): 2/2 Ready, and one more is scale-gpu 3', async () => {
    const { bot } = await setup({ p95Seconds: 1.4, waiting: 12, running: 48 }, undefined, { omitWorkerReplicas: true, minWorkers: 2 });
    await bot.slash(USERS.viewer, CHANNELS.ops, 'diagnose latency');
    const root = await diagnosis(bot, CHANNELS.ops);
    expect(blocksText(root.blocks)).toContain('2/2 (at most 8)');
    const offer = await bot.emu.waitFor(() => offers(bot, CHANNELS.ops, root.ts)[0], 30_000);
    expect(button(offer)?.text.text).toBe('scale-gpu 3');
  }, 60_000);

  it('within target and nothing queued: all clear, no remedy offered', async () => {
    const { bot } = await setup({ p95Seconds: 0.21, waiting: 0, running: 3 });
    await bot.slash(USERS.viewer, CHANNELS.general, 'diagnose latency');
    const root = await diagnosis(bot, CHANNELS.general);
    const text = blocksText(root.blocks);
    expect(text).toContain('Serve is RUNNING, P95 is within target and nothing is queued.');
    expect(text).toContain('210 ms (target 500 ms)');
    await new Promise((r) => setTimeout(r, 300));
    expect(offers(bot, CHANNELS.general, root.ts)).toHaveLength(0);
  }, 60_000);

  it('within target, but a GPU worker whose nvidia-smi fails: the report is ❌ and its headline counts the line', async () => {
    const { cluster, bot } = await setup({ p95Seconds: 0.21, waiting: 0, running: 3 });
    cluster.kube.setHooks({ ...cluster.world.hooks, exec: vlindersExec({ state: cluster.kube, rules: [{ pod: /worker/, error: 'no-driver' }] }) });
    await bot.slash(USERS.viewer, CHANNELS.general, 'diagnose latency');
    const root = await diagnosis(bot, CHANNELS.general);
    const text = blocksText(root.blocks);
    expect(text).toMatch(/No latency finding, but the details mark \d+ ❌/);
    expect(text).not.toContain('Serve is RUNNING, P95 is within target');
    expect(text).toContain('❌ diagnose latency');
  }, 60_000);

  it('an unhealthy Serve application comes first, and adding GPUs is not offered for it', async () => {
    const { bot, dashboard } = await setup({ p95Seconds: 2.5, waiting: 40 });
    dashboard.setAppStatus('vlinders-llm', 'UNHEALTHY', 'The deployment VLLMDeployment failed health checks 3 times.');
    await bot.slash(USERS.viewer, CHANNELS.general, 'diagnose latency');
    const root = await diagnosis(bot, CHANNELS.general);
    const text = blocksText(root.blocks);
    expect(text).toContain('Serve application vlinders-llm is UNHEALTHY: The deployment VLLMDeployment failed health checks 3 times.');
    expect(text).toContain('VLLMDeployment: UNHEALTHY, 0/1 replicas RUNNING');
    await new Promise((r) => setTimeout(r, 300));
    expect(offers(bot, CHANNELS.general, root.ts).map((m) => button(m)?.text.text)).not.toContain('scale-gpu 3');
  }, 60_000);

  it('at the worker limit it says so instead of offering more', async () => {
    const { bot } = await setup({ p95Seconds: 0.9, waiting: 5 }, (c) => (c.limits.maxGpuWorkers = 2));
    await bot.slash(USERS.viewer, CHANNELS.general, 'diagnose latency');
    const root = await diagnosis(bot, CHANNELS.general);
    expect(blocksText(root.blocks)).toContain('already at the maximum of 2');
    await new Promise((r) => setTimeout(r, 300));
    expect(offers(bot, CHANNELS.general, root.ts)).toHaveLength(0);
  }, 60_000);

  it('an unreachable Ray dashboard and no Prometheus: each says why, the GPUs are still read', async () => {
    const { bot } = await setup({}, (c) => {
      c.ray.dashboardUrl = 'http://127.0.0.1:1';
      delete c.prometheus.url;
    });
    await bot.slash(USERS.viewer, CHANNELS.general, 'diagnose latency');
    const root = await diagnosis(bot, CHANNELS.general);
    const text = blocksText(root.blocks);
    expect(text).toMatch(/not read: .*127\.0\.0\.1:1/);
    expect(text).toContain('not measured: prometheus.url is not configured');
    // Said once in the fields, not again for each chart.
    expect(text).not.toContain('chart not drawn');
    expect(text).toContain('2/2 (at most 8)');
    // The headline counts the unread source; the unconfigured Prometheus is a choice, not a failure.
    expect(text).toContain('No latency finding, but the details mark 1 not read: see below.');
    expect(text).not.toContain('Nothing wrong');
  }, 60_000);

  it('--cluster reads that cluster’s own Prometheus (its overrides), not the default one', async () => {
    const us = await PrometheusStub.start();
    closers.push(() => us.close());
    const { bot, config } = await setup({ p95Seconds: 0.2, waiting: 0 }, (c) => {
      c.clusters = [{ name: 'test' }, { name: 'us', overrides: { prometheus: { url: us.url } } }];
    });
    us.setInstant(config.prometheus.queries.p95Latency, [{ metric: {}, value: 0.95 }]);
    await bot.slash(USERS.viewer, CHANNELS.general, 'diagnose latency --cluster us');
    const root = await diagnosis(bot, CHANNELS.general);
    expect(blocksText(root.blocks)).toContain('950 ms (target 500 ms)');
    expect(us.asked).toContain(config.prometheus.queries.p95Latency);
  }, 60_000);

  it('an alert gets the diagnosis in its incident thread, with the remedy it found as a button', async () => {
    const { bot, config } = await setup({ p95Seconds: 1.2, waiting: 9 }, (c) => {
      c.alerts = { ...c.alerts, channel: CHANNELS.incidents, diagnoses: { VllmHighLatency: 'diagnose latency' }, remedies: { VllmHighLatency: 'scale-gpu 3' } };
    });
    const alerts = await serveAlerts(bot, config);
    closers.push(() => alerts.close());
    const res = await postAlert(alerts.url, alertBody({ alertname: 'VllmHighLatency', namespace: 'vlinders-inference', severity: 'warning' }, '{}:{alertname="VllmHighLatency"}'));
    expect(res.status).toBe(200);
    const root = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.incidents && !m.thread_ts));
    const found = await bot.emu.waitFor(() => bot.emu.threadOf(CHANNELS.incidents, root.ts).find((m) => blocksText(m.blocks).includes('the GPU workers are saturated')), 30_000);
    // The line names the measurements that led there, not just the verdict.
    expect(blocksText(found.blocks)).toMatch(/P95 1200 ms \(target 500 ms\)(, GPUs at \d+%)?, 9 requests waiting: the GPU workers are saturated/);
    // The diagnosis found the same remedy as the static one: one button, not two.
    await bot.emu.waitFor(() => offers(bot, CHANNELS.incidents, root.ts)[0], 30_000);
    await new Promise((r) => setTimeout(r, 300));
    // Besides the thread's own "Declare incident" offer.
    expect(offers(bot, CHANNELS.incidents, root.ts).map((m) => button(m)?.text.text)).toEqual(['Declare incident', 'scale-gpu 3']);
  }, 60_000);
});

describe('latencyFindings: the runbook reading of the measurements', () => {
  const base: LatencyFacts = { p95TargetSeconds: 0.5, gpuUtilizationTargetPercent: 85, serveProblems: [], workers: { desired: 3, ready: 3, notReady: [], max: 16 } };

  it('slow with idle GPUs and nothing waiting: the time goes elsewhere; it offers diagnose db, not more GPUs', () => {
    const f = latencyFindings({ ...base, p95Seconds: 1.1, requestsWaiting: 0, meanGpuUtilizationPercent: 22 });
    expect(f.status).toBe('fail');
    expect(f.lines.join('\n')).toContain('the time is spent outside inference');
    expect(f.offers.map((o) => o.words.join(' '))).toEqual(['diagnose db']);
  });

  it('workers not Ready: a warning and diagnose pod of the first one', () => {
    const f = latencyFindings({ ...base, workers: { desired: 3, ready: 2, notReady: ['w-abc'], max: 16 }, p95Seconds: 0.3 });
    expect(f.status).toBe('warn');
    expect(f.offers.map((o) => o.words.join(' '))).toEqual(['diagnose pod w-abc']);
  });

  it('a queue on busy GPUs is a warning before the P95 crosses the target', () => {
    const f = latencyFindings({ ...base, p95Seconds: 0.4, requestsWaiting: 7, meanGpuUtilizationPercent: 97 });
    expect(f.status).toBe('warn');
    expect(f.offers.map((o) => o.words.join(' '))).toEqual(['scale-gpu 4']);
  });

  it('nothing measured is not a finding', () => {
    expect(latencyFindings({ ...base, workers: undefined })).toEqual({ status: 'ok', lines: [], offers: [] });
  });

  // What `slo` judged, as diagnose latency gets it.
  const verdict = (over: Partial<ModelVerdict>): ModelVerdict => ({ model: 'm/x', status: 'ok', targets: {} as ModelVerdict['targets'], queueOverTarget: false, kvCacheOverTarget: false, preempting: false, problems: [], ...over });
  const memory = { current: 0.9, step: 0.05, min: 0.5, max: 0.95, leastFreePercent: 12 };

  it('a model whose KV cache is over its SLO is short of GPUs even with the API within target: one more worker', () => {
    const f = latencyFindings({ ...base, p95Seconds: 0.3, requestsWaiting: 0, meanGpuUtilizationPercent: 60, slo: [verdict({ kvCacheOverTarget: true, problems: ['KV cache 97% (target < 90%)'] })] });
    expect(f.status).toBe('fail');
    expect(f.lines.join('\n')).toContain('m/x: KV cache 97% (target < 90%): the GPU workers are saturated');
    expect(f.offers.map((o) => o.words.join(' '))).toEqual(['scale-gpu 4']);
  });

  it('preemptions while every GPU has a step of memory free: gpu-memory one step up', () => {
    const f = latencyFindings({ ...base, p95Seconds: 0.3, slo: [verdict({ preempting: true })], gpuMemory: memory });
    expect(f.status).toBe('warn');
    expect(f.offers.map((o) => o.words.join(' '))).toEqual(['gpu-memory 0.95']);
    // A GPU with less than a step free, or the setting at its maximum: no raise.
    expect(latencyFindings({ ...base, slo: [verdict({ preempting: true })], gpuMemory: { ...memory, leastFreePercent: 3 } }).offers).toEqual([]);
    expect(latencyFindings({ ...base, slo: [verdict({ preempting: true })], gpuMemory: { ...memory, current: 0.95 } }).lines.join('\n')).toContain('at the allowed maximum');
  });

  it("a CUDA OOM in a worker's log: gpu-memory down to the runbook's 0.85, and no raise for the preemptions", () => {
    const f = latencyFindings({ ...base, slo: [verdict({ preempting: true })], gpuMemory: memory, cudaOom: { pod: 'w-1', line: 'torch.OutOfMemoryError: CUDA out of memory.' } });
    expect(f.status).toBe('fail');
    expect(f.offers.map((o) => o.words.join(' '))).toEqual(['gpu-memory 0.85']);
    // Already at 0.85: nothing lower to offer, it says where to look instead.
    const at = latencyFindings({ ...base, gpuMemory: { ...memory, current: 0.85 }, cudaOom: { pod: 'w-1', line: 'CUDA out of memory' } });
    expect(at.offers).toEqual([]);
    expect(at.lines.join('\n')).toContain('already 0.85');
  });
});
