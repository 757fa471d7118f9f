// The world of the model and loadtest tests: the cluster emulator (with the models PVC backed
// by a temp dir, the model and k6 Jobs) and the Ray dashboard stub, a config pointing at
// both, and an engine driven as Slack drives it: invoke, approve, execute with progress kept.
import { createServer } from 'node:http';
import { afterEach } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { Report } from '../../src/core/report.js';
import { RayDashboardStub, type DashboardStubOptions } from '../../src/sandbox/ray/dashboard-stub.js';
import type { WorldOptions } from '../../src/sandbox/kube/world/index.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { approveAndRun, slackCaller, testEngine } from '../fixtures/engine.js';
import { CHANNELS, USERS } from '../fixtures/world.js';

export type OpsConfig = ReturnType<typeof clusterConfig>;
export type Cluster = Awaited<ReturnType<typeof startCluster>>;

export const I = 'vlinders-inference';
export const P = 'vlinders-platform';
export const SEEDED_MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

/** The config tests run with: short waits, the stub's URLs. */
export function opsConfig(stub: RayDashboardStub | undefined, tweak: (c: OpsConfig) => void = () => {}): OpsConfig {
  const config = clusterConfig();
  if (stub) {
    config.ray.dashboardUrl = stub.url;
    config.ray.serveUrl = stub.url;
  }
  config.ray.dashboardTimeoutSeconds = 2;
  config.models.jobTimeoutSeconds = 20;
  config.models.serveTimeoutSeconds = 5;
  tweak(config);
  return config;
}

export async function startOpsWorld(opts: { world?: WorldOptions; dashboard?: DashboardStubOptions; tweak?: (c: OpsConfig) => void } = {}) {
  const cluster = await startCluster({ jobRunMs: 50, ...opts.world });
  const stub = await RayDashboardStub.start({ deployMs: 100, ...opts.dashboard });
  const config = opsConfig(stub, opts.tweak);
  const t = testEngine({ config, services: cluster.services });
  const progress: string[] = [];
  const aborter = new AbortController();
  const io = { progress: async (line: string) => void progress.push(line), signal: aborter.signal };
  return {
    cluster,
    stub,
    config,
    ...t,
    progress,
    /** Aborts the running command (as a bot shutdown does). */
    abort: () => aborter.abort(),
    /** Calls fn once, when a Job of this runbook step is created. */
    onJob(step: string, fn: () => void) {
      const unwatch = cluster.kube.watch((e) => {
        if (e.type === 'ADDED' && e.object.kind === 'Job' && e.object.metadata.labels?.['vlinders.io/runbook-step'] === step) {
          unwatch();
          setTimeout(fn, 0);
        }
      });
    },
    /** Plans as `user` in #ops; the plan (or the refusal). */
    async plan(text: string, user: string = USERS.admin) {
      return t.engine.invoke(slackCaller(user, CHANNELS.ops), text, io);
    },
    /** Plans, approves and runs `text` as `user` in #ops. */
    async approveAndRun(text: string, user: string = USERS.admin, beforeApprove: () => void | Promise<void> = () => {}): Promise<Report | string> {
      const out = await approveAndRun(t.engine, slackCaller(user, CHANNELS.ops), text, io, { beforeApprove });
      if (out.kind === 'error') return out.message;
      return out.ran ? out.report : JSON.stringify(out.report);
    },
    async close() {
      await stub.close();
      await cluster.close();
    },
  };
}

export type OpsWorld = Awaited<ReturnType<typeof startOpsWorld>>;

/** A `world(opts)` for a test file: each world is closed after its test. */
export function opsWorlds() {
  const worlds: OpsWorld[] = [];
  afterEach(async () => {
    for (const w of worlds.splice(0)) await w.close();
  });
  return async (opts: Parameters<typeof startOpsWorld>[0] = {}) => {
    const w = await startOpsWorld(opts);
    worlds.push(w);
    return w;
  };
}

/** The command's Report; a refusal (a string) fails the test with its text. */
export function asReport(r: Report | string): Report {
  if (typeof r === 'string') throw new Error(`expected a report, got: ${r}`);
  return r;
}

export const configMapOf = (cluster: Cluster) => cluster.kube.get('v1', 'ConfigMap', I, 'vlinders-config');
/** Jobs and Job pods left anywhere in the Vlinders namespaces. */
export const leftovers = (cluster: Cluster) =>
  [I, P].flatMap((ns) => [
    ...cluster.kube.list('batch/v1', 'Job', ns).map((j) => `job ${j.metadata.name}`),
    ...cluster.kube.list('v1', 'Pod', ns).filter((p) => p.metadata.labels?.['batch.kubernetes.io/job-name']).map((p) => `pod ${p.metadata.name}`),
  ]);
/** Waits (up to 3 s) for the garbage collector to take the deleted Jobs' pods, then lists what is left. */
export async function settledLeftovers(cluster: Cluster): Promise<string[]> {
  for (let i = 0; i < 30 && leftovers(cluster).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return leftovers(cluster);
}
/** A URL nothing listens on: a port just freed (connection refused). */
export async function refusedUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return `http://127.0.0.1:${port}`;
}
export const reportText = (r: Report | string) => (typeof r === 'string' ? r : JSON.stringify(r));
