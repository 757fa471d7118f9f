import { z } from 'zod';
import { listBackups } from '../src/backup/index.js';
import { restorable, type BackupEntry } from '../src/backup/catalog.js';
import { BackupBucket } from '../src/backup/s3.js';
import { formatBytes, formatDuration } from '../src/backup/progress.js';
import { checkManifest, readSigningKey } from '../src/backup/signing.js';
import { defineCommand } from '../src/core/command.js';
import { errorMessage } from '../src/core/errors.js';

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
    // ✅ means signed by this bot, as restore requires; without the key the column says so.
    let signingKey: Buffer | undefined;
    let keyProblem: string | undefined;
    try {
      signingKey = await readSigningKey(ctx.config, ctx.services);
    } catch (err) {
      keyProblem = errorMessage(err);
    }
    const entries = await listBackups(config, { signal: ctx.signal, ...(signingKey ? { checkManifest: (name, text) => checkManifest(signingKey, name, text) } : {}) }, bucket);
    const now = Date.now();
    // An incomplete dump is no backup: the age warning is about the newest one that can be restored.
    const newest = entries.find(restorable);
    const ageMs = newest ? now - newest.takenAt.getTime() : undefined;
    const stale = ageMs === undefined || ageMs > config.maxAgeHours * 3_600_000;
    const where = bucket.url(bucket.prefix);
    const incomplete = entries.filter((e) => !restorable(e)).length;
    return {
      title: 'backups',
      status: stale ? 'warn' : 'ok',
      summary: !newest
        ? `⚠️ No backups in ${where}${incomplete ? ` (${incomplete} incomplete: no manifest)` : ''}. Run \`backup\`.`
        : `${count(entries.filter(restorable).length)} in ${where}${incomplete ? ` (and ${incomplete} incomplete: no manifest)` : ''}; the newest is ${formatDuration(ageMs ?? 0)} old${stale ? ` ⚠️ older than ${config.maxAgeHours} h: run \`backup\`` : ''}.`,
      sections: entries.length
        ? [
            {
              header: ['backup', 'age', 'size', 'verified', 'rows'],
              rows: entries.map((e) => [
                e.name,
                formatDuration(now - e.takenAt.getTime()),
                formatBytes(e.size),
                verifiedColumn(e, signingKey !== undefined),
                e.meta ? Object.entries(e.meta.counts).map(([t, n]) => `${t} ${n}`).join(', ') : '',
              ]),
            },
            ...(keyProblem ? [{ lines: [`Signatures not checked: ${keyProblem.replace(/\.$/, '')}.`] }] : []),
          ]
        : [],
    };
  },
});

const count = (n: number) => `${n} backup${n === 1 ? '' : 's'}`;

/** ✅ only for a backup whose manifest is signed by this bot and agrees with the object; the others say what they are. */
function verifiedColumn(e: BackupEntry, signatureChecked: boolean): string {
  if (e.verified) return signatureChecked ? '✅' : '☑️ (manifest agrees; signature not checked)';
  switch (e.state) {
    case 'incomplete':
      return '❌ incomplete (no manifest: failed or still finishing; `backup prune` removes it)';
    case 'unsigned':
      return '— (unsigned: from before manifests)';
    case 'foreign':
      return e.form === 'plain' ? '— (old runbook dump)' : '— (no manifest: not written by this bot)';
    case 'complete':
      return e.manifestProblem ? `❌ (${e.manifestProblem})` : e.meta ? "❌ (its manifest's size is not the object's)" : '(manifest not read)';
    default:
      return '?';
  }
}
