// One backup: pg_dump → row counter/trailer check → gzip → sha256/bytes → S3 multipart upload,
// all streamed (memory bounded by the upload's parts in flight, nothing on disk).
//
// The dump streams straight to its final key (no staging copy: that took seconds per GB and
// stops at 5 GB). S3 shows the object only when CompleteMultipartUpload is sent, and the body
// ends only after pg_dump exited 0 and the trailer was seen; any failure before that aborts
// the multipart upload (lib-storage sends AbortMultipartUpload when its body errors). What
// makes the backup complete is its signed manifest (./signing.ts), uploaded last, as WAL-G's
// stop sentinel: a dump without it is incomplete, never restorable, and pruned. A failure
// after the upload deletes the dump.
import { pipeline } from 'node:stream';
import { UserFacingError, asError, errorMessage } from '../core/errors.js';
import type { Postgres } from '../postgres/index.js';
import { backupName, WRITTEN_BY, type BackupMetadata } from './catalog.js';
import { formatBytes, ProgressTicker } from './progress.js';
import type { BackupBucket } from './s3.js';
import { gzipCodec, type GzipCodec } from './gzip.js';
import { manifestKey, signedManifest } from './signing.js';
import { Digest, DumpScanner, EndGate, IncompleteDumpError } from './streams.js';

export class BackupFailedError extends UserFacingError {
  override name = 'BackupFailedError';
}

export interface BackupDeps {
  pg: Postgres;
  bucket: BackupBucket;
  tables: readonly string[];
  progress: (text: string) => Promise<void>;
  signal: AbortSignal;
  reason: 'manual' | 'safety';
  /** The key of backup.signingSecret, which signs the manifest. */
  signingKey: Buffer;
  /** Default: config.backup.gzip's default, `auto`. */
  gzip?: GzipCodec;
  now?: () => number;
  progressIntervalMs?: number;
}

export interface BackupResult {
  key: string;
  meta: BackupMetadata;
  durationMs: number;
}

export async function takeBackup(deps: BackupDeps): Promise<BackupResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const key = await freeKey(deps.bucket, started);
  const ticker = new ProgressTicker(deps.progress, `Backing up ${deps.pg.settings.database} to ${deps.bucket.url(key)}`, deps.progressIntervalMs, now);

  const gzip = deps.gzip ?? gzipCodec();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  deps.signal.addEventListener('abort', onAbort, { once: true });
  let streamed: Streamed;
  try {
    const piped = deps.pg.settings.transport === 'direct' ? gzip.compressPiped : undefined;
    streamed = await (piped ? pipedDump(deps, piped, key, ticker, stop, started) : scannedDump(deps, gzip, key, ticker, stop, started));
  } finally {
    deps.signal.removeEventListener('abort', onAbort);
  }
  const { digest, counts, sqlBytes, errors } = streamed;

  if (errors.dumpError || errors.uploadError || deps.signal.aborted) {
    await deps.bucket.delete(key).catch(() => undefined); // a single-part PUT may have landed
    throw new BackupFailedError(failureText(deps, { ...errors, gzip: gzip.name }));
  }

  const size = `${formatBytes(digest.bytes)} gzip`;
  await deps.progress(`${sqlBytes === undefined ? ticker.line(digest.bytes, 'gzip') : ticker.line(sqlBytes, size)}; verifying…`).catch(() => undefined);
  const meta: BackupMetadata = {
    sha256: digest.sha256,
    bytes: digest.bytes,
    ...(sqlBytes === undefined ? {} : { sqlBytes }),
    counts: Object.fromEntries(deps.tables.map((t) => [t, counts[t] ?? 0])),
    database: deps.pg.settings.database,
    transport: deps.pg.settings.transport,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(now()).toISOString(),
    reason: deps.reason,
  };
  const missing = deps.tables.filter((t) => counts[t] === undefined);
  try {
    if (missing.length) throw new BackupFailedError(`the dump has no table ${missing.join(', ')} (config backup.countTables)`);
    const head = await deps.bucket.head(key);
    if (head.size !== meta.bytes) throw new BackupFailedError(`verification failed: S3 holds ${head.size} bytes, the bot sent ${meta.bytes}`);
    await deps.bucket.put(manifestKey(key), signedManifest(deps.signingKey, key.slice(deps.bucket.prefix.length), meta));
  } catch (err) {
    // The manifest may have landed although its answer was lost: both go.
    await Promise.all([deps.bucket.delete(manifestKey(key)), deps.bucket.delete(key)]).catch(() => undefined);
    throw new BackupFailedError(`Backup of ${meta.database} failed after the upload: ${errorMessage(err).replace(/\.$/, '')}. No backup was left behind.`);
  }
  return { key, meta, durationMs: now() - started };
}

interface Streamed {
  digest: Digest;
  counts: Record<string, number>;
  sqlBytes?: number;
  errors: { dumpError?: Error; uploadError?: Error; gzipError?: Error };
}

const uploadMetadata = (deps: BackupDeps, started: number) => ({ metadata: { ...WRITTEN_BY, 'started-at': new Date(started).toISOString(), reason: deps.reason } });

/**
 * pg_dump's bytes through the bot: the row counter and trailer check, then gzip. Over Kubernetes
 * exec the dump reaches the bot anyway, and zlib compresses in it.
 */
async function scannedDump(deps: BackupDeps, gzip: GzipCodec, key: string, ticker: ProgressTicker, stop: AbortController, started: number): Promise<Streamed> {
  const scanner = new DumpScanner(deps.tables);
  const digest = new Digest(() => ticker.tick(scanner.bytes, `${formatBytes(digest.bytes)} gzip`));
  const compressor = gzip.compress();
  const errors: Streamed['errors'] = {};
  // The compressor's own failure is named as such (the upload only sees its body fail).
  compressor.once('error', (err) => void (errors.gzipError ??= err));
  // Errors are taken from pg_dump and the upload, which both see them.
  const body = pipeline(scanner, compressor, digest, () => undefined);
  // Only a complete dump may end the body (ending it lets the upload complete): the scanner
  // errors at its end when the trailer is missing, which fails the upload instead.
  scanner.once('error', (err) => {
    if (err instanceof IncompleteDumpError) errors.dumpError ??= new BackupFailedError(`pg_dump exited 0 but ${err.message}`);
  });
  const dumped = deps.pg.dump(scanner, { signal: stop.signal }).then(
    () => void scanner.end(),
    (err: unknown) => {
      errors.dumpError = asError(err);
      scanner.destroy(errors.dumpError);
    },
  );
  const uploaded = deps.bucket.upload(key, body, uploadMetadata(deps, started)).catch((err: unknown) => {
    errors.uploadError = asError(err);
    stop.abort(); // stops pg_dump
  });
  await Promise.all([dumped, uploaded]);
  return { digest, counts: scanner.counts, sqlBytes: scanner.bytes, errors };
}

/**
 * The direct transport with igzip: pg_dump writes straight into igzip over a kernel pipe, so
 * the bot handles only the gzip (a third of the bytes) and its CPU stays out of the dump's way
 * (bench/backup.ts). The rows are counted in a snapshot pg_dump then dumps (--snapshot), the
 * same rows a scan of the dump would count; pg_dump's exit status, not a trailer the bot can't
 * see, says the dump is whole, and the upload's body ends only after it exited 0.
 */
async function pipedDump(deps: BackupDeps, compressPiped: NonNullable<GzipCodec['compressPiped']>, key: string, ticker: ProgressTicker, stop: AbortController, started: number): Promise<Streamed> {
  const errors: Streamed['errors'] = {};
  let snapshot;
  try {
    snapshot = await deps.pg.exportSnapshot(deps.tables, { signal: stop.signal });
  } catch (err) {
    errors.dumpError = asError(err);
    return { digest: new Digest(), counts: {}, errors };
  }
  const { input, output: compressor } = compressPiped();
  compressor.once('error', (err) => void (errors.gzipError ??= err));
  const dumped = deps.pg.dump(input, { signal: stop.signal, snapshot: snapshot.id }).finally(() => snapshot.release().catch(() => undefined));
  dumped.catch((err: unknown) => void (errors.dumpError = asError(err)));
  const digest = new Digest(() => ticker.tick(digest.bytes, 'gzip'));
  const body = pipeline(compressor, digest, new EndGate(dumped), () => undefined);
  const uploaded = deps.bucket.upload(key, body, uploadMetadata(deps, started)).catch((err: unknown) => {
    errors.uploadError = asError(err);
    stop.abort(); // stops pg_dump
    body.destroy(); // and igzip, whose output nobody reads now
  });
  await Promise.all([dumped.catch(() => undefined), uploaded]);
  return { digest, counts: snapshot.counts, errors };
}

/**
 * The backup's key: named for the second it started, or the next free second. Never an
 * existing object's (a safety backup taken the second after the backup being restored must
 * not replace it). Two backups can't race for a name: the database lock lets one run at a time.
 */
async function freeKey(bucket: BackupBucket, started: number): Promise<string> {
  for (let s = 0; ; s++) {
    const key = `${bucket.prefix}${backupName(new Date(started + s * 1000))}`;
    if (!(await bucket.exists(key))) return key;
  }
}

function failureText(deps: BackupDeps, e: { dumpError?: Error; uploadError?: Error; gzipError?: Error; gzip: string }): string {
  const { dumpError, uploadError, gzipError } = e;
  const db = deps.pg.settings.database;
  // The first failure causes the others (a killed pg_dump ends the stream, a failed upload stops
  // pg_dump): a failure that reads like a consequence doesn't name the cause.
  const consequence = (err?: Error) => !err || err.name === 'KubeTimeoutError' || /stopped|aborted|premature close|EPIPE|destroyed/i.test(err.message);
  const cause = deps.signal.aborted
    ? 'the bot is shutting down (or the operation was cancelled)'
    : gzipError && !consequence(gzipError) && consequence(dumpError)
      ? `gzip (${e.gzip}) failed: ${errorMessage(gzipError)} (config backup.gzip)`
      : uploadError && consequence(dumpError)
        ? `the upload to S3 failed: ${errorMessage(uploadError)}`
        : dumpError instanceof BackupFailedError
          ? errorMessage(dumpError)
          : `pg_dump failed: ${errorMessage(dumpError ?? uploadError)}`;
  return `Backup of ${db} failed: ${cause.replace(/\.$/, '')}. The multipart upload was aborted; no backup object was left behind.`;
}
