import { z } from 'zod';
import { backupTools } from '../src/backup/index.js';
import { keyFromArgument, listBackups } from '../src/backup/catalog.js';
import type { BackupBucket } from '../src/backup/s3.js';
import { formatDuration } from '../src/backup/progress.js';
import { liveCounts, loadBackup, requireSigned, restoreInto, verifyObject, type LoadedBackup } from '../src/backup/restore.js';
import { defineCommand } from '../src/core/command.js';
import { NotFoundError, UserFacingError, errorMessage } from '../src/core/errors.js';
import type { Report } from '../src/core/report.js';
import type { Postgres } from '../src/postgres/index.js';

const scratchOf = (database: string) => `${database.slice(0, 57)}_drill`;

async function dropScratch(pg: Postgres, scratch: string): Promise<void> {
  // WITH (FORCE): a connection left by a killed psql must not keep the scratch database alive.
  await pg.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
}

async function exists(pg: Postgres, database: string): Promise<boolean> {
  return (await pg.query(`SELECT 1 FROM pg_database WHERE datname = '${database}'`)).length > 0;
}

export default defineCommand({
  name: 'restore-drill',
  summary: "The monthly DR drill: restore a backup into a scratch database, compare the row counts, drop it; the live database is never touched",
  usage: 'restore-drill [backup] [--cluster NAME]',
  args: z.object({ backup: z.string().min(1).max(300).optional() }),
  positional: ['backup'],
  role: 'operator',
  risk: 'change',
  schedulable: true,
  examples: ['restore-drill', 'restore-drill backup-20261125-020000Z.sql.gz'],
  plan: async (ctx, { backup }) => {
    const { bucket, pg, assertIdle, signingKey } = backupTools(ctx);
    await assertIdle();
    const loaded = backup
      ? await loadBackup(bucket, keyFromArgument(bucket.prefix, backup), { signal: ctx.signal, signingKey: await signingKey() })
      : await newestSigned(ctx.config.backup, bucket, signingKey, ctx.signal);
    if (!loaded) throw new NotFoundError(`There is no backup signed by this bot in ${bucket.url(bucket.prefix)} to drill with. Run \`backup\` first.`);
    // Never an unsigned one, asked for or scheduled: its SQL would run on the database server.
    requireSigned(loaded, 'The drill only takes backups this bot signed.');
    await pg.requireRestrictingPsql();
    const { entry } = loaded;
    const key = entry.key;
    return {
      title: `restore-drill ${entry.name}`,
      status: 'info',
      summary: `Restores ${entry.name} into a scratch database ${scratchOf(pg.settings.database)} on ${pg.where}, compares the row counts with those recorded, then drops it. ${pg.settings.database} itself is not touched.`,
      pin: { key },
    };
  },
  run: async (ctx) => {
    const { bucket, pg, gzip, locked, signingKey } = backupTools(ctx);
    const key = (ctx.pin as { key: string } | undefined)?.key;
    if (!key) throw new NotFoundError('The drill lost its backup; run it again.');
    const scratch = scratchOf(pg.settings.database);
    const started = Date.now();
    return locked('restore-drill', async (): Promise<Report> => {
      const loaded = await loadBackup(bucket, key, { signal: ctx.signal, signingKey: await signingKey() });
      requireSigned(loaded, 'The drill only takes backups this bot signed.');
      const recorded = loaded.entry.meta?.counts ?? {};
      let counts: Record<string, number | string> = {};
      try {
        await dropScratch(pg, scratch); // a leftover of a drill that died with its pod
        await pg.query(`CREATE DATABASE "${scratch}"`);
        // Checksum first, like restore: a corrupt object is named as such, not by gunzip's complaint.
        await verifyObject(bucket, loaded, { signal: ctx.signal, progress: ctx.progress });
        await restoreInto({ pg, bucket, loaded, database: scratch, signal: ctx.signal, progress: ctx.progress, gzip });
        counts = await liveCounts(pg, Object.keys(recorded), scratch);
      } finally {
        await dropScratch(pg, scratch).catch((err: unknown) => ctx.log.error({ err }, 'could not drop the drill database'));
      }
      const left = await exists(pg, scratch);
      const differ = Object.keys(recorded).filter((t) => counts[t] !== recorded[t]);
      const duration = formatDuration(Date.now() - started);
      return {
        title: `restore-drill ${loaded.entry.name}`,
        status: differ.length || left ? 'fail' : loaded.entry.verified ? 'ok' : 'warn',
        summary: differ.length
          ? `Drill FAILED: ${differ.join(', ')} restored with other row counts than recorded (${duration}).`
          : `Drill passed: ${loaded.entry.name} restored into ${scratch} in ${duration}, row counts match, scratch database ${left ? 'NOT dropped' : 'dropped'}.`,
        sections: [{ header: ['table', 'recorded', 'restored'], rows: Object.keys(recorded).map((t) => [t, String(recorded[t]), String(counts[t])]) }],
      };
    }, `drilling ${key.slice(key.lastIndexOf('/') + 1)}`).catch(async (err: unknown) => {
      if (err instanceof Error && err.name === 'BusyError') throw err;
      const left = await exists(pg, scratch).catch(() => true);
      throw new DrillFailedError(
        `Drill failed after ${formatDuration(Date.now() - started)}: ${errorMessage(err).replace(/\.?$/, '.')} ${left ? `⚠️ The scratch database ${scratch} could NOT be dropped: drop it by hand.` : `The scratch database ${scratch} was dropped.`} ${pg.settings.database} was not touched.`,
      );
    });
  },
});

/** The newest verified backup whose manifest this bot signed (a forged newest one is passed over). */
async function newestSigned(config: Parameters<typeof listBackups>[0], bucket: BackupBucket, signingKey: () => Promise<Buffer>, signal: AbortSignal): Promise<LoadedBackup | undefined> {
  let key: Buffer | undefined;
  for (const entry of await listBackups(config, { signal }, bucket)) {
    if (!entry.verified) continue;
    key ??= await signingKey();
    const loaded = await loadBackup(bucket, entry.key, { signal, signingKey: key });
    if (loaded.signature.ok) return loaded;
  }
  return undefined;
}

class DrillFailedError extends UserFacingError {
  override name = 'DrillFailedError';
}
