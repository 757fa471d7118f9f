// Every injected fault ends in a clear message, with no object that looks like a backup left
// in S3 and the live database unchanged; the lock; two-person restore; the drill's cleanup.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, CopyObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { takeBackup } from '../../src/backup/backup.js';
import { gzipCodec, type GzipCodec } from '../../src/backup/gzip.js';
import { CLEAN_SLATE, withCleanSlate } from '../../src/backup/restore.js';
import { BackupBucket } from '../../src/backup/s3.js';
import { checkManifest, manifestKey, signedManifest } from '../../src/backup/signing.js';
import { postgresFor } from '../../src/postgres/index.js';
import { listBackups } from '../../src/backup/index.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { slackCaller, testEngine } from '../fixtures/engine.js';
import { approveAndRun as approveAndRunOn, startBackupWorld, type BackupWorld } from './world.js';
import { escapeMrkdwn } from '../../src/slack/mrkdwn.js';

let w: BackupWorld;
let bucket: BackupBucket;
let firstBackup: string;
let before: string;

const operator = slackCaller(USERS.operator, CHANNELS.ops);
const admin = slackCaller(USERS.admin, CHANNELS.ops);
const approver = slackCaller(USERS.approver, CHANNELS.ops);

const engineFor = (transport: 'exec' | 'direct' = 'exec') => testEngine({ config: w.config({ transport }), services: w.cluster.services });
type Engine = ReturnType<typeof engineFor>;
const approveAndRun = (t: Engine, who: typeof operator, text: string, opts?: { signal?: AbortSignal; progress?: string[] }) => approveAndRunOn(t.engine, who, text, opts);

const multipartUploadsCreated = () => w.s3.requests.filter((r) => r.startsWith('POST') && /[?&]uploads(=|&|$)/.test(r)).length;
/** Multipart uploads completed (CompleteMultipartUpload: a POST naming its uploadId). */
const multipartUploadsCompleted = () => w.s3.requests.filter((r) => r.startsWith('POST') && /[?&]uploadId=/.test(r)).length;
/** Uploads started since `mark` that were neither completed nor aborted: left open, billed, invisible. */
const openUploadsSince = (mark: { created: number; completed: number; aborted: number }) =>
  multipartUploadsCreated() - mark.created - (multipartUploadsCompleted() - mark.completed) - (w.s3.aborted.length - mark.aborted);
const uploadMark = () => ({ created: multipartUploadsCreated(), completed: multipartUploadsCompleted(), aborted: w.s3.aborted.length });

/** Every key in the bucket, manifests included. */
async function allKeys(): Promise<string[]> {
  const out = await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function readObject(key: string): Promise<{ body: Buffer; metadata: Record<string, string> }> {
  const r = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: key }));
  return { body: Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()), metadata: r.Metadata ?? {} };
}

async function scratchDatabases(): Promise<string> {
  return (await w.pg.psql("SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE '%drill%'")).trim();
}

beforeAll(async () => {
  w = await startBackupWorld({ users: 800, bigRows: 150_000 });
  bucket = new BackupBucket(w.config().backup);
  const report = await approveAndRun(engineFor(), operator, 'backup');
  expect(report.status, report.summary).toBe('ok');
  firstBackup = (await listBackups(w.config().backup))[0]?.name ?? '';
  before = await w.fingerprint();
}, 90_000);
afterAll(async () => w?.close());
beforeEach(() => {
  for (const k of Object.keys(w.pgFaults)) delete w.pgFaults[k as keyof typeof w.pgFaults];
  delete w.s3.faults.failPart;
  delete w.s3.faults.failManifest;
});

describe('a failed backup leaves no object and an unchanged database', () => {
  const cases: Array<[string, () => void, RegExp]> = [
    ['pg_dump killed midway', () => (w.pgFaults.killDumpAfterBytes = 12_000_000), /pg_dump failed.*exit 137/],
    ['the exec stream cut', () => (w.pgFaults.cutStreamAfterBytes = 12_000_000), /pg_dump failed.*closed before it reported an exit status/],
    ['S3 answering 500 on one part', () => (w.s3.faults.failPart = 2), /upload to S3 failed.*InternalError.*500/],
    ['S3 failing the manifest upload (the dump whole at its final key)', () => (w.s3.faults.failManifest = true), /failed after the upload.*InternalError/],
  ];
  it.each(cases)('%s', async (_name, inject, message) => {
    const keys = await allKeys();
    const abortsBefore = w.s3.aborted.length;
    const createdBefore = multipartUploadsCreated();
    inject();
    const report = await approveAndRun(engineFor(), operator, 'backup');
    expect(report.status).toBe('fail');
    expect(report.summary).toMatch(message);
    expect(report.summary).toMatch(/no backup (object )?was left behind/i);
    expect(await allKeys()).toEqual(keys);
    expect(await w.fingerprint()).toBe(before);
    // Every multipart upload this backup started was aborted (when the failure came before the
    // first part was full, none was started); with the manifest failing, the dump's upload had completed.
    if (!w.s3.faults.failManifest) expect(w.s3.aborted.length - abortsBefore, 'AbortMultipartUpload per upload started').toBe(multipartUploadsCreated() - createdBefore);
    if (w.s3.faults.failPart) expect(w.s3.aborted.length).toBeGreaterThan(abortsBefore);
  });

  it('the bot shutting down midway leaves no upload open and no object', async () => {
    const keys = await allKeys();
    const mark = uploadMark();
    const shutdown = new AbortController();
    const running = approveAndRun(engineFor('direct'), operator, 'backup', { signal: shutdown.signal });
    // Shut down once the multipart upload exists (its first part is on its way).
    await expect.poll(multipartUploadsCreated, { timeout: 20_000, interval: 10 }).toBeGreaterThan(mark.created);
    shutdown.abort();
    const report = await running;
    expect(report.status).toBe('fail');
    expect(report.summary).toMatch(/shutting down/);
    // Aborted mid-dump, or (a small dump already whole) completed and deleted.
    expect(openUploadsSince(mark)).toBe(0);
    expect(await allKeys()).toEqual(keys);
    expect(await w.fingerprint()).toBe(before);
  });
});

describe('direct transport with igzip: pg_dump writes straight into igzip', () => {
  /** A pg_dump on PATH that runs the real one and then misbehaves as `body` says (argv only, like the bot). */
  async function withPgDump<T>(body: string, work: () => Promise<T>): Promise<T> {
    const real = (process.env.PATH ?? '').split(':').map((dir) => join(dir, 'pg_dump')).find((file) => existsSync(file));
    const bin = mkdtempSync(join(tmpdir(), 'pg-dump-shim-'));
    writeFileSync(
      join(bin, 'pg_dump'),
      `#!${process.execPath}\nconst child = require('node:child_process').spawn(${JSON.stringify(real)}, process.argv.slice(2), { stdio: ['ignore', 'pipe', 'inherit'] });\nlet sent = 0;\n${body}\n`,
    );
    chmodSync(join(bin, 'pg_dump'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      return await work();
    } finally {
      process.env.PATH = path;
      rmSync(bin, { recursive: true, force: true });
    }
  }
  const failsCleanly = async (text: string, message: RegExp, configOverrides: Parameters<BackupWorld['config']>[0] = {}) => {
    const keys = await allKeys();
    const mark = uploadMark();
    const report = await approveAndRunOn(testEngine({ config: w.config({ transport: 'direct', gzip: 'igzip', ...configOverrides }), services: w.cluster.services }).engine, operator, text);
    expect(report.status, report.summary).toBe('fail');
    expect(report.summary).toMatch(message);
    expect(report.summary).toMatch(/no backup (object )?was left behind/i);
    // No multipart upload completed: the body never ended.
    expect(multipartUploadsCompleted() - mark.completed, 'CompleteMultipartUpload sent').toBe(0);
    expect(openUploadsSince(mark)).toBe(0);
    expect(await allKeys()).toEqual(keys);
    expect(await w.fingerprint()).toBe(before);
    return mark;
  };

  it('pg_dump killed midway: the thread names pg_dump, the upload is aborted, no object', async () => {
    const mark = await withPgDump(
      // Killed once 12 MB went out (written, not only buffered in this script).
      `child.stdout.on('data', (c) => process.stdout.write(c, () => { sent += c.length; if (sent > 12000000) { child.kill('SIGKILL'); process.kill(process.pid, 'SIGKILL'); } }));`,
      () => failsCleanly('backup', /pg_dump failed.*SIGKILL/s),
    );
    expect(multipartUploadsCreated(), 'parts went up before the kill').toBeGreaterThan(mark.created);
  });

  it('pg_dump exiting 1 after a whole dump: the body never ends, so S3 never completes the object', async () => {
    const mark = await withPgDump(
      `child.stdout.on('data', (c) => { process.stdout.write(c); sent += c.length; });\nchild.on('close', () => { process.stderr.write('pg_dump: error: query failed: out of memory\\n'); process.exitCode = 1; });`,
      () => failsCleanly('backup', /pg_dump failed.*exit 1.*out of memory/s),
    );
    expect(multipartUploadsCreated(), 'the dump spanned several parts').toBeGreaterThan(mark.created);
  });

  it('a table to count that the database lacks: refused naming it, before anything is uploaded', async () => {
    const mark = await failsCleanly('backup', /counting public\.nosuch.*does not exist/s, { countTables: ['users', 'public.nosuch'] });
    expect(multipartUploadsCreated()).toBe(mark.created);
  });
});

describe('the compressor failing midway', () => {
  it('igzip killed midway: the thread names gzip, no upload is left open, no object, the database unchanged', async () => {
    const keys = await allKeys();
    const mark = uploadMark();
    // The real igzip, killed once 5 MB of the dump went in.
    const killedIgzip: GzipCodec = {
      ...gzipCodec('igzip'),
      compress: () => {
        const sub = execa('igzip', ['-1', '-c'], { buffer: { stdout: false }, stdin: 'pipe', stdout: 'pipe' });
        sub.catch(() => undefined);
        const stream = sub.duplex();
        const write = stream._write.bind(stream);
        let fed = 0;
        stream._write = (chunk: Buffer, encoding, cb) => {
          fed += chunk.length;
          if (fed > 5_000_000) sub.kill('SIGKILL');
          write(chunk, encoding, cb);
        };
        return stream;
      },
    };
    const pg = postgresFor({ config: w.config(), services: w.cluster.services.forCluster(undefined) });
    const failure = takeBackup({ pg, bucket, tables: ['users'], progress: async () => undefined, signal: new AbortController().signal, reason: 'manual', gzip: killedIgzip, signingKey: await w.signingKey() });
    await expect(failure).rejects.toThrow(/gzip \(igzip\) failed.*SIGKILL.*no backup object was left behind/s);
    expect(openUploadsSince(mark)).toBe(0);
    expect(await allKeys()).toEqual(keys);
    expect(await w.fingerprint()).toBe(before);
  });
});

describe('a shutdown while the multipart upload is being created', () => {
  it('leaves no upload open: the SDK waits for its id, then aborts or completes and the object goes', async () => {
    const keys = await allKeys();
    const mark = uploadMark();
    w.s3.faults.createDelayMs = 800;
    const shutdown = new AbortController();
    try {
      const running = approveAndRun(engineFor('direct'), operator, 'backup', { signal: shutdown.signal });
      // Shut down while CreateMultipartUpload is unanswered: the client has no upload id yet.
      await expect.poll(multipartUploadsCreated, { timeout: 20_000, interval: 5 }).toBeGreaterThan(mark.created);
      shutdown.abort();
      const report = await running;
      expect(report.status).toBe('fail');
      expect(report.summary).toMatch(/shutting down/);
    } finally {
      delete w.s3.faults.createDelayMs;
    }
    expect(multipartUploadsCreated() - mark.created).toBe(1);
    expect(openUploadsSince(mark)).toBe(0);
    expect(await allKeys()).toEqual(keys);
    expect(await w.fingerprint()).toBe(before);
  });
});

describe('restore faults leave the database exactly as it was', () => {
  it('a key that does not exist is a clear message, nothing done', async () => {
    const keys = await allKeys();
    const t = engineFor();
    const outcome = await t.engine.invoke(admin, 'restore backup-20200101-000000Z.sql.gz', { progress: async () => undefined, signal: new AbortController().signal });
    expect(outcome.kind).toBe('error');
    if (outcome.kind === 'error') expect(outcome.message).toMatch(/There is no backup s3:\/\/vlinders-backups\/postgres\/backup-20200101-000000Z\.sql\.gz/);
    const bad = await t.engine.invoke(admin, 'restore ../../etc/passwd', { progress: async () => undefined, signal: new AbortController().signal });
    expect(bad.kind === 'error' && bad.message).toMatch(/is not a backup name/);
    expect(await allKeys()).toEqual(keys);
    expect(await w.fingerprint()).toBe(before);
  });

  it('a corrupted object (sha mismatch) is refused before the database is touched, and the drill leaves no scratch database', async () => {
    const key = `postgres/${firstBackup}`;
    const original = await readObject(key);
    const corrupt = Buffer.from(original.body);
    corrupt[corrupt.length >> 1] = (corrupt[corrupt.length >> 1] ?? 0) ^ 0xff;
    const t = engineFor();
    const plan = await t.engine.invoke(admin, `restore ${firstBackup}`, { progress: async () => undefined, signal: new AbortController().signal });
    expect(plan.kind).toBe('confirm');
    // Corrupted after the plan: the run reads it again and refuses.
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: corrupt, Metadata: original.metadata }));
    try {
      const keys = await allKeys();
      if (plan.kind !== 'confirm') return;
      const decided = await t.engine.decide(plan.action.id, approver, 'approve');
      if (decided.kind !== 'approved') throw new Error('not approved');
      const report = await t.engine.execute(decided.action, decided.command, { progress: async () => undefined, signal: new AbortController().signal }, 'slack');
      // The object changed (new ETag) since the plan: refused outright.
      expect(report.summary).toMatch(/changed in S3 after the plan was approved/);
      const again = await approveAndRun(t, admin, `restore ${firstBackup}`);
      expect(again.status).toBe('fail');
      expect(again.summary).toMatch(/Refused: .* does not match its recorded checksum.*the database was not touched/);
      expect(await allKeys(), 'no safety backup either: nothing ran').toEqual(keys);
      expect(await w.fingerprint()).toBe(before);

      const drill = await approveAndRun(t, operator, `restore-drill ${firstBackup}`);
      expect(drill.status).toBe('fail');
      expect(drill.summary).toMatch(/Drill failed.*does not match its recorded checksum.*scratch database vlinders_drill was dropped/s);
      expect(await scratchDatabases()).toBe('');
      expect(await w.fingerprint()).toBe(before);
    } finally {
      await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: original.body, Metadata: original.metadata }));
    }
  });

  it('counts that do not match the recorded ones roll the restore back (checked inside the transaction)', async () => {
    const key = `postgres/${firstBackup}`;
    const name = 'backup-20261001-000000Z.sql.gz';
    await bucket.client.send(new CopyObjectCommand({ Bucket: bucket.bucket, Key: `postgres/${name}`, CopySource: `${bucket.bucket}/${key}` }));
    // Signed by the bot (its key), so only the counts check stands between it and the database.
    const recorded = (await listBackups(w.config().backup)).find((e) => e.name === firstBackup)?.meta;
    if (!recorded) throw new Error('the first backup has no metadata');
    const meta = { ...recorded, counts: { users: 999_999 } };
    await bucket.put(manifestKey(`postgres/${name}`), signedManifest(await w.signingKey(), name, meta));
    try {
      const report = await approveAndRun(engineFor('direct'), admin, `restore ${name}`);
      expect(report.status).toBe('fail');
      expect(report.summary).toMatch(/rolled back: .*users has 800 rows after the restore; the backup recorded 999999.*vlinders is as it was before/s);
      expect(await w.fingerprint()).toBe(before);
    } finally {
      await bucket.delete(`postgres/${name}`);
      await bucket.delete(manifestKey(`postgres/${name}`));
      // The safety backup the restore took first is a real backup: drop it to keep the list stable.
      for (const e of await listBackups(w.config().backup)) if (e.meta?.reason === 'safety') await bucket.delete(e.key);
    }
  });
});

describe('one operation per database', () => {
  it('a second backup while one runs is refused, naming the running one', async () => {
    w.pgFaults.delayMs = 1500;
    const t = engineFor(); // one bot: one store
    const first = approveAndRun(t, operator, 'backup');
    await new Promise((r) => setTimeout(r, 300));
    const second = await approveAndRun(t, admin, 'backup');
    expect(second.status).toBe('fail');
    expect(escapeMrkdwn(second.summary ?? '')).toMatch(new RegExp(`A backup of database vlinders on cluster test is already running: started by <@${USERS.operator}> at \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC`));
    expect((await first).status).toBe('ok');
    delete w.pgFaults.delayMs;
    for (const e of (await listBackups(w.config().backup)).slice(0, -1)) await bucket.delete(e.key);
  });

  it('restore approved by its own requester is refused', async () => {
    const t = engineFor();
    const asked = await t.engine.invoke(admin, `restore ${firstBackup}`, { progress: async () => undefined, signal: new AbortController().signal });
    if (asked.kind !== 'confirm') throw new Error(JSON.stringify(asked));
    const self = await t.engine.decide(asked.action.id, admin, 'approve');
    expect(self.kind).toBe('refused');
    if (self.kind === 'refused') expect(self.message).toMatch(/second|another|different|own/i);
    expect(await w.fingerprint()).toBe(before);
  });
});

describe('restore-drill', () => {
  it('restores into a scratch database, compares, drops it, and reports the duration', async () => {
    const keys = await allKeys();
    const report = await approveAndRun(engineFor('direct'), operator, 'restore-drill');
    expect(report.status, report.summary).toBe('ok');
    expect(report.summary).toMatch(/Drill passed: backup-\d{8}-\d{6}Z\.sql\.gz restored into vlinders_drill in \d+s, row counts match, scratch database dropped/);
    expect(await scratchDatabases()).toBe('');
    expect(await allKeys()).toEqual(keys);
    expect(await w.fingerprint()).toBe(before);
  });
});

describe("the old runbook's backups", () => {
  it('are listed unverified, and the drill refuses them: they are not signed', async () => {
    // The runbook's way: plain pg_dump output, no --clean, uploaded as is.
    const dump = execFileSync('pg_dump', ['-h', '127.0.0.1', '-p', String(w.pg.port), '-U', 'vlinders', 'vlinders'], { env: { PATH: process.env.PATH, PGPASSWORD: w.pg.password }, maxBuffer: 1 << 28 });
    const key = 'postgres/backup-20240105.sql';
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: dump }));
    try {
      const t = engineFor();
      const listed = await t.engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), 'backups', { progress: async () => undefined, signal: new AbortController().signal });
      if (listed.kind !== 'report') throw new Error(JSON.stringify(listed));
      const rows = listed.report.sections?.[0]?.rows ?? [];
      expect(rows[0]?.[0]).toBe(firstBackup);
      expect(rows[0]?.[3]).toBe('✅');
      expect(rows.at(-1)?.[0]).toBe('backup-20240105.sql');
      expect(rows.at(-1)?.[3]).toMatch(/old runbook dump/);
      const drill = await approveAndRun(t, operator, 'restore-drill backup-20240105.sql');
      expect(drill.status, drill.summary).toBe('fail');
      expect(drill.summary).toMatch(/Refused: backup-20240105\.sql is not signed by this bot: it is an old runbook dump/);
      expect(await scratchDatabases()).toBe('');
    } finally {
      await bucket.delete(key);
    }
  });

  it("only a dump without DROPs gets the clean slate, in any chunking; ours (--clean --if-exists) pass as they are", async () => {
    const dumpOf = (...flags: string[]) => execFileSync('pg_dump', ['-h', '127.0.0.1', '-p', String(w.pg.port), '-U', 'vlinders', ...flags, 'vlinders'], { env: { PATH: process.env.PATH, PGPASSWORD: w.pg.password }, maxBuffer: 1 << 28 });
    const through = async (dump: Buffer, size: number) => {
      const out: Buffer[] = [];
      const chunks = (async function* () {
        for (let i = 0; i < dump.length; i += size) yield dump.subarray(i, i + size);
      })();
      for await (const c of withCleanSlate(chunks)) out.push(c);
      return Buffer.concat(out);
    };
    const ours = dumpOf('--clean', '--if-exists');
    const runbooks = dumpOf();
    for (const size of [1, 7, 4096, 1 << 20]) {
      const head = (b: Buffer) => b.subarray(0, 200_000);
      expect((await through(head(ours), size)).equals(head(ours)), `ours, ${size}-byte chunks`).toBe(true);
      expect((await through(head(runbooks), size)).equals(Buffer.concat([Buffer.from(CLEAN_SLATE), head(runbooks)])), `the runbook's, ${size}-byte chunks`).toBe(true);
    }
  });

  it('restore into the live database: the dump has no DROPs, so its schemas are cleared first in the same transaction, and public keeps its owner and grants', async () => {
    const dump = execFileSync('pg_dump', ['-h', '127.0.0.1', '-p', String(w.pg.port), '-U', 'vlinders', 'vlinders'], { env: { PATH: process.env.PATH, PGPASSWORD: w.pg.password }, maxBuffer: 1 << 28 });
    expect(dump.toString('latin1')).not.toMatch(/^DROP /m);
    const key = 'postgres/backup-20240106.sql';
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: dump }));
    const publicSchema = () => w.pg.psql("SELECT nspowner::regrole || ' ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'public'");
    const schemaBefore = await publicSchema();
    const backupsBefore = (await listBackups(w.config().backup)).map((e) => e.key);
    try {
      await w.pg.psql('DELETE FROM api_keys; DELETE FROM users WHERE id > 100; CREATE TABLE public.made_after (x int); CREATE SCHEMA scratch_after;');
      expect(await w.fingerprint()).not.toBe(before);
      const t = engineFor();
      const plan = await t.engine.invoke(admin, 'restore backup-20240106.sql --unsigned', { progress: async () => undefined, signal: new AbortController().signal });
      if (plan.kind !== 'confirm') throw new Error(JSON.stringify(plan));
      expect(JSON.stringify(plan.plan)).toMatch(/clean slate: every schema of vlinders is dropped first, in the same transaction/);
      const restored = await approveAndRun(t, admin, 'restore backup-20240106.sql --unsigned');
      expect(restored.status, restored.summary).toBe('warn'); // unverified: no counts to check
      expect(restored.summary).toMatch(/Restored vlinders from backup-20240106\.sql/);
      expect(await w.fingerprint()).toBe(before);
      expect(await w.pg.psql("SELECT count(*) FROM pg_namespace WHERE nspname = 'scratch_after'")).toBe('0\n');
      expect(await publicSchema()).toBe(schemaBefore);
    } finally {
      await bucket.delete(key);
      for (const e of await listBackups(w.config().backup)) if (!backupsBefore.includes(e.key)) await bucket.delete(e.key);
    }
  });
});

describe('a dump cut short', () => {
  it('an old runbook dump that ends before its trailer is refused at its end: rolled back, the database unchanged', async () => {
    const whole = execFileSync('pg_dump', ['-h', '127.0.0.1', '-p', String(w.pg.port), '-U', 'vlinders', '--clean', '--if-exists', 'vlinders'], { env: { PATH: process.env.PATH, PGPASSWORD: w.pg.password }, maxBuffer: 1 << 28 }).toString('latin1');
    // Valid SQL to its last statement: only the trailer is missing, so nothing but the check refuses it.
    const cut = whole.slice(0, whole.indexOf('\n--\n-- PostgreSQL database dump complete'));
    expect(cut.length).toBeGreaterThan(whole.length - 400);
    const key = 'postgres/backup-20240107.sql';
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: Buffer.from(cut, 'latin1') }));
    const backupsBefore = (await listBackups(w.config().backup)).map((e) => e.key);
    try {
      await w.pg.psql('DELETE FROM api_keys;');
      const changed = await w.fingerprint();
      const restored = await approveAndRun(engineFor('direct'), admin, 'restore backup-20240107.sql --unsigned');
      expect(restored.status, restored.summary).toBe('fail');
      expect(restored.summary).toMatch(/rolled back: the dump does not end with "-- PostgreSQL database dump complete": it is incomplete/);
      expect(await w.fingerprint()).toBe(changed);
    } finally {
      await bucket.delete(key);
      for (const e of await listBackups(w.config().backup)) if (!backupsBefore.includes(e.key)) await bucket.delete(e.key);
    }
  });
});

describe('secrets', () => {
  it('no output, progress line or log line carries the database password', async () => {
    const t = engineFor('direct');
    const progress: string[] = [];
    const reports = [await approveAndRun(t, operator, 'backup', { progress }), await approveAndRun(t, operator, 'restore-drill', { progress })];
    w.s3.faults.failPart = 2;
    reports.push(await approveAndRun(t, operator, 'backup', { progress }));
    const seen = JSON.stringify({ reports, progress, log: t.log.text() });
    expect(seen).toContain('backup');
    expect(seen).not.toContain(w.pg.password);
    for (const e of (await listBackups(w.config().backup)).slice(0, -1)) await bucket.delete(e.key);
  });
});

describe('names', () => {
  it('a backup never replaces an existing one taken in the same second', async () => {
    const at = Date.parse('2026-11-20T03:04:05.600Z');
    const deps = {
      pg: postgresFor({ config: w.config(), services: w.cluster.services.forCluster(undefined) }),
      bucket,
      tables: ['users'],
      progress: async () => undefined,
      signal: new AbortController().signal,
      reason: 'manual' as const,
      now: () => at,
      signingKey: await w.signingKey(),
    };
    const first = await takeBackup(deps);
    const second = await takeBackup(deps);
    expect([first.key, second.key]).toEqual(['postgres/backup-20261120-030405Z.sql.gz', 'postgres/backup-20261120-030406Z.sql.gz']);
    const signedMeta = async (r: typeof first) => checkManifest(deps.signingKey, r.key.slice('postgres/'.length), await bucket.getText(manifestKey(r.key)));
    expect(await signedMeta(first)).toEqual({ ok: true, meta: first.meta });
    expect(await signedMeta(second)).toEqual({ ok: true, meta: second.meta });
    for (const k of [first.key, second.key]) await Promise.all([bucket.delete(k), bucket.delete(manifestKey(k))]);
  });
});
