// Where a bot backup's time goes (dump+upload, head, manifest put, cleanup): wraps BackupBucket's calls
// with timers. Args as bench/backup-bot.ts. Diagnostic; not run by `npm run bench`.
import { BackupBucket } from '../src/backup/s3.js';

const times: Record<string, number> = {};
for (const name of ['upload', 'head', 'put', 'delete'] as const) {
  const original = BackupBucket.prototype[name] as (...a: unknown[]) => Promise<unknown>;
  (BackupBucket.prototype as unknown as Record<string, unknown>)[name] = async function (this: BackupBucket, ...args: unknown[]) {
    const t = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      times[name] = (times[name] ?? 0) + performance.now() - t;
    }
  };
}
process.on('exit', () => process.stderr.write(`phases ms: ${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v)])))}\n`));
await import('./backup-bot.js');
