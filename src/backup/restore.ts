// Restores: S3 object → sha256 gate → gunzip (plain .sql too) → trailer check → psql
// --single-transaction, with the recorded row counts checked INSIDE that transaction, so a
// wrong count, a corrupted object or a cut stream rolls everything back: psql only commits at
// EOF, and EOF is only given when every check passed.
import { PassThrough, Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { NotFoundError, UserFacingError, errorMessage } from '../core/errors.js';
import { quoteTable, type Postgres } from '../postgres/index.js';
import { BackupFailedError } from './backup.js';
import { entryFromHead, readManifestText, type BackupEntry } from './catalog.js';
import { gzipCodec, type GzipCodec } from './gzip.js';
import { formatBytes, ProgressTicker } from './progress.js';
import type { BackupBucket } from './s3.js';
import { checkManifest, manifestKey, type ManifestCheck } from './signing.js';
import { Digest, DigestGate, DUMP_TRAILER, IncompleteDumpError, TRAILER_AT_END } from './streams.js';

export interface LoadedBackup {
  entry: BackupEntry;
  etag?: string;
  /** Whether this bot signed it (then entry.meta is the signed metadata), or why not. */
  signature: ManifestCheck;
}

/**
 * The backup at `key`, with its metadata; NotFoundError when there is no such object. With
 * `signingKey`, its manifest is checked, and the signed metadata replaces the object's own.
 */
export async function loadBackup(bucket: BackupBucket, key: string, opts: { signal?: AbortSignal; signingKey?: Buffer } = {}): Promise<LoadedBackup> {
  let head;
  try {
    head = await bucket.head(key, opts.signal);
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`There is no backup ${bucket.url(key)}. \`backups\` lists them.`);
    throw err;
  }
  const entry = entryFromHead(bucket.prefix, head);
  if (!entry) throw new NotFoundError(`${bucket.url(key)} is not a backup.`);
  const signature: ManifestCheck = opts.signingKey ? await signatureOf(bucket, entry, opts.signingKey, opts.signal) : { ok: false, why: 'its signature was not checked' };
  if (!signature.ok) return { entry, etag: head.etag, signature };
  return { entry: { ...entry, meta: signature.meta, verified: signature.meta.bytes === entry.size }, etag: head.etag, signature };
}

async function signatureOf(bucket: BackupBucket, entry: BackupEntry, key: Buffer, signal?: AbortSignal): Promise<ManifestCheck> {
  if (entry.form === 'plain') return { ok: false, why: "it is an old runbook dump (plain SQL), which has no manifest" };
  const text = await readManifestText(bucket, entry.key, signal);
  if (text === undefined) {
    const whose = entry.state === 'incomplete' ? 'this dump never got it: the backup did not finish' : 'taken before backups were signed, or not by this bot';
    return { ok: false, why: `it has no manifest ${manifestKey(entry.name)} (${whose})` };
  }
  return checkManifest(key, entry.name, text);
}

/** Refuses a backup this bot did not sign, naming why; `unsigned` is how restore takes one anyway. */
export function requireSigned(loaded: LoadedBackup, how: string): void {
  if (loaded.signature.ok) return;
  throw new UnsignedBackupError(`Refused: ${loaded.entry.name} is not signed by this bot: ${loaded.signature.why}. Nothing was done. ${how}`);
}

export class UnsignedBackupError extends UserFacingError {
  override name = 'UnsignedBackupError';
}

/** First pass: reads the whole object through sha256 (nothing kept) and refuses a mismatch. */
export async function verifyObject(bucket: BackupBucket, loaded: LoadedBackup, opts: { signal: AbortSignal; progress: (t: string) => Promise<void> }): Promise<void> {
  const meta = loaded.entry.meta;
  if (!meta) return;
  const ticker = new ProgressTicker(opts.progress, `Verifying ${loaded.entry.name}`);
  const digest = new Digest(() => ticker.tick(digest.bytes));
  const source = await bucket.get(loaded.entry.key, { etag: loaded.etag, signal: opts.signal });
  await new Promise<void>((resolve, reject) => pipeline(source, digest, (err) => (err ? reject(err) : resolve())).resume());
  if (digest.bytes !== meta.bytes || digest.sha256 !== meta.sha256) {
    throw new BackupFailedError(
      `Refused: ${loaded.entry.name} does not match its recorded checksum (sha256 ${digest.sha256.slice(0, 12)}… over ${digest.bytes} bytes; recorded ${meta.sha256.slice(0, 12)}… over ${meta.bytes} bytes). The object is corrupt; the database was not touched.`,
    );
  }
}

/** SQL that fails (so the transaction rolls back) unless each table has its recorded count. */
export function countChecks(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([table, n]) => {
      const t = quoteTable(table);
      const label = table.replace(/'/g, '');
      return `DO $vlinders_ops$ BEGIN IF (SELECT count(*) FROM ${t}) <> ${n} THEN RAISE EXCEPTION 'vlinders-ops: ${label} has % rows after the restore; the backup recorded ${n}', (SELECT count(*) FROM ${t}); END IF; END $vlinders_ops$;\n`;
    })
    .join('');
}

export interface RestoreDeps {
  pg: Postgres;
  bucket: BackupBucket;
  loaded: LoadedBackup;
  database: string;
  signal: AbortSignal;
  progress: (t: string) => Promise<void>;
  progressIntervalMs?: number;
  /** Default: config.backup.gzip's default, `auto`. */
  gzip?: GzipCodec;
}

/** Streams the backup into `database` in one transaction; resolves once psql committed. */
export async function restoreInto(deps: RestoreDeps): Promise<{ durationMs: number; sqlBytes: number }> {
  const { entry } = deps.loaded;
  const ticker = new ProgressTicker(deps.progress, `Restoring ${entry.name} into ${deps.database}`, deps.progressIntervalMs);
  const source = await deps.bucket.get(entry.key, { etag: deps.loaded.etag, signal: deps.signal });
  const sql = new PsqlInput({ restrictPair: true, cleanSlate: true, requireTrailer: true, after: countChecks(entry.meta?.counts ?? {}) });
  const gate = entry.meta
    ? new DigestGate({ sha256: entry.meta.sha256, bytes: entry.meta.bytes }, `${entry.name} does not match its recorded checksum`, () => ticker.tick(sql.bytes, `${formatBytes(gate.bytes)} read`))
    : new Digest(() => ticker.tick(sql.bytes));
  pipeline(source, gate, entry.form === 'gzip' ? (deps.gzip ?? gzipCodec()).decompress() : new PassThrough(), sql, () => undefined);
  // A failure of the input (S3, checksum, trailer) must stop psql before EOF: that rollback
  // is what leaves the database as it was.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  deps.signal.addEventListener('abort', onAbort, { once: true });
  let inputError: Error | undefined;
  sql.on('error', (err) => {
    inputError = err;
    stop.abort();
  });
  const started = Date.now();
  try {
    await deps.pg.run(sql, { database: deps.database, singleTransaction: true, signal: stop.signal });
  } catch (err) {
    const cause = inputError ?? err;
    throw new BackupFailedError(`Restore of ${entry.name} into ${deps.database} failed and was rolled back: ${errorMessage(cause)}. ${deps.database} is as it was before.`);
  } finally {
    deps.signal.removeEventListener('abort', onAbort);
  }
  if (inputError) throw new BackupFailedError(`Restore of ${entry.name} into ${deps.database}: ${errorMessage(inputError)}`);
  return { durationMs: Date.now() - started, sqlBytes: sql.bytes };
}

/** How pg_dump opens a plain dump; ≥ 15.14 follows it with `\restrict <key>` (RestoreArchive). */
const DUMP_HEADER = '--\n-- PostgreSQL database dump\n--\n\n';
const DUMP_RESTRICT = /^\\restrict ([A-Za-z0-9]{1,256})\n/;
const DUMP_CLOSING = '\n--\n-- PostgreSQL database dump complete\n--\n\n';
const HEAD_BYTES = 1024;
const TAIL_BYTES = 512;
/** How far to look for the first CREATE (the clean slate's decision). */
const CREATE_WITHIN = 1 << 20;

export interface PsqlInputOptions {
  /** Remove pg_dump's own `\restrict`/`\unrestrict` pair (see below). */
  restrictPair?: boolean;
  /** Precede a dump without DROPs with CLEAN_SLATE (see below). */
  cleanSlate?: boolean;
  /** Error at the end unless the dump ends with pg_dump's trailer. */
  requireTrailer?: boolean;
  /** SQL to send after the dump (the row-count checks). */
  after?: string;
}

/**
 * A dump on its way to psql, in one pass (O(1) memory: a head of at most 1 MiB, a tail of 512
 * bytes; everything between passes through untouched):
 *
 * - pg_dump ≥ 15.14 (16.10, 17.6) brackets its dump with `\restrict KEY` after the header and
 *   `\unrestrict KEY` after the trailer. pg.run already runs the whole stream under the bot's
 *   own restriction, under which psql refuses both: exactly that pair (same key, in exactly those
 *   places) is removed, so the bot's restriction stands in its place. Any other `\restrict` or
 *   `\unrestrict` line goes through, and psql refuses it, failing the restore.
 * - The old runbook's dumps (pg_dump without --clean) only CREATE: into a database that has the
 *   tables they fail on the first one. Such a dump is preceded by CLEAN_SLATE, in the same
 *   transaction. A --clean dump (ours) goes as is: its DROPs come before its first CREATE, and
 *   both within pg_dump's first kilobytes.
 * - A dump without pg_dump's trailer is cut short: the stream errors at its end, which stops
 *   psql before the EOF that would commit.
 */
export class PsqlInput extends Transform {
  /** The dump's bytes seen so far. */
  bytes = 0;
  private head: Buffer[] | undefined = [];
  private headBytes = 0;
  private tail: Buffer = Buffer.alloc(0);
  private key: string | undefined;

  constructor(private opts: PsqlInputOptions) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.head) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      if (!this.headComplete()) return cb();
      chunk = this.decideHead();
    }
    // The last TAIL_BYTES are held back until the end, where `\unrestrict` may be.
    if (chunk.length >= TAIL_BYTES) {
      if (this.tail.length) this.push(this.tail);
      this.push(chunk.subarray(0, chunk.length - TAIL_BYTES));
      this.tail = chunk.subarray(chunk.length - TAIL_BYTES);
    } else {
      const both = Buffer.concat([this.tail, chunk]);
      if (both.length > TAIL_BYTES) this.push(both.subarray(0, both.length - TAIL_BYTES));
      this.tail = both.subarray(Math.max(0, both.length - TAIL_BYTES));
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    let tail = this.head ? Buffer.concat([this.tail, this.decideHead()]) : this.tail;
    if (this.opts.requireTrailer && !TRAILER_AT_END.test(tail.toString('latin1'))) {
      cb(new IncompleteDumpError(`the dump does not end with "${DUMP_TRAILER}": it is incomplete`));
      return;
    }
    if (this.key !== undefined) {
      const closing = `\\unrestrict ${this.key}\n\n`;
      if (tail.toString('latin1').endsWith(DUMP_CLOSING + closing)) tail = tail.subarray(0, tail.length - closing.length);
    }
    if (tail.length) this.push(tail);
    if (this.opts.after) this.push(Buffer.from(this.opts.after));
    cb();
  }

  /** Enough of the head to decide both: the restrict line's place, and the first CREATE. */
  private headComplete(): boolean {
    if (this.headBytes < HEAD_BYTES) return false;
    if (!this.opts.cleanSlate || this.headBytes >= CREATE_WITHIN) return true;
    return /^CREATE /m.test(Buffer.concat(this.head ?? [], this.headBytes).toString('latin1'));
  }

  private decideHead(): Buffer {
    let whole = Buffer.concat(this.head ?? [], this.headBytes);
    this.head = undefined;
    if (this.opts.restrictPair && whole.toString('latin1', 0, DUMP_HEADER.length) === DUMP_HEADER) {
      const m = DUMP_RESTRICT.exec(whole.toString('latin1', DUMP_HEADER.length, HEAD_BYTES));
      if (m) {
        this.key = m[1];
        whole = Buffer.concat([whole.subarray(0, DUMP_HEADER.length), whole.subarray(DUMP_HEADER.length + m[0].length)]);
      }
    }
    if (this.opts.cleanSlate) {
      const text = whole.toString('latin1');
      const create = /^CREATE /m.exec(text);
      // A dump shorter than its first CREATE has nothing to clean for.
      if (create && !/^(DROP |ALTER [^\n]* DROP )/m.test(text.slice(0, create.index))) whole = Buffer.concat([Buffer.from(CLEAN_SLATE), whole]);
    }
    return whole;
  }
}

/** The dump without pg_dump's own restrict pair (PsqlInput's first rule alone). */
export function withoutDumpRestriction(dump: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  return through(dump, new PsqlInput({ restrictPair: true }));
}

/** The dump with the clean slate when it needs one (PsqlInput's second rule alone). */
export function withCleanSlate(dump: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  return through(dump, new PsqlInput({ cleanSlate: true }));
}

function through(dump: AsyncIterable<Buffer>, transform: Transform): AsyncIterable<Buffer> {
  return pipeline(Readable.from(dump), transform, () => undefined);
}

/**
 * Drops every schema of the database (the dump recreates what it holds), and gives `public`
 * back its owner and grants: pg_dump leaves the default public schema out of its dumps.
 */
export const CLEAN_SLATE = `
DO $vlinders_clean_slate$
DECLARE
  s record;
  g record;
  public_owner regrole;
  public_acl aclitem[];
BEGIN
  SELECT nspowner::regrole, nspacl INTO public_owner, public_acl FROM pg_namespace WHERE nspname = 'public';
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s.nspname);
  END LOOP;
  CREATE SCHEMA public;
  IF public_owner IS NOT NULL THEN
    EXECUTE format('ALTER SCHEMA public OWNER TO %s', public_owner);
  END IF;
  FOR g IN SELECT grantee, privilege_type FROM aclexplode(public_acl) WHERE grantee <> public_owner::oid LOOP
    EXECUTE format('GRANT %s ON SCHEMA public TO %s', g.privilege_type, CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END);
  END LOOP;
END
$vlinders_clean_slate$;
`;

/** Live counts of tables (a table that can't be counted shows why). */
export async function liveCounts(pg: Postgres, tables: readonly string[], database?: string): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  for (const t of tables) {
    try {
      out[t] = await pg.count(t, { database });
    } catch (err) {
      out[t] = /does not exist/.test(errorMessage(err)) ? 'no such table' : 'unreadable';
    }
  }
  return out;
}
