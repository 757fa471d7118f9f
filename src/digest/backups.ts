// Backup status for the digests: the newest backup and its age, from the backup listing
// (S3). Older than backup.maxAgeHours (26 h by default: the runbook backs up nightly) warns,
// older than twice that fails.
import { errorMessage } from '../core/errors.js';
import type { ReportSection, ReportStatus } from '../core/report.js';
import { formatBytes } from './format.js';
import type { BackupEntry, BackupListing } from './sources.js';

const HOUR = 3_600_000;

export function backupAgeStatus(newest: BackupEntry | undefined, now: number, maxAgeHours = 26): ReportStatus {
  if (!newest) return 'fail';
  const age = now - newest.at.getTime();
  return age > 2 * maxAgeHours * HOUR ? 'fail' : age > maxAgeHours * HOUR ? 'warn' : 'ok';
}

const age = (ms: number) => (ms >= 48 * HOUR ? `${Math.floor(ms / (24 * HOUR))} days` : `${Math.floor(ms / HOUR)} h`);

/** The newest backup's age (daily) or the last `count` backups (weekly). */
export async function backupSection(listing: BackupListing | undefined, opts: { signal?: AbortSignal; now: number; count?: number; maxAgeHours?: number }): Promise<{ section: ReportSection; status: ReportStatus; newest?: BackupEntry }> {
  const title = 'Backups';
  if (!listing) return { section: { title, lines: ['backups not configured'] }, status: 'info' };
  let entries: BackupEntry[];
  try {
    entries = await listing.list({ limit: opts.count ?? 1, signal: opts.signal });
  } catch (err) {
    return { section: { title, lines: [`⚠️ could not list backups: ${errorMessage(err)}`] }, status: 'warn' };
  }
  const newest = entries[0];
  const status = backupAgeStatus(newest, opts.now, opts.maxAgeHours);
  if (!newest) return { section: { title, lines: ['❌ no backup found'] }, status };
  const mark = status === 'fail' ? '❌' : status === 'warn' ? '⚠️' : '✅';
  const unverified = (e: BackupEntry) => (e.verified === false ? ' (unverified: no checksum metadata)' : '');
  const lines = [`${mark} newest: ${newest.name}, ${age(opts.now - newest.at.getTime())} old${newest.sizeBytes === undefined ? '' : `, ${formatBytes(newest.sizeBytes)}`}${unverified(newest)}`];
  if ((opts.count ?? 1) > 1) return { section: { title, lines, header: ['backup', 'taken', 'size'], rows: entries.map((e) => [`${e.name}${unverified(e)}`, e.at.toISOString().replace(/\.\d+Z$/, 'Z'), e.sizeBytes === undefined ? '?' : formatBytes(e.sizeBytes)]) }, status, newest };
  return { section: { title, lines }, status, newest };
}
