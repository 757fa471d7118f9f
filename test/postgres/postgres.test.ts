// src/postgres over both transports against the real server: kube exec into the emulator's
// postgres-0 (which runs the real psql/pg_dump) and direct (execa, password from the Secret).
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresFor, PostgresError } from '../../src/postgres/index.js';
import type { PostgresFaults } from '../../src/sandbox/kube/world/postgres-exec.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { startPostgres, type TestPostgres } from '../tools/postgres.js';

let pg: TestPostgres;
let cluster: Awaited<ReturnType<typeof startCluster>>;
const faults: PostgresFaults = {};

beforeAll(async () => {
  pg = await startPostgres();
  await pg.psql(`CREATE TABLE users (id int primary key, name text); INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 2500) g;
    CREATE TABLE "Orders" (id serial, note text); INSERT INTO "Orders"(note) SELECT E'tab\\there\\nnewline' FROM generate_series(1, 40);`);
  cluster = await startCluster({ postgres: { server: pg, faults } });
}, 30_000);
afterAll(async () => {
  await cluster?.close();
  await pg?.stop();
});

const ctxFor = (transport: 'exec' | 'direct') => {
  const config = clusterConfig();
  config.backup.transport = transport;
  config.backup.host = '127.0.0.1';
  config.backup.port = pg.port;
  return { config, services: cluster.services.forCluster(undefined) };
};

class Sink extends Writable {
  bytes = 0;
  head = '';
  tail = '';
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void) {
    this.bytes += chunk.length;
    if (this.head.length < 2000) this.head += chunk.toString();
    this.tail = (this.tail + chunk.toString()).slice(-200);
    cb();
  }
}

describe.each(['exec', 'direct'] as const)('postgresFor over %s', (transport) => {
  it('queries rows and counts', async () => {
    const db = postgresFor(ctxFor(transport));
    expect(await db.query("SELECT 1, 'two'")).toEqual([['1', 'two']]);
    expect(await db.count('users')).toBe(2500);
    expect(await db.count('public.users')).toBe(2500);
  });

  it('reports a failing query with psql’s own message', async () => {
    const db = postgresFor(ctxFor(transport));
    await expect(db.query('SELECT * FROM no_such_table')).rejects.toThrow(/psql failed .*exit 1.*no_such_table/s);
    await expect(db.query('SELECT 1', { database: 'nope' })).rejects.toBeInstanceOf(PostgresError);
  });

  it('streams a complete dump and runs SQL from a stream', async () => {
    const db = postgresFor(ctxFor(transport));
    const sink = new Sink();
    await db.dump(sink);
    expect(sink.head).toContain('PostgreSQL database dump');
    expect(sink.tail).toContain('-- PostgreSQL database dump complete');
    await db.run(Readable.from([`CREATE TABLE t_${transport} (x int);`, `INSERT INTO t_${transport} VALUES (1),(2);`]));
    expect(await db.count(`t_${transport}`)).toBe(2);
  });

  it('rolls back a single-transaction run that fails midway', async () => {
    const db = postgresFor(ctxFor(transport));
    const sql = new PassThrough();
    sql.end(`DELETE FROM users; SELECT 1/0;`);
    await expect(db.run(sql, { singleTransaction: true })).rejects.toThrow(/division by zero/);
    expect(await db.count('users')).toBe(2500);
  });
});

describe('dumping a snapshot straight into another process', () => {
  it('a snapshot id that is not one, or a pipe over exec, is refused before anything runs', async () => {
    const handedOver: string[] = [];
    const end = { fd: 1, handedOver: () => void handedOver.push('x') };
    await expect(postgresFor(ctxFor('direct')).dump(new Sink(), { snapshot: '--file=/tmp/x' })).rejects.toThrow(/is not a snapshot id/);
    await expect(postgresFor(ctxFor('exec')).dump(end)).rejects.toThrow(/a kernel pipe needs backup.transport: direct/);
    await expect(postgresFor(ctxFor('exec')).exportSnapshot(['users'])).rejects.toThrow(/needs backup.transport: direct/);
    expect(handedOver).toEqual([]);
  });

  it('the exported snapshot holds its counts while the table changes, and pg_dump dumps exactly those rows', async () => {
    const db = postgresFor(ctxFor('direct'));
    const snapshot = await db.exportSnapshot(['users']);
    try {
      await db.run(Readable.from(['CREATE TABLE snap_later (x int); INSERT INTO snap_later VALUES (1);']));
      let text = '';
      await db.dump(new Writable({ write: (c: Buffer, _e, cb) => void ((text += c.toString()), cb()) }), { snapshot: snapshot.id });
      expect(snapshot.counts).toEqual({ users: await db.count('users') });
      // Made after the snapshot: not in the dump, while the same dump without it has it.
      expect(text).toContain('-- PostgreSQL database dump complete');
      expect(text).not.toContain('snap_later');
      let now = '';
      await db.dump(new Writable({ write: (c: Buffer, _e, cb) => void ((now += c.toString()), cb()) }));
      expect(now).toContain('snap_later');
    } finally {
      await snapshot.release();
      await db.run(Readable.from(['DROP TABLE snap_later;']));
    }
  });
});

describe('faults in postgres-0', () => {
  it('pg_dump killed midway is an error, not a short dump', async () => {
    faults.killDumpAfterBytes = 1000;
    try {
      const sink = new Sink();
      await expect(postgresFor(ctxFor('exec')).dump(sink)).rejects.toThrow(/pg_dump failed .*exit 137/);
      expect(sink.tail).not.toContain('dump complete');
    } finally {
      delete faults.killDumpAfterBytes;
    }
  });

  it('a cut exec stream is an error', async () => {
    faults.cutStreamAfterBytes = 1000;
    try {
      await expect(postgresFor(ctxFor('exec')).dump(new Sink())).rejects.toThrow(/closed before it reported an exit status/);
    } finally {
      delete faults.cutStreamAfterBytes;
    }
  });

  it('direct needs the Secret: a missing key says which', async () => {
    const ctx = ctxFor('direct');
    ctx.config.backup.secret.key = 'nokey';
    await expect(postgresFor(ctx).query('SELECT 1')).rejects.toThrow(/has no key "nokey"/);
  });
});
