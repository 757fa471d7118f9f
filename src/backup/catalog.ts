// What is in the bucket: backup keys, their metadata, and the list `backups` and the digests
// show. Two forms live under the prefix:
//   backup-YYYYMMDD-HHMMSSZ.sql.gz  the bot's: gzipped, with sha256, sizes and row counts in metadata;
//   backup-YYYYMMDD.sql             the old runbook's `aws s3 cp`: plain SQL, no metadata (unverified).
import type { Config } from '../config/schema.js';
import { UsageError } from '../core/errors.js';
import { BackupBucket, type ObjectHead } from './s3.js';

const NEW_FORM = /^backup-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})Z\.sql\.gz$/;
const OLD_FORM = /^backup-(\d{4})(\d{2})(\d{2})\.sql$/;

/** Object metadata (x-amz-meta-*) the bot writes; S3 lower-cases the names. */
export interface BackupMetadata {
  sha256: string;
  /** Bytes of the object (gzip). */
  bytes: number;
  /** Bytes of the SQL before compression. */
  sqlBytes: number;
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
    'sql-bytes': String(m.sqlBytes),
    counts: JSON.stringify(m.counts),
    database: m.database,
    transport: m.transport,
    'started-at': m.startedAt,
    'finished-at': m.finishedAt,
    reason: m.reason,
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
    sqlBytes: Number(meta['sql-bytes'] ?? 0),
    counts,
    database: meta.database ?? '',
    transport: meta.transport ?? '',
    startedAt: meta['started-at'] ?? '',
    finishedAt: meta['finished-at'] ?? '',
    reason: meta.reason ?? 'manual',
  };
}

export interface BackupEntry {
  key: string;
  /** The file name after the prefix. */
  name: string;
  form: 'gzip' | 'plain';
  /** When it was taken: from the name (old form: midnight UTC of its day). */
  takenAt: Date;
  size: number;
  /** Set for the bot's backups whose metadata is complete and matches the stored size. */
  meta?: BackupMetadata;
  verified: boolean;
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

export function entryFromHead(prefix: string, head: ObjectHead): BackupEntry | undefined {
  const name = head.key.slice(prefix.length);
  const parsed = parseBackupName(name);
  if (!parsed) return undefined;
  const meta = parsed.form === 'gzip' ? decodeMetadata(head.metadata) : undefined;
  return { key: head.key, name, form: parsed.form, takenAt: parsed.takenAt, size: head.size, meta, verified: !!meta && meta.bytes === head.size };
}

export interface ListOptions {
  signal?: AbortSignal;
  /** How many of the newest to read metadata for (one HEAD each); older ones are listed by name and size. */
  detail?: number;
}

/** Every backup under the prefix, newest first. Exported for the digests (age of the newest backup). */
export async function listBackups(config: Config['backup'], opts: ListOptions = {}, bucket = new BackupBucket(config)): Promise<BackupEntry[]> {
  const found: Array<{ key: string; name: string; size: number; takenAt: Date; form: 'gzip' | 'plain' }> = [];
  for await (const o of bucket.list(bucket.prefix, opts.signal)) {
    const name = o.key.slice(bucket.prefix.length);
    const parsed = parseBackupName(name);
    if (parsed) found.push({ key: o.key, name, size: o.size, ...parsed });
  }
  found.sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || b.name.localeCompare(a.name));
  const detail = opts.detail ?? 50;
  const out: BackupEntry[] = [];
  for (const [i, f] of found.entries()) {
    if (i < detail && f.form === 'gzip') {
      const entry = entryFromHead(bucket.prefix, await bucket.head(f.key, opts.signal));
      if (entry) out.push(entry);
    } else out.push({ ...f, verified: false });
  }
  return out;
}

/** The newest backup (verified or not), or undefined when there is none. */
export async function newestBackup(config: Config['backup'], opts: { signal?: AbortSignal } = {}, bucket?: BackupBucket): Promise<BackupEntry | undefined> {
  return (await listBackups(config, { ...opts, detail: 1 }, bucket))[0];
}
