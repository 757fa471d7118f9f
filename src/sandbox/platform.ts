// The whole sandbox platform, for the console and the CLI's --sandbox: the kube-apiserver
// emulator with the seeded Vlinders cluster, and every peer the runbook's commands reach —
// the Ray dashboard, an S3 (s3rver), the real PostgreSQL when Debian's package is installed,
// Redis and Qdrant that answer their protocols, the platform API, and the real Alertmanager
// when Debian's package is installed (started by the console, behind its alert route) — all
// on 127.0.0.1.
// A peer the sandbox can't run says so in one line instead of failing as a broken install.
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config/schema.js';
import type { ServiceDirectory } from '../core/services.js';
import { KubeClient } from '../kube/client.js';
import { startSandboxAlertmanager } from './alertmanager/demo.js';
import { findAlertmanager } from './alertmanager/server.js';
import { fixedClusters } from '../kube/directory.js';
import type { ExecHandler } from './kube/contract.js';
import { KubeApiEmulator } from './kube/index.js';
import { chainExec, startVlindersWorld, type WorldOptions } from './kube/world/index.js';
import { PLATFORM_DOMAIN } from './kube/world/platform.js';
import { POSTGRES_POD, postgresExec, seedPostgresSecret } from './kube/world/postgres-exec.js';
import { startPlatformApi } from './platform-api/server.js';
import { postgresInstalled, startPostgres, type TestPostgres } from './postgres/server.js';
import { startQdrantStub } from './qdrant/server.js';
import { PrometheusStub } from './prometheus/server.js';
import { seedSandboxMetrics } from './prometheus/sandbox-metrics.js';
import { worldPrometheusOnDemand } from './prometheus/world-prometheus.js';
import { RayDashboardStub } from './ray/dashboard-stub.js';
import { startRedisStub } from './redis/server.js';
import { S3RVER_ENV, startS3rver } from './s3/server.js';
import { freePort } from './slack/index.js';

export const SANDBOX_CLUSTER = 'sandbox';
/** The console's and the CLI's world: sized so `scale-gpu 4` fits, and workers take long enough to turn Ready that progress shows. */
export const SANDBOX_WORLD: WorldOptions = { gpuNodes: 6, workers: 3, maxWorkers: 8, readyDelayMs: 1500 };
export const SANDBOX_COLLECTION = 'vlinders';
/** What the sandbox says instead of pg_dump/psql when PostgreSQL is not installed. */
export const POSTGRES_MISSING = 'install postgresql to try backups here (Debian: apt-get install postgresql)';
/**
 * What `--sandbox silence …` says: a silence belongs to an alert thread the bot recorded from
 * Alertmanager's webhook, and a one-command world has neither the webhook nor the thread.
 */
export const SANDBOX_CLI_SILENCES = "Silences belong to alert threads, which the sandbox has only in the console: run `npm start` and use the silence buttons on #incidents' VllmQueueBacklog thread.";


export interface SandboxOptions {
  /** The seeded world's shape (GPU nodes, workers, breakage switches). */
  world?: WorldOptions;
  /** false: run postgres-0 without a server even when PostgreSQL is installed (tests of that path). */
  postgres?: boolean;
  /** Keep the S3 bucket's objects in this directory across runs (the CLI: one command per run). */
  s3Dir?: string;
  /** false: no Alertmanager even when it is installed (tests of that path). */
  alertmanager?: boolean;
}

/** The sandbox's Alertmanager, when installed: its API's URL now, the process once the bot's webhook is up. */
export interface SandboxAlertmanager {
  url: string;
  /** Starts it delivering to the bot's webhook, with the demo alert group firing (stopped by close). */
  start(webhook: { url: string; token: string }): Promise<void>;
}

export interface SandboxPlatform {
  services: ServiceDirectory;
  clusters: Config['clusters'];
  kube: KubeApiEmulator;
  /** Whether postgres-0 runs the real PostgreSQL (started on first use). */
  postgres: boolean;
  /** The real Alertmanager (undefined: not installed, or turned off), for the console's alert route. */
  alertmanager?: SandboxAlertmanager;
  /** Points a config's peers (Ray, S3, Redis, Qdrant, platform API) at the sandbox's. */
  configure(config: Config): Config;
  close(): Promise<void>;
}

/** An initialised platform database, as the platform's migrations leave it. */
const PLATFORM_SCHEMA = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO users (id, email) SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 250) g;
  CREATE TABLE api_keys (id serial PRIMARY KEY, user_id bigint REFERENCES users(id), label text);
  INSERT INTO api_keys (user_id, label) SELECT g, 'key ' || g FROM generate_series(1, 120) g;
  CREATE TABLE conversations (id bigserial PRIMARY KEY, user_id bigint REFERENCES users(id), model text, tokens int);
  INSERT INTO conversations (user_id, model, tokens) SELECT 1 + g % 250, 'meta-llama/Llama-3.1-8B-Instruct', g % 4000 FROM generate_series(1, 2000) g;
`;

const PG_BINARIES = new Set(['pg_dump', 'psql', 'pg_isready']);

/**
 * postgres-0's pg_dump/psql/pg_isready: the real ones against a server started on first use
 * (most commands never touch the database, and initdb takes seconds), or one line saying what
 * to install when there is none.
 */
function postgresOnDemand(state: KubeApiEmulator, server: (() => Promise<TestPostgres>) | undefined): ExecHandler {
  return (req) => {
    if (req.namespace !== POSTGRES_POD.namespace || req.pod !== POSTGRES_POD.pod) return undefined;
    const name = req.command[0]?.split('/').pop() ?? '';
    if (!PG_BINARIES.has(name)) return undefined;
    if (!server) {
      req.stderr.end(`${name}: ${POSTGRES_MISSING}\n`);
      return Promise.resolve(2);
    }
    return server().then((pg) => postgresExec({ state, server: pg })(req) ?? 127);
  };
}

export async function startSandboxPlatform(opts: SandboxOptions = {}): Promise<SandboxPlatform> {
  const closers: Array<() => Promise<unknown>> = [];
  let pg: Promise<TestPostgres> | undefined;
  const closeAll = async () => {
    // A server still starting is stopped once it is up (its start pushes its own closer).
    await pg?.catch(() => undefined);
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };
  try {
    const bucket = 'vlinders-backups';
    const [s3, redis, qdrant, api] = await Promise.all([startS3rver(bucket, opts.s3Dir), startRedisStub(), startQdrantStub({ [SANDBOX_COLLECTION]: { points: 1200 } }), startPlatformApi()]);
    closers.push(() => s3.close(), () => redis.close(), () => qdrant.close(), () => api.close());

    // TLS with a bearer token, as a real API server: the product's client runs unchanged.
    const kube = await KubeApiEmulator.start();
    closers.push(() => kube.close());
    const world = startVlindersWorld(kube, opts.world);
    closers.push(async () => world.stop());

    const withPostgres = opts.postgres !== false && postgresInstalled();
    const server = withPostgres ? { user: 'vlinders', password: randomBytes(12).toString('hex') } : undefined;
    const startServer = server
      ? () =>
          (pg ??= startPostgres({ password: server.password }).then(async (started) => {
            closers.push(() => started.stop());
            await started.psql(PLATFORM_SCHEMA);
            return started;
          }))
      : undefined;
    // The StatefulSet's Secret holds the password now; the server behind it starts when asked.
    if (server) seedPostgresSecret(kube, { ...server, host: '127.0.0.1', port: 0, database: 'vlinders' });
    kube.setHooks({ ...world.hooks, exec: chainExec(postgresOnDemand(kube, startServer), ...(world.hooks.exec ? [world.hooks.exec] : [])) });

    // The Ray dashboard and Serve route (model update), serving the seeded model.
    const model = (kube.get('v1', 'ConfigMap', world.cluster.namespaces.inference, 'vlinders-config')?.data as Record<string, string> | undefined)?.model;
    const ray = await RayDashboardStub.start({ model });
    closers.push(() => ray.close());
    // Prometheus: the stub's day-long waves for the digests' charts and `diagnose latency`; every
    // other query (`slo`, `gpu health`) to the real one on the world's exporter, started when first asked.
    const prometheus = await PrometheusStub.start();
    closers.push(() => prometheus.close());
    const worldPrometheus = worldPrometheusOnDemand(kube);
    closers.push(() => worldPrometheus.close());
    prometheus.forwardTo = () => worldPrometheus.url();

    // Its port is known now, so the bot is configured before its webhook (and so Alertmanager) is up.
    const amPort = opts.alertmanager !== false && findAlertmanager() ? await freePort() : undefined;
    const alertmanager: SandboxAlertmanager | undefined =
      amPort === undefined
        ? undefined
        : {
            url: `http://127.0.0.1:${amPort}`,
            start: async (webhook) => {
              const am = await startSandboxAlertmanager(amPort, webhook);
              closers.push(() => am.stop());
            },
          };

    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfig({ context: SANDBOX_CLUSTER }));
    for (const [k, v] of Object.entries(S3RVER_ENV)) process.env[k] ??= v;

    return {
      services: fixedClusters([new KubeClient(SANDBOX_CLUSTER, kc, 10_000)]),
      clusters: [{ name: SANDBOX_CLUSTER }],
      kube,
      postgres: withPostgres,
      alertmanager,
      configure(config) {
        Object.assign(config.ray, { dashboardUrl: ray.url, serveUrl: ray.url });
        config.prometheus.url = prometheus.url;
        seedSandboxMetrics(prometheus, config.prometheus.queries, kube);
        Object.assign(config.backup, { endpoint: s3.endpoint, forcePathStyle: true, bucket, region: S3RVER_ENV.AWS_REGION });
        Object.assign(config.platform, { domain: PLATFORM_DOMAIN, redis: redis.address, qdrantUrl: qdrant.url, qdrantCollection: SANDBOX_COLLECTION, apiUrl: api.url });
        return config;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
