import { z } from 'zod';
import { listBackups } from '../src/backup/index.js';
import { BackupBucket } from '../src/backup/s3.js';
import { formatBytes, formatDuration } from '../src/backup/progress.js';
import { defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'backups',
  summary: 'List the database backups in S3, newest first: age, size, verified; warns when the newest is too old',
  usage: 'backups [--cluster NAME]',
  args: z.object({}),
  role: 'viewer',
  risk: 'read',
  examples: ['backups'],
  run: async (ctx) => {
    const config = ctx.config.backup;
    const bucket = new BackupBucket(config);
    const entries = await listBackups(config, { signal: ctx.signal }, bucket);
    const now = Date.now();
    const newest = entries[0];
    const ageMs = newest ? now - newest.takenAt.getTime() : undefined;
    const stale = ageMs === undefined || ageMs > config.maxAgeHours * 3_600_000;
    const where = bucket.url(bucket.prefix);
    return {
      title: 'backups',
      status: stale ? 'warn' : 'ok',
      summary: !newest
        ? `⚠️ No backups in ${where}. Run \`backup\`.`
        : `${entries.length} backup${entries.length === 1 ? '' : 's'} in ${where}; the newest is ${formatDuration(ageMs ?? 0)} old${stale ? ` ⚠️ older than ${config.maxAgeHours} h: run \`backup\`` : ''}.`,
      sections: entries.length
        ? [
            {
              header: ['backup', 'age', 'size', 'verified', 'rows'],
              rows: entries.map((e) => [
                e.name,
                formatDuration(now - e.takenAt.getTime()),
                formatBytes(e.size),
                e.verified ? '✅' : e.form === 'plain' ? '— (old runbook dump)' : '❌',
                e.meta ? Object.entries(e.meta.counts).map(([t, n]) => `${t} ${n}`).join(', ') : '',
              ]),
            },
          ]
        : [],
    };
  },
});
