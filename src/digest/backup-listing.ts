// The digests' view of the backups in S3: src/backup's own listing (newest first, metadata
// read for the newest only), as the BackupListing the reports are written against.
import { listBackups } from '../backup/index.js';
import { restorable } from '../backup/catalog.js';
import type { Config } from '../config/schema.js';
import type { BackupListing } from './sources.js';

export function s3BackupListing(config: Config['backup']): BackupListing {
  return {
    async list({ limit, signal }) {
      const entries = await listBackups(config, { signal, detail: limit });
      // An incomplete dump (no manifest) is no backup: it never counts as the newest.
      return entries.filter(restorable).slice(0, limit).map((e) => ({ name: e.name, at: e.takenAt, sizeBytes: e.size, verified: e.verified }));
    },
  };
}
