// The ONE place the bot talks to the platform's PostgreSQL. Two transports, chosen by
// config.backup.transport:
//   - `exec`:   psql / pg_dump run inside the postgres pod over Kubernetes exec (the runbook's
//               `kubectl exec postgres-0 -- pg_dump ...`); the pod's local socket is trusted;
//   - `direct`: the bot runs psql / pg_dump itself (execa, argv only) against the postgres
//               Service (or config.backup.host/port), with the password read from the Kubernetes
//               Secret and handed over in PGPASSWORD, never in argv.
//
// API (everything streams; nothing buffers a dump):
//   const pg = postgresFor(ctx);                 // ctx: a CommandContext (config, services, signal)
//   await pg.query('SELECT 1')                   // → rows as string[][] (psql -At, ON_ERROR_STOP)
//   await pg.count('users')                      // → number
//   await pg.dump(writable, { database })        // pg_dump --clean --if-exists → writable (not ended)
//   await pg.run(readable, { database, singleTransaction: true })  // SQL (never a meta-command) into psql
//   await pg.requireRestrictingPsql()            // refuses a psql without \restrict (CVE-2025-8714)
// Failures are PostgresError (user-facing; stderr's tail, redacted). A cancelled signal kills
// the child (direct) or drops the exec stream (exec).
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable, pipeline } from 'node:stream';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { Config } from '../config/schema.js';
import { UnreachableError, UserFacingError, UsageError } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import type { Services } from '../core/services.js';

export class PostgresError extends UserFacingError {
  override name = 'PostgresError';
}

export interface PostgresSettings {
  transport: 'exec' | 'direct';
  namespace: string;
  pod: string;
  container: string;
  database: string;
  user: string;
  host: string;
  port: number;
  secret: { name: string; key: string };
  timeoutMs: number;
}

export function postgresSettings(config: Config): PostgresSettings {
  const b = config.backup;
  const namespace = config.namespaces.platform;
  return {
    transport: b.transport,
    namespace,
    pod: b.pod,
    container: b.container,
    database: b.database,
    user: b.user,
    host: b.host ?? `postgres.${namespace}.svc`,
    port: b.port,
    secret: b.secret,
    timeoutMs: b.timeoutMinutes * 60_000,
  };
}

export interface RunOptions {
  database?: string;
  signal?: AbortSignal;
}

export interface DumpOptions extends RunOptions {
  /** pg_dump --snapshot: an id from exportSnapshot. */
  snapshot?: string;
}

/**
 * Another process's stdin, for pg_dump to write into over a kernel pipe (direct transport): the
 * dump's bytes never pass through the bot. `handedOver` closes the bot's own copy once pg_dump
 * holds it, so the reader sees EOF when pg_dump exits.
 */
export interface PipeEnd {
  fd: number;
  handedOver(): void;
}

export interface ExportedSnapshot {
  id: string;
  counts: Record<string, number>;
  /** Ends the session (its transaction); the snapshot goes with it. */
  release(): Promise<void>;
}

/** What pg_export_snapshot() returns: `00000003-000001F8-1`. */
const SNAPSHOT_ID = /^[0-9A-F]{8}-[0-9A-F]{8}-[0-9]{1,10}$/;

export interface Postgres {
  readonly settings: PostgresSettings;
  /** Where commands run, for messages: "pod vlinders-platform/postgres-0 (kube exec)". */
  readonly where: string;
  /** One SQL text through psql -At; rows split on the unit separator. */
  query(sql: string, opts?: RunOptions): Promise<string[][]>;
  /** SELECT count(*) of one table (name validated by the config schema). */
  count(table: string, opts?: RunOptions): Promise<number>;
  /** pg_dump (plain SQL, --clean --if-exists) into `out`; `out` is not ended. */
  dump(out: Writable | PipeEnd, opts?: DumpOptions): Promise<void>;
  /**
   * Direct transport: a session holding an exported snapshot, with `tables` counted in it; a
   * pg_dump given that snapshot dumps exactly the rows counted. Release it once pg_dump ended.
   */
  exportSnapshot(tables: readonly string[], opts?: RunOptions): Promise<ExportedSnapshot>;
  /**
   * psql reading SQL from `input`, stopping at the first error; optionally one transaction.
   * The input is preceded by `\restrict <random key>`: psql refuses every meta-command in it
   * (`\!`, `\connect`, `\copy`, `\o`, `\set`...), which stops it with an error.
   */
  run(input: Readable, opts?: RunOptions & { singleTransaction?: boolean }): Promise<void>;
  /** Refuses (PostgresError, naming the version found) a psql that doesn't know `\restrict`. */
  requireRestrictingPsql(opts?: RunOptions): Promise<void>;
}

/**
 * The first release of each branch whose psql knows `\restrict` (CVE-2025-8714; August 2025).
 * Branches before 13 were out of support and never got it; 18 had it from its first release.
 */
const RESTRICT_SINCE: Record<number, number> = { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 };

/** Whether `psql --version` output (`psql (PostgreSQL) 15.14 (Debian …)`) names a psql that knows `\restrict`. */
export function psqlKnowsRestrict(version: string): boolean {
  const m = /^psql \(PostgreSQL\) (\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!m) return false;
  const major = Number(m[1]);
  if (major >= 18) return true;
  const since = RESTRICT_SINCE[major];
  return since !== undefined && m[2] !== undefined && Number(m[2]) >= since;
}

const SEP = '\x1f';
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The rows of one table (name validated and quoted). */
const countSql = (table: string) => `SELECT count(*) FROM ${quoteTable(table)}`;

/** A table name as SQL: `users` → "public"."users"; validated, quoted. */
export function quoteTable(table: string): string {
  const parts = table.includes('.') ? table.split('.') : ['public', table];
  if (parts.length !== 2 || !parts.every((p) => IDENT.test(p))) throw new UsageError(`"${table}" is not a table name`);
  return parts.map((p) => `"${p}"`).join('.');
}

export function assertDatabaseName(name: string): string {
  if (!IDENT.test(name)) throw new UsageError(`"${name}" is not a PostgreSQL database name`);
  return name;
}

/** Keeps the last few KiB written (stderr), so an error can quote it without buffering a flood. */
class Tail {
  private text = '';
  write(chunk: Buffer | string) {
    this.text = (this.text + chunk.toString()).slice(-4096);
  }
  toString() {
    return redactText(this.text.trim()).split('\n').slice(-6).join('\n');
  }
}

/** Runs argv with optional stdin/stdout streams; resolves to the exit code and stderr's tail. */
type Runner = (argv: string[], io: { stdin?: Readable; stdout?: Writable | PipeEnd; signal?: AbortSignal }) => Promise<{ code: number; stderr: string }>;

const isPipeEnd = (out: Writable | PipeEnd | undefined): out is PipeEnd => typeof (out as PipeEnd | undefined)?.fd === 'number';

export function postgresFor(ctx: { config: Config; services: Services; signal?: AbortSignal }): Postgres {
  const settings = postgresSettings(ctx.config);
  const runner = settings.transport === 'exec' ? execRunner(ctx.services, settings) : directRunner(ctx.services, settings);
  const where = settings.transport === 'exec' ? `pod ${settings.namespace}/${settings.pod} (kube exec)` : `${settings.host}:${settings.port} (direct)`;
  const base = (database: string | undefined) => ['-U', settings.user, '-d', assertDatabaseName(database ?? settings.database), '-w'];
  const signalOf = (opts?: RunOptions) => opts?.signal ?? ctx.signal;

  const check = (what: string, result: { code: number; stderr: string }) => {
    if (result.code !== 0) throw new PostgresError(`${what} failed on ${where} (exit ${result.code})${result.stderr ? `: ${result.stderr}` : ''}`);
  };

  const pg: Postgres = {
    settings,
    where,
    async query(sql, opts) {
      const out = new Collect();
      const result = await runner(['psql', '-X', '-A', '-t', '-q', '-F', SEP, '-v', 'ON_ERROR_STOP=1', ...base(opts?.database), '-c', sql], { stdout: out, signal: signalOf(opts) });
      check('psql', result);
      return out.text().split('\n').filter((line) => line !== '').map((line) => line.split(SEP));
    },
    async count(table, opts) {
      const rows = await pg.query(countSql(table), opts);
      const n = Number(rows[0]?.[0]);
      if (!Number.isInteger(n)) throw new PostgresError(`psql on ${where} returned no count for ${table}`);
      return n;
    },
    async dump(out, opts) {
      if (opts?.snapshot !== undefined && !SNAPSHOT_ID.test(opts.snapshot)) throw new UsageError(`"${opts.snapshot}" is not a snapshot id`);
      const argv = ['pg_dump', ...base(opts?.database), '--clean', '--if-exists', ...(opts?.snapshot ? [`--snapshot=${opts.snapshot}`] : [])];
      check('pg_dump', await runner(argv, { stdout: out, signal: signalOf(opts) }));
    },
    async exportSnapshot(tables, opts) {
      if (settings.transport !== 'direct') throw new UsageError('exportSnapshot needs backup.transport: direct');
      return snapshotSession(ctx.services, settings, base(opts?.database), tables, signalOf(opts));
    },
    async run(input, opts) {
      // --no-psqlrc: a ~/.psqlrc would run before the restriction below.
      const argv = ['psql', '--no-psqlrc', '-q', '-v', 'ON_ERROR_STOP=1', ...(opts?.singleTransaction ? ['--single-transaction'] : []), ...base(opts?.database), '-f', '-'];
      check('psql', await runner(argv, { stdin: restricted(input), stdout: new Discard(), signal: signalOf(opts) }));
    },
    async requireRestrictingPsql(opts) {
      const out = new Collect();
      const result = await runner(['psql', '--version'], { stdout: out, signal: signalOf(opts) });
      check('psql --version', result);
      const version = out.text().trim();
      if (!psqlKnowsRestrict(version)) {
        const since = Object.entries(RESTRICT_SINCE).map(([major, minor]) => `${major}.${minor}`).join(', ');
        throw new PostgresError(
          `The psql on ${where} is "${redactText(version.slice(0, 120)) || 'unknown'}", which does not know \\restrict: it would run the shell and connection commands a backup object can carry (CVE-2025-8714). Restores need psql ${since} or 18 and later; nothing was done.`,
        );
      }
    },
  };
  return pg;
}

/**
 * `input` after a `\restrict` line with a key nobody else knows: from there psql refuses every
 * meta-command (only `\unrestrict <that key>` would lift it, and the key never leaves here).
 */
function restricted(input: Readable): Readable {
  const key = randomBytes(32).toString('hex');
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  out.write(`\\restrict ${key}\n`);
  // An input error reaches its own listeners, and the runner (which stops psql) through this
  // copy; once psql is gone nobody may listen here, and the copy must not crash the bot.
  pipeline(input, out, () => undefined);
  out.on('error', () => undefined);
  return out;
}

function execRunner(services: Services, s: PostgresSettings): Runner {
  return async (argv, io) => {
    if (isPipeEnd(io.stdout)) throw new UsageError('a kernel pipe needs backup.transport: direct');
    const stderr = new Tail();
    const code = await services.kube().exec(s.namespace, s.pod, s.container, argv, {
      stdin: io.stdin,
      stdout: io.stdout ?? new Discard(),
      stderr: writer((c) => stderr.write(c)),
      timeoutMs: s.timeoutMs,
      signal: io.signal,
    });
    return { code, stderr: stderr.toString() };
  };
}

/** The password from the Kubernetes Secret; read per run so a rotated password is picked up. */
async function secretPassword(services: Services, s: PostgresSettings): Promise<string> {
  const kube = services.kube();
  const secret = await kube.call({ verb: 'get', resource: 'secrets', namespace: s.namespace, name: s.secret.name }, () =>
    kube.core.readNamespacedSecret({ namespace: s.namespace, name: s.secret.name }),
  );
  const value = secret.data?.[s.secret.key];
  if (!value) throw new UnreachableError(`Secret ${s.namespace}/${s.secret.name} has no key "${s.secret.key}" (config backup.secret.key).`);
  return Buffer.from(value, 'base64').toString('utf8');
}

/** psql or pg_dump against the server (argv only), with nothing of the bot's own environment. */
function spawnClient(s: PostgresSettings, password: string, file: string, args: string[], io: { stdin: 'pipe' | 'ignore'; stdout: 'pipe' | number; signal?: AbortSignal }) {
  return execa(file, [...args, '-h', s.host, '-p', String(s.port)], {
    // Only what psql/pg_dump need: never the bot's own environment (Slack and AWS secrets).
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C.UTF-8', PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' },
    extendEnv: false,
    stdin: io.stdin,
    // A descriptor number goes to spawn as is (execa's types list only 1 to 9).
    stdout: io.stdout as 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cancelSignal: io.signal,
    forceKillAfterDelay: 2000,
    timeout: s.timeoutMs,
  });
}

/** Why a client never ran to an exit code (stopped, timed out, not installed), as a PostgresError. */
function clientFailure(file: string, s: PostgresSettings, result: Awaited<ReturnType<typeof spawnClient>>): PostgresError | undefined {
  if (!result.failed || result.exitCode !== undefined) return undefined;
  if (result.isCanceled) return new PostgresError(`${file} on ${s.host}:${s.port} was stopped.`);
  if (result.timedOut) return new PostgresError(`${file} on ${s.host}:${s.port} timed out after ${Math.round(s.timeoutMs / 60_000)} min.`);
  const missing = (result as { code?: string }).code === 'ENOENT';
  return new PostgresError(missing ? `${file} is not installed where the bot runs (needed by backup.transport: direct).` : `${file} on ${s.host}:${s.port} failed: ${redactText(result.shortMessage ?? '')}`);
}

function directRunner(services: Services, s: PostgresSettings): Runner {
  return async ([file, ...args], io) => {
    const password = await secretPassword(services, s);
    const stderr = new Tail();
    const pipeEnd = isPipeEnd(io.stdout) ? io.stdout : undefined;
    const child = spawnClient(s, password, file as string, args, { stdin: io.stdin ? 'pipe' : 'ignore', stdout: pipeEnd ? pipeEnd.fd : 'pipe', signal: io.signal });
    // The child holds its own copy now (or failed to start): ours must go either way.
    pipeEnd?.handedOver();
    child.stderr?.on('data', (c: Buffer) => stderr.write(c));
    if (io.stdin && child.stdin) {
      child.stdin.on('error', () => undefined); // psql exiting early: its exit code says why
      io.stdin.on('error', () => child.kill());
      io.stdin.pipe(child.stdin);
    }
    const out = pipeEnd ? undefined : (io.stdout as Writable | undefined);
    const drained = new Promise<void>((resolve, reject) => {
      if (!child.stdout) return resolve();
      child.stdout.on('error', reject);
      child.stdout.on('end', resolve);
      if (out) child.stdout.pipe(out, { end: false });
      else child.stdout.resume();
    });
    const result = await child;
    await drained.catch(() => undefined);
    const failure = clientFailure(file as string, s, result);
    if (failure) throw failure;
    return { code: result.exitCode ?? 1, stderr: stderr.toString() };
  };
}

/**
 * psql holding a REPEATABLE READ transaction open: it exports its snapshot and counts `tables`
 * in it, one statement and one answer line at a time (psql -At flushes each result).
 */
async function snapshotSession(services: Services, s: PostgresSettings, base: string[], tables: readonly string[], signal?: AbortSignal): Promise<ExportedSnapshot> {
  const password = await secretPassword(services, s);
  const stderr = new Tail();
  const child = spawnClient(s, password, 'psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', ...base, '-f', '-'], { stdin: 'pipe', stdout: 'pipe', signal });
  child.stderr?.on('data', (c: Buffer) => stderr.write(c));
  child.stdin?.on('error', () => undefined); // psql gone: its exit says why
  const answers = createInterface({ input: child.stdout as Readable })[Symbol.asyncIterator]();
  const ask = async (sql: string, what: string): Promise<string> => {
    child.stdin?.write(`${sql}\n`);
    const line = await answers.next();
    if (!line.done) return String(line.value).trim();
    const result = await child;
    throw clientFailure('psql', s, result) ?? new PostgresError(`psql failed on ${s.host}:${s.port} ${what} (exit ${result.exitCode})${stderr.toString() ? `: ${stderr.toString()}` : ''}`);
  };
  try {
    child.stdin?.write('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\n');
    const id = await ask('SELECT pg_export_snapshot();', 'exporting a snapshot');
    if (!SNAPSHOT_ID.test(id)) throw new PostgresError(`psql on ${s.host}:${s.port} exported no snapshot id ("${redactText(id.slice(0, 40))}").`);
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const n = Number(await ask(`${countSql(table)};`, `counting ${table}`));
      if (!Number.isInteger(n)) throw new PostgresError(`psql on ${s.host}:${s.port} returned no count for ${table}`);
      counts[table] = n;
    }
    return {
      id,
      counts,
      release: async () => {
        child.stdin?.end('COMMIT;\n');
        await child;
      },
    };
  } catch (err) {
    child.kill();
    await child;
    throw err;
  }
}

const writer = (fn: (chunk: Buffer) => void) =>
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      fn(chunk);
      cb();
    },
  });

/** A small stdout (psql -At answers) kept whole; capped so a runaway query can't eat memory. */
class Collect extends Writable {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private limit = 4 * 1024 * 1024) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error) => void) {
    this.size += chunk.length;
    if (this.size > this.limit) return cb(new PostgresError(`psql answered more than ${this.limit >> 20} MiB; query() is for small answers`));
    this.chunks.push(chunk);
    cb();
  }
  text() {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

class Discard extends Writable {
  override _write(_chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    cb();
  }
}
