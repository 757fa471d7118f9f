import { z } from 'zod';
import { backupTools } from '../src/backup/index.js';
import { takeBackup } from '../src/backup/backup.js';
import { formatBytes, formatDuration, formatRate } from '../src/backup/progress.js';
import { defineCommand } from '../src/core/command.js';

export default defineCommand({
  name: 'backup',
  summary: 'Back up the platform database to S3: pg_dump streamed, gzipped, checksummed and verified',
  usage: 'backup [--cluster NAME]',
  args: z.object({}),
  role: 'operator',
  risk: 'change',
  schedulable: true,
  examples: ['backup'],
  plan: async (ctx) => {
    const { bucket, pg, assertIdle } = backupTools(ctx);
    await assertIdle();
    const b = ctx.config.backup;
    return {
      title: `backup ${pg.settings.database}`,
      status: 'info',
      summary: `pg_dump of database ${pg.settings.database} on ${pg.where}, streamed gzipped to ${bucket.url(`${bucket.prefix}backup-YYYYMMDD-HHMMSSZ.sql.gz`)}.`,
      sections: [
        {
          fields: [
            { label: 'Transport', value: b.transport },
            { label: 'Row counts of', value: b.countTables.join(', ') },
            { label: 'Verified by', value: 'dump trailer and size (HeadObject); sha256 and row counts in the signed manifest, uploaded last' },
          ],
        },
      ],
    };
  },
  run: async (ctx) => {
    const { bucket, pg, gzip, locked, signingKey } = backupTools(ctx);
    const started = Date.now();
    // A backup that ran counts in /metrics, failed or not: a failure is what an alert should see.
    const done = await locked('backup', () =>
      signingKey().then((key) => takeBackup({ pg, bucket, tables: ctx.config.backup.countTables, progress: ctx.progress, signal: ctx.signal, reason: 'manual', gzip, signingKey: key })).catch((err: unknown) => {
        ctx.metrics?.recordBackup({ ok: false, bytes: 0, durationMs: Date.now() - started });
        throw err;
      }),
    );
    ctx.metrics?.recordBackup({ ok: true, bytes: done.meta.bytes, durationMs: done.durationMs, finishedAt: Date.parse(done.meta.finishedAt) });
    const m = done.meta;
    return {
      title: `backup ${m.database}`,
      status: 'ok',
      summary: `Backed up ${m.database} to ${bucket.url(done.key)} and verified it.`,
      sections: [
        {
          fields: [
            { label: 'Size', value: `${formatBytes(m.bytes)} gzip${m.sqlBytes === undefined ? '' : ` (${formatBytes(m.sqlBytes)} SQL)`}` },
            { label: 'Took', value: `${formatDuration(done.durationMs)} (${formatRate(m.sqlBytes ?? m.bytes, done.durationMs)}${m.sqlBytes === undefined ? ' gzip' : ''})` },
            { label: 'sha256', value: `\`${m.sha256}\`` },
            { label: 'Transport', value: m.transport },
          ],
        },
        { title: 'Rows recorded', header: ['table', 'rows'], rows: Object.entries(m.counts).map(([t, n]) => [t, String(n)]) },
      ],
    };
  },
});
