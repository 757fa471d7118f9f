// `diagnose db` and the weekly database health against the real PostgreSQL server, reached
// the way production reaches it: psql in the emulator's postgres-0 over kube exec (or direct).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/core/report.js';
import type { KubeObject } from '../../src/sandbox/kube/contract.js';
import { databaseSection } from '../../src/digest/database.js';
import { postgresHealthSource } from '../../src/postgres/health.js';
import { postgresFor } from '../../src/postgres/index.js';
import { postgresServiceName } from '../../commands/diagnose-db.js';
import { noIO, slackCaller, testEngine } from '../fixtures/engine.js';
import { USERS, CHANNELS } from '../fixtures/world.js';
import { startPostgres, type TestPostgres } from '../tools/postgres.js';
import { clusterConfig, startCluster } from './cluster.js';

let pg: TestPostgres;
let cluster: Awaited<ReturnType<typeof startCluster>>;

beforeAll(async () => {
  pg = await startPostgres();
  cluster = await startCluster({ postgres: { server: pg } });
}, 30_000);
afterAll(async () => {
  await cluster?.close();
  await pg?.stop();
});

/** psql as the superuser over the server's trusted unix socket (the test's own admin door). */
function superuser(sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', 'vlinders', '-c', sql], { stdio: 'ignore' });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited ${code}`))));
  });
}

async function diagnose(configure: (c: ReturnType<typeof clusterConfig>) => void = () => undefined): Promise<Report> {
  const config = clusterConfig();
  configure(config);
  const { engine } = testEngine({ config, services: cluster.services });
  const outcome = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'diagnose db', noIO());
  if (outcome.kind !== 'report') throw new Error(outcome.kind === 'error' ? outcome.message : outcome.kind);
  return outcome.report;
}

const section = (r: Report, prefix: string) => r.sections?.find((s) => s.title?.startsWith(prefix));
const field = (r: Report, prefix: string, label: string) => section(r, prefix)?.fields?.find((f) => f.label === label)?.value;
const connectionsOf = (r: Report) => Number(/ (\d+) of max_connections/.exec(field(r, 'PostgreSQL', 'Connections') ?? '')?.[1]);

describe('diagnose db', () => {
  it('shows the pod, the Service, SELECT 1 and connections, which rise with held connections', async () => {
    const before = await diagnose();
    expect(before.status).toBe('ok');
    expect(field(before, 'Pod vlinders-platform/postgres-0', 'Ready')).toBe('yes');
    expect(field(before, 'Service vlinders-platform/postgres', 'Selects postgres-0')).toBe('yes');
    expect(field(before, 'Service vlinders-platform/postgres', 'Ports')).toBe('postgres 5432→5432');
    expect(field(before, 'PostgreSQL', 'SELECT 1')).toMatch(/^✅ \d+ ms via pod vlinders-platform\/postgres-0 \(kube exec\)$/);
    // startPostgres runs the server with max_connections=40.
    expect(field(before, 'PostgreSQL', 'Connections')).toMatch(/^✅ \d+ of max_connections 40 \(\d+%\)$/);

    // Five more clients, held open while we look again.
    const held = Array.from({ length: 5 }, () => pg.psql('SELECT pg_sleep(4)'));
    await new Promise((r) => setTimeout(r, 1000));
    const during = await diagnose();
    expect(connectionsOf(during) - connectionsOf(before)).toBe(5);
    await Promise.all(held);
    // Never the password of the Secret it could read.
    expect(JSON.stringify([before, during])).not.toContain(pg.password);
  }, 60_000);

  it('an unreachable server, a missing pod and a Service that selects nothing each fail clearly', async () => {
    const down = await diagnose((c) => {
      c.backup.transport = 'direct';
      c.backup.host = '127.0.0.1';
      c.backup.port = 9;
    });
    expect(down.status).toBe('fail');
    expect(section(down, 'PostgreSQL')?.lines?.[0]).toMatch(/^❌ SELECT 1 via 127\.0\.0\.1:9 \(direct\) failed: psql failed on 127\.0\.0\.1:9 \(direct\) \(exit 2\): .*(Connection refused|could not connect)/s);
    expect(JSON.stringify(down)).not.toContain(pg.password);

    const noPod = await diagnose((c) => (c.backup.pod = 'postgres-1'));
    expect(noPod.status).toBe('fail');
    expect(section(noPod, 'Pod vlinders-platform/postgres-1')?.lines?.[0]).toContain('No pod "postgres-1" in vlinders-platform. Did you mean `postgres-0`?');

    const svc = cluster.kube.get('v1', 'Service', 'vlinders-platform', 'postgres') as KubeObject & { spec: { selector: Record<string, string> } };
    cluster.kube.replace({ ...svc, spec: { ...svc.spec, selector: { ...svc.spec.selector, 'app.kubernetes.io/name': 'postgresql' } } });
    try {
      const mismatched = await diagnose();
      expect(mismatched.status).toBe('fail');
      expect(field(mismatched, 'Service vlinders-platform/postgres', 'Selects postgres-0')).toContain("does not match the pod's labels");
    } finally {
      cluster.kube.replace({ ...(cluster.kube.get('v1', 'Service', 'vlinders-platform', 'postgres') as KubeObject), spec: svc.spec });
    }
  }, 60_000);

  it('names the Service behind backup.host', () => {
    expect(postgresServiceName('postgres.vlinders-platform.svc')).toBe('postgres');
    expect(postgresServiceName('pg-primary.db.svc.cluster.local')).toBe('pg-primary');
    expect(postgresServiceName('pg-primary')).toBe('pg-primary');
    expect(postgresServiceName('10.0.0.7')).toBe('postgres');
    expect(postgresServiceName('db.example.com')).toBe('postgres');
  });
});

describe('weekly database health from the real server', () => {
  const read = async () => {
    const config = clusterConfig();
    const db = postgresFor({ config, services: cluster.services.forCluster(undefined) });
    return databaseSection(postgresHealthSource(db), undefined, config, { now: Date.now() });
  };

  it('digest weekly reads it through the command', async () => {
    const { engine } = testEngine({ config: clusterConfig(), services: cluster.services });
    const outcome = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'digest weekly', noIO());
    if (outcome.kind !== 'report') throw new Error(outcome.kind);
    expect(outcome.report.summary).toMatch(/DB \d+\/40 connections/);
    const db = outcome.report.thread?.[0]?.sections?.find((x) => x.title === 'Database');
    expect(db?.fields?.find((f) => f.label === 'Connections')?.value).toMatch(/^\d+ of max_connections 40 \(\d+%\)$/);
    expect(JSON.stringify(outcome.report)).not.toContain(pg.password);
  }, 60_000);

  it('connections, size, and what it says about pg_stat_statements', async () => {
    const plain = await read();
    expect(plain.status).toBe('ok');
    expect(plain.headline).toMatch(/^DB \d+\/40 connections$/);
    expect(plain.sections[0]?.fields?.find((f) => f.label === 'Size')?.value).toMatch(/MiB$/);
    expect(plain.sections[0]?.lines).toContain('slowest statements: pg_stat_statements is not installed');
    // Installed but not preloaded (shared_preload_libraries): PostgreSQL refuses to read it.
    await superuser('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    try {
      const created = await read();
      expect(created.sections[0]?.lines?.find((l) => l.startsWith('⚠️ slowest statements:'))).toContain('shared_preload_libraries');
    } finally {
      await superuser('DROP EXTENSION pg_stat_statements');
    }
  }, 60_000);

  it('with pg_stat_statements preloaded and installed: the slowest statements, with their calls and mean time, constants as $n', async () => {
    const preloaded = await startPostgres({ preload: ['pg_stat_statements'] });
    const world = await startCluster({ postgres: { server: preloaded } });
    try {
      await preloaded.psql('CREATE TABLE IF NOT EXISTS orders (id int)');
      const admin = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', preloaded.socketDir, '-p', String(preloaded.port), '-U', 'postgres', '-d', 'vlinders', '-c', 'CREATE EXTENSION pg_stat_statements', '-c', 'SELECT pg_stat_statements_reset()'], { stdio: 'ignore' });
      expect(await new Promise((r) => admin.on('close', r))).toBe(0);
      // From here on only what the test runs is counted (the reset): the sleeps are the slowest.
      for (let i = 0; i < 3; i++) await preloaded.psql(`SELECT pg_sleep(0.3), ${i} AS n`);
      await preloaded.psql('SELECT count(*) FROM orders');
      const config = clusterConfig();
      const section = await databaseSection(postgresHealthSource(postgresFor({ config, services: world.services.forCluster(undefined) })), undefined, config, { now: Date.now() });
      const slowest = section.sections.find((x) => x.title === 'Slowest statements (mean time)');
      const sleeps = slowest?.rows?.find((row) => /pg_sleep\(\$1\), \$2 AS n/.test(row[2] ?? ''));
      expect(sleeps, JSON.stringify(slowest)).toBeDefined();
      expect(sleeps?.[1]).toBe('3');
      expect(Number.parseFloat(sleeps?.[0] ?? '')).toBeGreaterThanOrEqual(300);
      expect(slowest?.rows?.[0]).toEqual(sleeps); // the slowest first
      expect(section.sections[0]?.lines?.join('\n') ?? '').not.toMatch(/pg_stat_statements is not installed|⚠️ slowest/);
    } finally {
      await world.close();
      await preloaded.stop();
    }
  }, 60_000);
});
