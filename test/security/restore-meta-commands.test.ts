// Issue 13, item 1: a backup object can't run psql meta-commands (CVE-2025-8714). Hostile dumps
// carrying `\!`, `\connect`, `\copy … program`, `\o |cmd`, `\g |cmd` and `\set` go through
// `restore --unsigned` and `restore-drill` (signed, as if the key had leaked) over both
// transports, against the real PostgreSQL and the real psql: none runs, the restore fails, the
// database is unchanged. Also: psql gets no ~/.psqlrc
// and none of the bot's environment, and a psql without `\restrict` is refused at the plan.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupName, encodeMetadata } from '../../src/backup/catalog.js';
import { withoutDumpRestriction } from '../../src/backup/restore.js';
import { BackupBucket } from '../../src/backup/s3.js';
import { manifestKey, signedManifest } from '../../src/backup/signing.js';
import { postgresFor, psqlKnowsRestrict } from '../../src/postgres/index.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { slackCaller, testEngine } from '../fixtures/engine.js';
import { approveAndRun, startBackupWorld, type BackupWorld } from '../backup/world.js';

let w: BackupWorld;
let bucket: BackupBucket;
let scratch: string;
let home: string;
let before: string;

const admin = slackCaller(USERS.admin, CHANNELS.ops);
const operator = slackCaller(USERS.operator, CHANNELS.ops);
const io = () => ({ progress: async () => undefined, signal: new AbortController().signal });
const engineFor = (transport: 'exec' | 'direct') => testEngine({ config: w.config({ transport }), services: w.cluster.services }).engine;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vlinders-meta-'));
  home = join(scratch, 'home');
  mkdirSync(home);
  w = await startBackupWorld({ users: 60, bigRows: 40, home });
  bucket = new BackupBucket(w.config().backup);
  before = await w.fingerprint();
}, 60_000);
afterAll(async () => {
  await w?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The live database as pg_dump ≥ 15.14 writes it: --clean, with its own \restrict/\unrestrict pair. */
function realDump(): string {
  return execFileSync('pg_dump', ['-h', '127.0.0.1', '-p', String(w.pg.port), '-U', 'vlinders', '--clean', '--if-exists', 'vlinders'], {
    env: { PATH: process.env.PATH, PGPASSWORD: w.pg.password },
    maxBuffer: 1 << 28,
  }).toString('utf8');
}

const dumpKey = (dump: string) => /^\\restrict ([A-Za-z0-9]+)$/m.exec(dump)?.[1] ?? '';

/** The dump with `payload` after its SET preamble (before the first DROP), or at its end. */
function hostile(payload: string, where: 'start' | 'end' = 'start'): string {
  const dump = realDump();
  if (where === 'start') return dump.replace('SET row_security = off;\n', `SET row_security = off;\n${payload}\n`);
  const trailer = dump.lastIndexOf('--\n-- PostgreSQL database dump complete');
  return `${dump.slice(0, trailer)}${payload}\n${dump.slice(trailer)}`;
}

let day = 1;
/** Uploads `sql` as an old runbook dump (plain, no metadata) and returns its name. */
async function putPlain(sql: string): Promise<string> {
  const name = `backup-202401${String(day++).padStart(2, '0')}.sql`;
  await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: `postgres/${name}`, Body: sql }));
  return name;
}

let hour = 1;
/**
 * Uploads `sql` gzipped, with its metadata and a manifest signed with the bot's key (as if the
 * key had leaked: the restriction must hold on its own), named as the newest backup: the one
 * the scheduled drill picks by itself.
 */
async function putSignedNewest(sql: string): Promise<string> {
  const body = gzipSync(sql);
  const name = backupName(new Date(Date.now() + hour++ * 3_600_000));
  const meta = {
    sha256: createHash('sha256').update(body).digest('hex'),
    bytes: body.length,
    sqlBytes: Buffer.byteLength(sql),
    counts: { users: 60 },
    database: 'vlinders',
    transport: 'exec',
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    reason: 'manual',
  };
  await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: `postgres/${name}`, Body: body, Metadata: encodeMetadata(meta) }));
  await bucket.put(manifestKey(`postgres/${name}`), signedManifest(await w.signingKey(), name, meta));
  return name;
}

const marker = (name: string) => join(scratch, name);
const pwnedTables = async () => (await w.pg.psql("SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_name LIKE 'pwned%'")).trim();
const REFUSED = /backslash commands are restricted|\\unrestrict: wrong key/;

/** Every meta-command a dump could use to leave psql's script: shell, files, other databases. */
const PAYLOADS: Array<[string, (file: string) => string, ('start' | 'end')?]> = [
  ['\\! (a shell)', (f) => `\\! touch ${f}`],
  ['\\! env > file (the bot’s secrets)', (f) => `\\! env > ${f}`],
  ['\\copy … to program', (f) => `\\copy (SELECT 1) TO PROGRAM 'touch ${f}'`],
  ['\\copy … from program', (f) => `CREATE TABLE public.pwned_copy (t text);\n\\copy public.pwned_copy FROM PROGRAM 'touch ${f}'`],
  ['\\o |cmd', (f) => `\\o |touch ${f}\nSELECT 1;`],
  ['\\g |cmd after SQL on the same line', (f) => `SELECT 1 \\g |touch ${f}`],
  ['\\set with a backquoted shell command', (f) => `\\set x \`touch ${f}\``],
  ['\\set ON_ERROR_STOP off, then \\!', (f) => `\\set ON_ERROR_STOP off\n\\! touch ${f}`],
  ['\\unset ON_ERROR_STOP, then \\!', (f) => `\\unset ON_ERROR_STOP\n\\! touch ${f}`],
  ['\\o to a file, then \\i', (f) => `\\o ${f}\n\\i /dev/null`],
  ['\\! at the end, after the rows', (f) => `\\! touch ${f}`, 'end'],
];

describe.each(['exec', 'direct'] as const)('restore over %s: meta-commands in the object are refused', (transport) => {
  it.each(PAYLOADS)('%s: nothing runs, the restore fails, the database is unchanged', async (label, payload, where) => {
    const file = marker(`${transport}-${label.replace(/[^a-z]+/gi, '-')}`);
    const name = await putPlain(hostile(payload(file), where));
    const report = await approveAndRun(engineFor(transport), admin, `restore ${name} --unsigned`);
    expect(report.status, report.summary).toBe('fail');
    expect(report.summary).toMatch(REFUSED);
    expect(report.summary).toMatch(/rolled back/);
    expect(existsSync(file), `${label} ran`).toBe(false);
    expect(await w.fingerprint()).toBe(before);
    expect(await pwnedTables()).toBe('');
  });

  it('\\connect to the live database then CREATE TABLE: refused, nothing created anywhere', async () => {
    const name = await putPlain(hostile('\\connect vlinders\nCREATE TABLE pwned_connect (id int);'));
    const report = await approveAndRun(engineFor(transport), admin, `restore ${name} --unsigned`);
    expect(report.status, report.summary).toBe('fail');
    expect(report.summary).toMatch(REFUSED);
    expect(await pwnedTables()).toBe('');
    expect(await w.fingerprint()).toBe(before);
  });

  it("the dump's own \\unrestrict, used in the middle to lift the restriction: refused", async () => {
    const file = marker(`${transport}-own-unrestrict`);
    const dump = realDump();
    const name = await putPlain(dump.replace('SET row_security = off;\n', `SET row_security = off;\n\\unrestrict ${dumpKey(dump)}\n\\! touch ${file}\n`));
    const report = await approveAndRun(engineFor(transport), admin, `restore ${name} --unsigned`);
    expect(report.status, report.summary).toBe('fail');
    expect(report.summary).toMatch(REFUSED);
    expect(existsSync(file)).toBe(false);
    expect(await w.fingerprint()).toBe(before);
  });

  it("a command after the dump's own closing \\unrestrict: the pair is no longer pg_dump's, so refused", async () => {
    const file = marker(`${transport}-after-unrestrict`);
    const name = await putPlain(`${realDump()}\\! touch ${file}\n`);
    const report = await approveAndRun(engineFor(transport), admin, `restore ${name} --unsigned`);
    expect(report.status, report.summary).toBe('fail');
    expect(existsSync(file)).toBe(false);
    expect(await w.fingerprint()).toBe(before);
  });
});

describe.each(['exec', 'direct'] as const)('restore-drill over %s', (transport) => {
  it('the newest signed object, picked by the drill itself, can’t \\connect to the live database', async () => {
    const name = await putSignedNewest(hostile('\\connect vlinders\nCREATE TABLE pwned_drill (id int);'));
    const report = await approveAndRun(engineFor(transport), operator, 'restore-drill');
    expect(report.summary).toContain(name);
    expect(report.status, report.summary).toBe('fail');
    expect(report.summary).toMatch(REFUSED);
    expect(report.summary).toMatch(/scratch database vlinders_drill was dropped/);
    expect(await pwnedTables()).toBe('');
    expect(await w.fingerprint()).toBe(before);
  });

  it('\\! in a drilled object runs nothing', async () => {
    const file = marker(`${transport}-drill-shell`);
    const name = await putSignedNewest(hostile(`\\! touch ${file}`));
    const report = await approveAndRun(engineFor(transport), operator, `restore-drill ${name}`);
    expect(report.status, report.summary).toBe('fail');
    expect(report.summary).toMatch(REFUSED);
    expect(existsSync(file)).toBe(false);
  });
});

describe("pg_dump's own \\restrict pair", () => {
  it('is recognised exactly, in any chunking: only its two lines are removed, and a real dump restores', async () => {
    const dump = Buffer.from(realDump());
    const key = dumpKey(dump.toString());
    expect(key, 'the installed pg_dump writes \\restrict (15.14 and later)').toMatch(/^[A-Za-z0-9]{20,}$/);
    const expected = dump.toString().replace(`\\restrict ${key}\n`, '').replace(`\\unrestrict ${key}\n\n`, '');
    for (const size of [1, 7, 100, 511, 513, 1023, 1025, 64 * 1024]) {
      const chunks = (async function* () {
        for (let i = 0; i < dump.length; i += size) yield dump.subarray(i, i + size);
      })();
      const out: Buffer[] = [];
      for await (const c of withoutDumpRestriction(chunks)) out.push(c);
      expect(Buffer.concat(out).toString(), `chunks of ${size}`).toBe(expected);
    }
    const name = await putPlain(dump.toString());
    const report = await approveAndRun(engineFor('exec'), admin, `restore ${name} --unsigned`);
    expect(report.status, report.summary).toBe('warn'); // restored; unverified (an old-form object)
    expect(await w.fingerprint()).toBe(before);
  });

  it('a pair whose keys differ, or a \\restrict elsewhere than after the header, is left for psql to refuse', async () => {
    const dump = realDump();
    const key = dumpKey(dump);
    const through = async (text: string) => {
      const out: Buffer[] = [];
      for await (const c of withoutDumpRestriction(Readable.from([Buffer.from(text)]))) out.push(c);
      return Buffer.concat(out).toString();
    };
    const otherKey = dump.replace(`\\unrestrict ${key}`, '\\unrestrict someOtherKey');
    expect(await through(otherKey)).toContain('\\unrestrict someOtherKey');
    const moved = `-- a comment first\n${dump}`;
    expect(await through(moved)).toBe(moved);
  });
});

describe('psql itself', () => {
  it('reads no ~/.psqlrc: a psqlrc in postgres-0’s home would run before the restriction', async () => {
    const file = marker('psqlrc-ran');
    writeFileSync(join(home, '.psqlrc'), `\\! touch ${file}\n`);
    try {
      const name = await putPlain(realDump());
      const report = await approveAndRun(engineFor('exec'), admin, `restore ${name} --unsigned`);
      expect(report.status, report.summary).toBe('warn');
      expect(existsSync(file)).toBe(false);
    } finally {
      rmSync(join(home, '.psqlrc'));
    }
  });

  it('direct: psql runs with a minimal environment, none of the bot’s (no Slack token, no AWS keys, no PSQLRC)', async () => {
    const planted = { SLACK_BOT_TOKEN: 'xoxb-planted-for-the-test', AWS_SECRET_ACCESS_KEY: 'planted-aws-secret', PSQLRC: join(scratch, 'nope') };
    const saved = Object.fromEntries(Object.keys(planted).map((k) => [k, process.env[k]]));
    Object.assign(process.env, planted);
    const input = new Readable({ read() {} });
    try {
      const pg = postgresFor({ config: w.config({ transport: 'direct' }), services: w.cluster.services.forCluster(undefined) });
      input.push('SELECT 1;\n');
      const running = pg.run(input, { singleTransaction: true });
      const environ = await psqlEnvironment();
      input.push(null);
      await running;
      // Debian's /usr/bin/psql is pg_wrapper, which adds its own PGSYSCONFDIR before it execs
      // the real psql: that one is the wrapper's, not the bot's, and only with its fixed value.
      const names = environ.filter((kv) => kv !== 'PGSYSCONFDIR=/etc/postgresql-common').map((kv) => kv.slice(0, kv.indexOf('=')));
      expect(names.sort()).toEqual(['LC_ALL', 'PATH', 'PGCONNECT_TIMEOUT', 'PGPASSWORD']);
      expect(environ.join('\n')).not.toContain('planted');
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('a psql that does not know \\restrict is refused at the plan, naming its version (restore and drill)', async () => {
    const bin = join(scratch, 'old-psql');
    mkdirSync(bin, { recursive: true });
    // psql 15.13, the last 15.x before \restrict, answers --version like this (Debian build).
    writeFileSync(join(bin, 'psql'), `#!${process.execPath}\nif (process.argv[2] === '--version') console.log('psql (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)');\nelse process.exit(2);\n`);
    chmodSync(join(bin, 'psql'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const engine = engineFor('direct');
      const [plain, signed] = [await putPlain(realDump()), await putSignedNewest(realDump())];
      for (const [who, text] of [[admin, `restore ${plain} --unsigned`], [admin, `restore ${signed}`], [operator, `restore-drill ${signed}`]] as const) {
        const outcome = await engine.invoke(who, text, io());
        // Never offered for approval: shown as a failed plan.
        expect(outcome.kind, text).toBe('report');
        const message = outcome.kind === 'report' ? `${outcome.report.status}: ${outcome.report.summary}` : '';
        expect(message).toMatch(/^fail: /);
        expect(message).toContain('psql (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)');
        expect(message).toMatch(/does not know \\restrict.*15\.14/s);
      }
    } finally {
      process.env.PATH = path;
    }
    expect(await w.fingerprint()).toBe(before);
  });

  it('knows which psql versions have \\restrict', () => {
    const has = [
      'psql (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)',
      'psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)',
      'psql (PostgreSQL) 13.22',
      'psql (PostgreSQL) 14.19 (Ubuntu 14.19-0ubuntu0.22.04.1)',
      'psql (PostgreSQL) 16.10',
      'psql (PostgreSQL) 17.6 (Homebrew)',
      'psql (PostgreSQL) 18.0',
      'psql (PostgreSQL) 18beta1',
    ];
    const lacks = ['psql (PostgreSQL) 15.13 (Debian 15.13-0+deb12u1)', 'psql (PostgreSQL) 16.9', 'psql (PostgreSQL) 17.5', 'psql (PostgreSQL) 13.21', 'psql (PostgreSQL) 12.22', 'psql (PostgreSQL) 17', 'not psql at all', ''];
    for (const v of has) expect(psqlKnowsRestrict(v), v).toBe(true);
    for (const v of lacks) expect(psqlKnowsRestrict(v), v).toBe(false);
    // The psql installed here, which every other test uses.
    expect(psqlKnowsRestrict(execFileSync('psql', ['--version']).toString())).toBe(true);
  });
});

/** The environment of the psql this process started (found in /proc), waiting for it to appear. */
async function psqlEnvironment(): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid || !stat.includes('(psql)')) continue;
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('no psql child appeared');
}
