// The backup tests' world: the real PostgreSQL with a platform-like database, s3rver behind
// its fault peer, and the kube emulator whose postgres-0 runs the real pg_dump/psql.
import { readSigningKey } from '../../src/backup/signing.js';
import type { Config } from '../../src/config/schema.js';
import type { Caller } from '../../src/core/command.js';
import type { CommandEngine } from '../../src/core/engine.js';
import type { Report } from '../../src/core/report.js';
import { approveAndRun as runApproved, slackCaller } from '../fixtures/engine.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import type { PostgresFaults } from '../../src/sandbox/kube/world/postgres-exec.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { startPostgres, type TestPostgres } from '../tools/postgres.js';
import { startS3, useS3rverCredentials, type TestS3 } from '../tools/s3.js';

/**
 * Many tables, `users` among them; `events` holds rows that barely compress (md5 text) so a
 * dump spans several 5 MiB parts when `bigRows` is set.
 */
export function platformSchema(opts: { users?: number; bigRows?: number } = {}): string {
  const users = opts.users ?? 1200;
  return `
    CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO users (id, email) SELECT g, 'user' || g || '@example.com' FROM generate_series(1, ${users}) g;
    CREATE TABLE api_keys (id serial PRIMARY KEY, user_id bigint REFERENCES users(id), label text);
    INSERT INTO api_keys (user_id, label) SELECT g, E'key with a tab\\there and a newline\\n' FROM generate_series(1, ${Math.min(users, 300)}) g;
    CREATE TABLE "Model Deployments" (name text PRIMARY KEY, replicas int);
    INSERT INTO "Model Deployments" VALUES ('llama-3-70b', 4), ('mixtral', 2);
    CREATE SCHEMA billing;
    CREATE TABLE billing.invoices (id serial PRIMARY KEY, amount numeric(12,2));
    INSERT INTO billing.invoices (amount) SELECT g * 1.5 FROM generate_series(1, 250) g;
    CREATE TABLE events (id bigserial PRIMARY KEY, payload text);
    INSERT INTO events (payload) SELECT md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) FROM generate_series(1, ${opts.bigRows ?? 50}) g;
    CREATE VIEW active_users AS SELECT id, email FROM users WHERE id % 2 = 0;
  `;
}

export interface BackupWorld {
  pg: TestPostgres;
  s3: TestS3;
  cluster: Awaited<ReturnType<typeof startCluster>>;
  pgFaults: PostgresFaults;
  config(overrides?: Partial<Config['backup']>): Config;
  /** The key of the signing Secret the world seeded (what the bot signs manifests with). */
  signingKey(): Promise<Buffer>;
  /** Counts of every table, to compare the live database before and after. */
  fingerprint(database?: string): Promise<string>;
  close(): Promise<void>;
}

/** `home`: postgres-0's home directory (a test puts a ~/.psqlrc there). */
export async function startBackupWorld(opts: { users?: number; bigRows?: number; home?: string } = {}): Promise<BackupWorld> {
  useS3rverCredentials();
  const [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  await pg.psql(platformSchema(opts));
  const pgFaults: PostgresFaults = {};
  const cluster = await startCluster({ postgres: { server: pg, faults: pgFaults, home: opts.home } });
  return {
    pg,
    s3,
    cluster,
    pgFaults,
    config(overrides = {}) {
      const config = clusterConfig();
      config.backup = { ...config.backup, endpoint: s3.endpoint, forcePathStyle: true, bucket: s3.bucket, host: '127.0.0.1', port: pg.port, partSizeMiB: 5, ...overrides };
      return config;
    },
    signingKey: () => readSigningKey(clusterConfig(), cluster.services.forCluster(undefined)),
    fingerprint: (database = 'vlinders') =>
      pg.psql(
        `SELECT string_agg(t, ',' ORDER BY t) FROM (
           SELECT format('%s.%s=%s', table_schema, table_name, (xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', table_schema, table_name), false, true, '')))[1]::text) AS t
           FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE') counted`,
        database,
      ),
    async close() {
      await cluster.close();
      await Promise.all([pg.stop(), s3.stop()]);
    },
  };
}

/**
 * `text` as `who`; a change is approved by the approver (a second person) and run. A refusal
 * comes back as a failed Report carrying its message.
 */
export async function approveAndRun(engine: CommandEngine, who: Caller, text: string, opts: { signal?: AbortSignal; progress?: string[] } = {}): Promise<Report> {
  const io = { progress: async (line: string) => void opts.progress?.push(line), signal: opts.signal ?? new AbortController().signal };
  const out = await runApproved(engine, who, text, io, { approver: slackCaller(USERS.approver, CHANNELS.ops) });
  return out.kind === 'error' ? { title: 'refused', status: 'fail', summary: out.message } : out.report;
}
