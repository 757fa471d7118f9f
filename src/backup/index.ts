// What the backup commands share: the bucket and database of the config, and the lock.
// Outside systems: S3 in ./s3.ts, PostgreSQL in ../postgres. Exported for the digests:
// listBackups / newestBackup (age of the newest backup).
import type { CommandContext } from '../core/command.js';
import { postgresFor, type Postgres } from '../postgres/index.js';
import { gzipCodec, type GzipCodec } from './gzip.js';
import { commandLock } from '../core/operation-lock.js';
import { lockOf, type DatabaseOperation } from './lock.js';
import { BackupBucket } from './s3.js';
import { readSigningKey } from './signing.js';

export { listBackups, newestBackup, type BackupEntry } from './catalog.js';

export interface BackupTools {
  bucket: BackupBucket;
  pg: Postgres;
  gzip: GzipCodec;
  /** The key of backup.signingSecret (read from the Secret on each call). */
  signingKey(): Promise<Buffer>;
  /** Runs `work` holding the database's operation lock (refused while another one runs). */
  locked<T>(operation: DatabaseOperation['operation'], work: () => Promise<T>, detail?: string): Promise<T>;
  /** For plans: refuses now, naming the running operation, rather than at approval. */
  assertIdle(): Promise<void>;
}

export function backupTools(ctx: CommandContext): BackupTools {
  const pg = postgresFor(ctx);
  const config = ctx.config.backup;
  const lock = commandLock(ctx, lockOf({ database: pg.settings.database, cluster: ctx.services.clusterName }), `database ${pg.settings.database}`);
  return {
    bucket: new BackupBucket(config),
    pg,
    gzip: gzipCodec(config.gzip),
    signingKey: () => readSigningKey(ctx.config, ctx.services),
    locked: lock.run,
    assertIdle: lock.assertIdle,
  };
}
