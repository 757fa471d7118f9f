// Retention: which backups `backup prune` deletes. Kept: the newest backup of each of the last
// `daily` calendar days (UTC, today included) and of each of the last `weekly` ISO weeks, and
// always the newest backup of all. Everything else under the prefix goes, old runbook dumps too.
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
