// What is in the bucket: backup keys, their metadata, and the list `backups` and the digests
// show. Two forms live under the prefix:
//   backup-YYYYMMDD-HHMMSSZ.sql.gz  the bot's: gzipped; its sha256, sizes and row counts are in
//                                   its manifest, <key>.manifest.json, uploaded last (./signing.ts);
//   backup-YYYYMMDD.sql             the old runbook's `aws s3 cp`: plain SQL, no metadata (unverified).
// The dump streams straight to its final key, so a dump whose manifest never came (the bot died
// between the two, or is still writing it) is there but incomplete: never restorable, and pruned.
import type { Config } from '../config/schema.js';
import { NotFoundError, UsageError } from '../core/errors.js';
import { BackupBucket, type ObjectHead } from './s3.js';

const NEW_FORM = /^backup-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})Z\.sql\.gz$/;
const OLD_FORM = /^backup-(\d{4})(\d{2})(\d{2})\.sql$/;

export const MANIFEST_SUFFIX = '.manifest.json';

export const manifestKey = (backupKey: string) => `${backupKey}${MANIFEST_SUFFIX}`;

/**
 * The object metadata the bot's dumps carry from their first byte (sent with
 * CreateMultipartUpload, when sha and counts are not known yet): what tells the bot's own
 * incomplete dump from an object someone else put there, which prune leaves alone.
 */
export const WRITTEN_BY = { 'written-by': 'vlinders-ops' } as const;

/** A backup's metadata (its manifest's `metadata`, and the object metadata of the bot's backups from before manifests). */
export interface BackupMetadata {
  sha256: string;
  /** Bytes of the object (gzip). */
  bytes: number;
  /**
   * Bytes of the SQL before compression; unknown when pg_dump wrote straight into gzip (the
   * direct transport with igzip), whose bytes the bot never sees.
   */
  sqlBytes?: number;
  counts: Record<string, number>;
  database: string;
  transport: string;
  startedAt: string;
  finishedAt: string;
  /** Why it was taken: `manual`, or `safety` (before a restore). */
  reason: string;
}

export function encodeMetadata(m: BackupMetadata): Record<string, string> {
  return {
    sha256: m.sha256,
    bytes: String(m.bytes),
    ...(m.sqlBytes === undefined ? {} : { 'sql-bytes': String(m.sqlBytes) }),
    counts: JSON.stringify(m.counts),
    database: m.database,
    transport: m.transport,
    'started-at': m.startedAt,
    'finished-at': m.finishedAt,
    reason: m.reason,
    // The dump is whole: its trailer was seen, or (piped straight into gzip) pg_dump exited 0.
    trailer: 'ok',
  };
}

/** The metadata of a bot backup, or undefined when it lacks any of it (then it is unverified). */
export function decodeMetadata(meta: Record<string, string>): BackupMetadata | undefined {
  const bytes = Number(meta.bytes);
  if (!/^[0-9a-f]{64}$/.test(meta.sha256 ?? '') || !Number.isSafeInteger(bytes) || meta.trailer !== 'ok') return undefined;
  let counts: Record<string, number>;
  try {
    counts = JSON.parse(meta.counts ?? '') as Record<string, number>;
    if (typeof counts !== 'object' || counts === null || Object.values(counts).some((n) => !Number.isSafeInteger(n))) return undefined;
  } catch {
    return undefined;
  }
  return {
    sha256: meta.sha256 as string,
    bytes,
    ...(meta['sql-bytes'] === undefined ? {} : { sqlBytes: Number(meta['sql-bytes']) }),
    counts,
    database: meta.database ?? '',
    transport: meta.transport ?? '',
    startedAt: meta['started-at'] ?? '',
    finishedAt: meta['finished-at'] ?? '',
    reason: meta.reason ?? 'manual',
  };
}

/**
 * complete: its manifest is there (the bot's last write). incomplete: the bot's dump (WRITTEN_BY)
 * whose manifest is missing: failed, or still finishing; never restorable. unsigned: the bot's
 * from before manifests (checksum metadata on the object), whole but unsigned. foreign: no
 * manifest and not the bot's: the old runbook's dumps, uploads by hand.
 */
export type BackupState = 'complete' | 'incomplete' | 'unsigned' | 'foreign';

export interface BackupEntry {
  key: string;
  /** The file name after the prefix. */
  name: string;
  form: 'gzip' | 'plain';
  /** When it was taken: from the name (old form: midnight UTC of its day). */
  takenAt: Date;
  size: number;
  /** Undefined when not read (past ListOptions.detail). */
  state?: BackupState;
  /** Its metadata: from its manifest when it has one, else from the object (before manifests). */
  meta?: BackupMetadata;
  /** It has a manifest whose metadata is complete and matches the stored size. */
  verified: boolean;
  /** Why its manifest could not be read (not JSON, another backup's, incomplete metadata). */
  manifestProblem?: string;
}

/** Whether `restore` can take it at all (an incomplete dump never: its manifest never came). */
export const restorable = (e: BackupEntry) => e.state !== 'incomplete';

/** The metadata a manifest's text carries (its signature is checked in ./signing.ts), or why there is none. */
export function parseManifest(name: string, text: string): { ok: true; meta: BackupMetadata; signature: unknown } | { ok: false; why: string } {
  let parsed: { version?: unknown; backup?: unknown; metadata?: unknown; signature?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return { ok: false, why: 'its manifest is not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.version !== 1) return { ok: false, why: 'its manifest is not a version 1 manifest' };
  if (parsed.backup !== name) return { ok: false, why: 'its manifest belongs to another backup' };
  const fields = parsed.metadata;
  const meta = fields && typeof fields === 'object' && Object.values(fields).every((v) => typeof v === 'string') ? decodeMetadata(fields as Record<string, string>) : undefined;
  if (!meta) return { ok: false, why: 'its manifest has no complete metadata' };
  return { ok: true, meta, signature: parsed.signature };
}

export function backupName(at: Date): string {
  const iso = at.toISOString(); // 2026-11-25T21:50:02.123Z
  return `backup-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}Z.sql.gz`;
}

/** When a backup name says it was taken, or undefined when the name is not a backup's. */
export function parseBackupName(name: string): { takenAt: Date; form: 'gzip' | 'plain' } | undefined {
  const n = NEW_FORM.exec(name);
  if (n) {
    const [, y, mo, d, h, mi, s] = n.map(Number) as number[];
    const takenAt = new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
    return Number.isNaN(takenAt.getTime()) ? undefined : { takenAt, form: 'gzip' };
  }
  const o = OLD_FORM.exec(name);
  if (o) {
    const [, y, mo, d] = o.map(Number) as number[];
    const takenAt = new Date(Date.UTC(y as number, (mo as number) - 1, d));
    return Number.isNaN(takenAt.getTime()) ? undefined : { takenAt, form: 'plain' };
  }
  return undefined;
}

/** The key a user named (`backup-….sql.gz`, or with the prefix); refused unless it is a backup's name under the prefix. */
export function keyFromArgument(prefix: string, arg: string): string {
  let name = arg.replace(/^s3:\/\/[^/]+\//, '');
  if (name.startsWith(prefix)) name = name.slice(prefix.length);
  if (!parseBackupName(name)) {
    throw new UsageError(`"${arg.slice(0, 80)}" is not a backup name: expected backup-YYYYMMDD-HHMMSSZ.sql.gz (or the old backup-YYYYMMDD.sql); \`backups\` lists them`);
  }
  return `${prefix}${name}`;
}

/** A backup's entry from its HEAD: its state and metadata as the object alone tells them (no manifest read). */
export function entryFromHead(prefix: string, head: ObjectHead): BackupEntry | undefined {
  const name = head.key.slice(prefix.length);
  const parsed = parseBackupName(name);
  if (!parsed) return undefined;
  const meta = parsed.form === 'gzip' ? decodeMetadata(head.metadata) : undefined;
  return { key: head.key, name, form: parsed.form, takenAt: parsed.takenAt, size: head.size, meta, verified: false, state: stateWithoutManifest(parsed.form, head.metadata) };
}

function stateWithoutManifest(form: 'gzip' | 'plain', metadata: Record<string, string>): BackupState {
  if (form === 'gzip' && metadata['written-by'] === WRITTEN_BY['written-by']) return 'incomplete';
  return form === 'gzip' && decodeMetadata(metadata) ? 'unsigned' : 'foreign';
}

export interface ListOptions {
  signal?: AbortSignal;
  /** How many of the newest manifests to read (one GET each); older backups are listed by name and size. */
  detail?: number;
  /**
   * Checks a manifest's signature (./signing.ts checkManifest with the key). With it, `verified`
   * means "signed by this bot and its size agrees"; without it, only that the manifest agrees.
   */
  checkManifest?: (name: string, text: string) => { ok: true; meta: BackupMetadata } | { ok: false; why: string };
}

/**
 * Every backup under the prefix, newest first. A dump without a manifest beside it in the
 * listing is HEADed for who wrote it (rare: an incomplete dump or someone else's object).
 * Exported for the digests (age of the newest backup).
 */
export async function listBackups(config: Config['backup'], opts: ListOptions = {}, bucket = new BackupBucket(config)): Promise<BackupEntry[]> {
  const found: BackupEntry[] = [];
  const manifests = new Set<string>();
  for await (const o of bucket.list(bucket.prefix, opts.signal)) {
    if (o.key.endsWith(MANIFEST_SUFFIX)) manifests.add(o.key);
    const name = o.key.slice(bucket.prefix.length);
    const parsed = parseBackupName(name);
    if (parsed) found.push({ key: o.key, name, size: o.size, ...parsed, verified: false });
  }
  found.sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || b.name.localeCompare(a.name));
  let details = opts.detail ?? 50;
  const out: BackupEntry[] = [];
  // A HEAD that finds nothing: the object was deleted since the listing (a prune); it is not listed.
  const headOf = (key: string) => bucket.head(key, opts.signal).catch((err: unknown) => (err instanceof NotFoundError ? undefined : Promise.reject(err)));
  for (const entry of found) {
    if (entry.form === 'plain') entry.state = 'foreign';
    else if (manifests.has(manifestKey(entry.key))) {
      entry.state = 'complete';
      // null: not read (past `detail`); undefined: gone since the listing.
      const manifest = details-- > 0 ? await readManifestText(bucket, entry.key, opts.signal) : null;
      const read = typeof manifest === 'string' ? (opts.checkManifest ?? parseManifest)(entry.name, manifest) : undefined;
      if (read?.ok) Object.assign(entry, { meta: read.meta, verified: read.meta.bytes === entry.size });
      else if (read) entry.manifestProblem = read.why;
      if (manifest === undefined) entry.state = undefined; // deleted since the listing: read again below
    }
    if (!entry.state) {
      const head = await headOf(entry.key);
      if (!head) continue;
      Object.assign(entry, entryFromHead(bucket.prefix, head));
    }
    out.push(entry);
  }
  return out;
}

/** The text of a backup's manifest, or undefined when there is none. */
export async function readManifestText(bucket: BackupBucket, backupKey: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    return await bucket.getText(manifestKey(backupKey), { signal });
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** The newest backup that can be restored (not an incomplete dump), or undefined when there is none. */
export async function newestBackup(config: Config['backup'], opts: { signal?: AbortSignal } = {}, bucket?: BackupBucket): Promise<BackupEntry | undefined> {
  return (await listBackups(config, { ...opts, detail: 1 }, bucket)).find(restorable);
}
