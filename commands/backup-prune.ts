import { z } from 'zod';
import { listBackups } from '../src/backup/index.js';
import { planRetention } from '../src/backup/retention.js';
import { BackupBucket } from '../src/backup/s3.js';
import { formatBytes } from '../src/backup/progress.js';
import { defineCommand } from '../src/core/command.js';
import { NothingToDoError } from '../src/core/errors.js';

/** Exactly the keys the approver saw; nothing else is deleted. */
interface PrunePin {
  keys: string[];
}

export default defineCommand({
  name: 'backup prune',
  summary: 'Delete the backups the retention policy no longer keeps (shows exactly which first)',
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
    const entries = await listBackups(config, { signal: ctx.signal }, bucket);
    const { keep, remove } = planRetention(entries, config.retention, Date.now());
    if (!remove.length) throw new NothingToDoError(`Nothing to prune: all ${entries.length} backups are kept (${config.retention.daily} daily, ${config.retention.weekly} weekly).`);
    const pin: PrunePin = { keys: remove.map((e) => e.key) };
    return {
      title: 'backup prune',
      status: 'warn',
      summary: `Deletes ${remove.length} of ${entries.length} backups (${formatBytes(remove.reduce((n, e) => n + e.size, 0))}) from ${bucket.url(bucket.prefix)}; keeps ${keep.length} (${config.retention.daily} daily, ${config.retention.weekly} weekly, and the newest).`,
      sections: [
        { title: 'Deleted', lines: remove.map((e) => `\`${e.name}\` ${formatBytes(e.size)}`) },
        { title: 'Kept', header: ['backup', 'why'], rows: keep.map((k) => [k.entry.name, k.why]) },
      ],
      pin,
    };
  },
  run: async (ctx) => {
    const bucket = new BackupBucket(ctx.config.backup);
    const keys = (ctx.pin as PrunePin | undefined)?.keys ?? [];
    const deleted: string[] = [];
    for (const key of keys) {
      if (ctx.signal.aborted) break;
      await bucket.delete(key);
      deleted.push(key);
      await ctx.progress(`Deleted ${deleted.length}/${keys.length}: ${key}`);
    }
    const left = keys.length - deleted.length;
    return {
      title: 'backup prune',
      status: left ? 'warn' : 'ok',
      summary: left ? `Deleted ${deleted.length} of ${keys.length} backups; stopped before the other ${left}.` : `Deleted the ${deleted.length} backups the plan listed.`,
      sections: [{ lines: deleted.map((k) => `\`${k}\``) }],
    };
  },
});
