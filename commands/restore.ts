import { z } from 'zod';
import { backupTools } from '../src/backup/index.js';
import { takeBackup } from '../src/backup/backup.js';
import { keyFromArgument } from '../src/backup/catalog.js';
import { formatBytes, formatDuration } from '../src/backup/progress.js';
import { liveCounts, loadBackup, requireSigned, restoreInto, verifyObject, type LoadedBackup } from '../src/backup/restore.js';
import { defineCommand } from '../src/core/command.js';
import { ConfirmationError } from '../src/core/errors.js';

/** What the approver saw: the run refuses if the object changed since. */
interface RestorePin {
  key: string;
  etag?: string;
  sha256?: string;
}

export default defineCommand({
  name: 'restore',
  summary: 'Restore the platform database from a backup (two people): safety backup first, checksum and row counts verified, all or nothing',
  usage: 'restore <backup> [--unsigned] [--cluster NAME]',
  args: z.object({ backup: z.string().min(1).max(300), unsigned: z.boolean().default(false) }),
  positional: ['backup'],
  role: 'admin',
  risk: 'destructive',
  examples: ['restore backup-20261125-020000Z.sql.gz', 'restore backup-20240105.sql --unsigned'],
  plan: async (ctx, { backup, unsigned }) => {
    const { bucket, pg, assertIdle, signingKey } = backupTools(ctx);
    const key = keyFromArgument(bucket.prefix, backup);
    const loaded = await loadBackup(bucket, key, { signal: ctx.signal, signingKey: await signingKey() });
    if (!unsigned) requireSigned(loaded, unsignedHint(loaded));
    await assertIdle();
    await pg.requireRestrictingPsql();
    const { entry } = loaded;
    const recorded = entry.meta?.counts ?? {};
    const tables = Object.keys(recorded).length ? Object.keys(recorded) : ctx.config.backup.countTables;
    const live = await liveCounts(pg, tables);
    const warnings = [
      ...(loaded.signature.ok ? [] : [`⚠️ --unsigned: ${entry.name} is not signed by this bot (${loaded.signature.why}). Whoever could write the bucket could have written it.`]),
      ...(entry.verified
      ? []
      : [
          `⚠️ ${entry.name} is unverified (${entry.form === 'plain' ? "the old runbook's plain SQL, no checksum or row counts" : 'its metadata is missing or does not match its size'}): it can't be checked before it is applied.`,
          ...(entry.form === 'plain' ? [`A dump without DROP statements (the old runbook's) is applied to a clean slate: every schema of ${pg.settings.database} is dropped first, in the same transaction.`] : []),
        ]),
    ];
    const pin: RestorePin = { key, etag: loaded.etag, sha256: entry.meta?.sha256 };
    return {
      title: `restore ${pg.settings.database} from ${entry.name}`,
      status: warnings.length ? 'warn' : 'info',
      summary: `Replaces database ${pg.settings.database} on ${pg.where} with ${bucket.url(key)}. First a safety backup of the live database is taken; then the restore runs in one transaction and is rolled back unless the row counts match.`,
      sections: [
        {
          fields: [
            { label: 'Backup taken', value: `${entry.takenAt.toISOString().slice(0, 19).replace('T', ' ')} UTC` },
            { label: 'Size', value: `${formatBytes(entry.size)}${entry.meta?.sqlBytes === undefined ? '' : ` (${formatBytes(entry.meta.sqlBytes)} SQL)`}` },
            { label: 'Verified', value: entry.verified ? `yes (sha256 \`${entry.meta?.sha256.slice(0, 16)}…\`)` : 'no' },
            { label: 'Signed', value: loaded.signature.ok ? 'yes, by this bot' : 'no (--unsigned)' },
          ],
        },
        { title: 'Row counts', header: ['table', 'in the backup', 'live now'], rows: tables.map((t) => [t, recorded[t] === undefined ? '?' : String(recorded[t]), String(live[t])]) },
        ...(warnings.length ? [{ lines: warnings }] : []),
      ],
      pin,
    };
  },
  run: async (ctx, { backup, unsigned }) => {
    const { bucket, pg, gzip, locked, signingKey } = backupTools(ctx);
    const key = keyFromArgument(bucket.prefix, backup);
    const pin = ctx.pin as RestorePin | undefined;
    return locked('restore', async () => {
      const signing = await signingKey();
      const loaded = await loadBackup(bucket, key, { signal: ctx.signal, signingKey: signing });
      if (!unsigned) requireSigned(loaded, unsignedHint(loaded));
      if (pin && (pin.key !== key || pin.etag !== loaded.etag)) {
        throw new ConfirmationError(`${loaded.entry.name} changed in S3 after the plan was approved; nothing was done. Run restore again to see it.`);
      }
      const { entry } = loaded;
      await ctx.progress(`Verifying the checksum of ${entry.name} before touching ${pg.settings.database}…`);
      await verifyObject(bucket, loaded, { signal: ctx.signal, progress: ctx.progress });
      await ctx.progress('Taking a safety backup of the live database first…');
      const safety = await takeBackup({ pg, bucket, tables: ctx.config.backup.countTables, progress: ctx.progress, signal: ctx.signal, reason: 'safety', gzip, signingKey: signing });
      await ctx.progress(`Safety backup ${bucket.url(safety.key)} done. Restoring ${entry.name}…`);
      const done = await restoreInto({ pg, bucket, loaded, database: pg.settings.database, signal: ctx.signal, progress: ctx.progress, gzip });
      const recorded = entry.meta?.counts ?? {};
      const now = await liveCounts(pg, Object.keys(recorded));
      const differ = Object.keys(recorded).filter((t) => now[t] !== recorded[t]);
      return {
        title: `restore ${pg.settings.database} from ${entry.name}`,
        status: differ.length || !entry.verified ? 'warn' : 'ok',
        summary: differ.length
          ? `Restored, but the row counts of ${differ.join(', ')} differ from the backup's — was the database written to since? Safety backup: ${safety.key}.`
          : `Restored ${pg.settings.database} from ${entry.name} in ${formatDuration(done.durationMs)}${entry.verified ? '; checksum and row counts verified' : ' (unverified backup: no checksum or counts to check)'}. Safety backup of the previous state: ${safety.key}.`,
        sections: [{ header: ['table', 'recorded', 'after the restore'], rows: Object.keys(recorded).map((t) => [t, String(recorded[t]), String(now[t])]) }],
      };
    }, `restoring ${baseName(key)}`);
  },
});

const unsignedHint = (loaded: LoadedBackup) =>
  `If you trust where it came from, \`restore ${loaded.entry.name} --unsigned\` restores it anyway (approved by a second person).`;

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
