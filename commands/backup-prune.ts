import { z } from 'zod';
import { listBackups } from '../src/backup/index.js';
import { manifestKey } from '../src/backup/catalog.js';
import { planPrune } from '../src/backup/retention.js';
import { BackupBucket } from '../src/backup/s3.js';
import { formatBytes, formatDuration } from '../src/backup/progress.js';
import { defineCommand } from '../src/core/command.js';
import { NothingToDoError } from '../src/core/errors.js';

/** Exactly the keys the approver saw; nothing else is deleted. */
interface PrunePin {
  /** Backups the retention policy no longer keeps: each with its manifest. */
  keys: string[];
  /** Dumps whose manifest never came: deleted only if it still hasn't at the run. */
  incomplete?: string[];
}

export default defineCommand({
  name: 'backup prune',
  summary: 'Delete the backups the retention policy no longer keeps, and incomplete dumps (shows exactly which first)',
  usage: 'backup prune [--cluster NAME]',
  args: z.object({}),
  role: 'operator',
  // Deleting backups can't be undone and removes the way back from a bad restore or an
  // intrusion: a second person approves it, as they do a restore.
  risk: 'destructive',
  examples: ['backup prune'],
  plan: async (ctx) => {
    const config = ctx.config.backup;
    const bucket = new BackupBucket(config);
    // Every entry's state, however many: what is deleted must be known to be the bot's.
    const entries = await listBackups(config, { signal: ctx.signal, detail: 0 }, bucket);
    const { keep, remove, incomplete, finishing, notOurs } = planPrune(entries, config, Date.now());
    const policy = `${config.retention.daily} daily, ${config.retention.weekly} weekly`;
    if (!remove.length && !incomplete.length) throw new NothingToDoError(`Nothing to prune: all ${keep.length} backups are kept (${policy}).`);
    const pin: PrunePin = { keys: remove.map((e) => e.key), incomplete: incomplete.map((e) => e.key) };
    const listed = (e: { name: string; size: number }) => `\`${e.name}\` ${formatBytes(e.size)}`;
    return {
      title: 'backup prune',
      status: 'warn',
      summary:
        `Deletes ${remove.length} of ${remove.length + keep.length} backups (${formatBytes(remove.reduce((n, e) => n + e.size, 0))}) from ${bucket.url(bucket.prefix)}; keeps ${keep.length} (${policy}, and the newest).` +
        (incomplete.length ? ` Also deletes ${incomplete.length} incomplete dump${incomplete.length === 1 ? '' : 's'} (no manifest), unless the manifest appears by the run.` : ''),
      sections: [
        ...(remove.length ? [{ title: 'Deleted', lines: remove.map(listed) }] : []),
        ...(incomplete.length ? [{ title: 'Deleted: incomplete (no manifest)', lines: incomplete.map(listed) }] : []),
        { title: 'Kept', header: ['backup', 'why'], rows: keep.map((k) => [k.entry.name, k.why]) },
        ...(finishing.length ? [{ title: `Left: incomplete but younger than ${formatDuration(60_000 * (config.timeoutMinutes + 60))} (maybe still being written)`, lines: finishing.map(listed) }] : []),
        ...(notOurs.length ? [{ title: 'Left alone: not written by this bot', lines: notOurs.map(listed) }] : []),
      ],
      pin,
    };
  },
  run: async (ctx) => {
    const bucket = new BackupBucket(ctx.config.backup);
    const pin = ctx.pin as PrunePin | undefined;
    const keys = pin?.keys ?? [];
    const incomplete = pin?.incomplete ?? [];
    const total = keys.length + incomplete.length;
    const deleted: string[] = [];
    const completed: string[] = [];
    const progress = (key: string) => ctx.progress(`Deleted ${deleted.length}/${total}: ${key}`);
    for (const key of keys) {
      if (ctx.signal.aborted) break;
      // The manifest first: should the dump's delete fail, what is left is an incomplete dump, which the next prune removes.
      await bucket.delete(manifestKey(key));
      await bucket.delete(key);
      deleted.push(key);
      await progress(key);
    }
    for (const key of incomplete) {
      if (ctx.signal.aborted) break;
      // Checked again now: a backup that completed since the plan is a backup.
      if (await bucket.exists(manifestKey(key))) {
        completed.push(key);
        continue;
      }
      await bucket.delete(key);
      deleted.push(key);
      await progress(key);
    }
    const left = total - deleted.length - completed.length;
    return {
      title: 'backup prune',
      status: left ? 'warn' : 'ok',
      summary:
        (left ? `Deleted ${deleted.length} of ${total}; stopped before the other ${left}.` : `Deleted the ${deleted.length} the plan listed${completed.length ? ' but for those that completed since' : ''}.`) +
        (completed.length ? ` Kept ${completed.length} that got ${completed.length === 1 ? 'its' : 'their'} manifest since the plan: ${completed.map((k) => `\`${k}\``).join(', ')}.` : ''),
      sections: [{ lines: deleted.map((k) => `\`${k}\``) }],
    };
  },
});
