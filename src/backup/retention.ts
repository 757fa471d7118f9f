// Retention: which backups `backup prune` deletes. Kept: the newest backup of each of the last
// `daily` calendar days (UTC, today included) and of each of the last `weekly` ISO weeks, and
// always the newest backup of all; the bot's other backups go. Its incomplete dumps (no
// manifest) go too, once older than the longest a backup can run. Objects that are not the
// bot's (the old runbook's dumps, uploads by hand) are left alone: prune can't know what they
// are kept for, and the runbook's dumps may be the only way back to before the bot.
import type { Config } from '../config/schema.js';
import type { BackupEntry } from './catalog.js';

const DAY = 86_400_000;

/** Monday 00:00 UTC of the ISO week holding `t`. */
function weekStart(t: number): number {
  const day = Math.floor(t / DAY);
  const weekday = (new Date(day * DAY).getUTCDay() + 6) % 7; // Monday 0
  return (day - weekday) * DAY;
}

export interface RetentionPlan {
  keep: Array<{ entry: BackupEntry; why: string }>;
  remove: BackupEntry[];
}

export interface PrunePlan extends RetentionPlan {
  /** The bot's dumps whose manifest never came, past the grace period: deleted unless their manifest appears by then. */
  incomplete: BackupEntry[];
  /** Incomplete dumps younger than the grace period: maybe still being written. */
  finishing: BackupEntry[];
  /** Not the bot's: never deleted. */
  notOurs: BackupEntry[];
}

/**
 * How long a dump without its manifest may still be a backup in progress: its name is the
 * second it started, and pg_dump gives up after backup.timeoutMinutes; an hour more covers the
 * upload's tail and the manifest.
 */
export const incompleteGraceMs = (config: Pick<Config['backup'], 'timeoutMinutes'>) => (config.timeoutMinutes + 60) * 60_000;

/** What `backup prune` does with each entry (`entries` newest first, every one's state read). */
export function planPrune(entries: readonly BackupEntry[], config: Pick<Config['backup'], 'retention' | 'timeoutMinutes'>, now: number): PrunePlan {
  const ours = entries.filter((e) => e.state === 'complete' || e.state === 'unsigned');
  const dumps = entries.filter((e) => e.state === 'incomplete');
  const old = (e: BackupEntry) => now - e.takenAt.getTime() > incompleteGraceMs(config);
  return {
    ...planRetention(ours, config.retention, now),
    incomplete: dumps.filter(old),
    finishing: dumps.filter((e) => !old(e)),
    notOurs: entries.filter((e) => e.state === 'foreign' || e.state === undefined),
  };
}

/** `entries` newest first (as listBackups returns them). */
export function planRetention(entries: readonly BackupEntry[], policy: { daily: number; weekly: number }, now: number): RetentionPlan {
  const today = Math.floor(now / DAY);
  const thisWeek = weekStart(now);
  const why = new Map<string, string[]>();
  const note = (e: BackupEntry, reason: string) => why.set(e.key, [...(why.get(e.key) ?? []), reason]);
  const seenDays = new Set<number>();
  const seenWeeks = new Set<number>();
  entries.forEach((e, i) => {
    const t = e.takenAt.getTime();
    if (i === 0) note(e, 'newest');
    const day = Math.floor(t / DAY);
    if (today - day < policy.daily && day <= today && !seenDays.has(day)) {
      seenDays.add(day);
      note(e, `daily ${new Date(day * DAY).toISOString().slice(0, 10)}`);
    }
    const week = weekStart(t);
    if (Math.round((thisWeek - week) / (7 * DAY)) < policy.weekly && week <= thisWeek && !seenWeeks.has(week)) {
      seenWeeks.add(week);
      note(e, `weekly from ${new Date(week).toISOString().slice(0, 10)}`);
    }
  });
  return {
    keep: entries.filter((e) => why.has(e.key)).map((entry) => ({ entry, why: (why.get(entry.key) ?? []).join(', ') })),
    remove: entries.filter((e) => !why.has(e.key)),
  };
}
