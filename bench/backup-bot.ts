// The bot's side of the backup benchmark, in its own process so its peak RSS is the bot's:
// takeBackup, or verify + restoreInto, exactly as the commands run them.
// Args: backup|restore exec|direct world-json kubeconfig [key] [database]. Prints one JSON line.
// The config is the default one but for where S3 and PostgreSQL are; BENCH_BACKUP_GZIP picks the gzip.
import { KubeConfig } from '@kubernetes/client-node';
import { cpuSeconds } from './cpu.js';
import { readSigningKey } from '../src/backup/signing.js';
import { takeBackup } from '../src/backup/backup.js';
import { gzipCodec } from '../src/backup/gzip.js';
import { loadBackup, restoreInto, verifyObject } from '../src/backup/restore.js';
import { BackupBucket } from '../src/backup/s3.js';
import { parseConfigText } from '../src/config/load.js';
import { KubeClient } from '../src/kube/client.js';
import { fixedClusters } from '../src/kube/directory.js';
import { postgresFor } from '../src/postgres/index.js';

const [op, transport, worldJson, kubeconfig, key, database] = process.argv.slice(2) as [string, 'exec' | 'direct', string, string, string?, string?];
const world = JSON.parse(worldJson) as { pg: { host: string; port: number }; s3: { endpoint: string; bucket: string } };
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';

const baseRss = process.memoryUsage.rss(); // client-node and the AWS SDK loaded, nothing done
let peak = 0;
const sample = () => (peak = Math.max(peak, process.memoryUsage.rss())); // .rss(): memoryUsage() walks the heap
setInterval(sample, 20).unref();

const config = parseConfigText(`backup: { gzip: ${process.env.BENCH_BACKUP_GZIP ?? 'auto'}, transport: ${transport}, endpoint: '${world.s3.endpoint}', forcePathStyle: true, bucket: ${world.s3.bucket}, host: ${world.pg.host}, port: ${world.pg.port} }`, 'bench');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const services = fixedClusters([new KubeClient('bench', kc, 60_000)]).forCluster(undefined);
const signal = new AbortController().signal;
const pg = postgresFor({ config, services, signal });
const gzip = gzipCodec(config.backup.gzip);
const bucket = new BackupBucket(config.backup);
const progress = async () => void sample();

const started = performance.now();
let result: Record<string, unknown>;
if (op === 'backup') {
  const done = await takeBackup({ pg, bucket, tables: ['users'], progress, signal, reason: 'manual', gzip, progressIntervalMs: 100, signingKey: await readSigningKey(config, services) });
  result = { key: done.key, gzBytes: done.meta.bytes, sqlBytes: done.meta.sqlBytes };
} else {
  // As `restore` runs it: the manifest's signature checked (so the stream goes through the sha
  // gate), the sha pass, then the streaming restore, timed apart.
  const loaded = await loadBackup(bucket, key as string, { signingKey: await readSigningKey(config, services) });
  if (!loaded.signature.ok) throw new Error(`the bench's backup is not signed: ${loaded.signature.why}`);
  await verifyObject(bucket, loaded, { signal, progress });
  const verifiedMs = performance.now() - started;
  const done = await restoreInto({ pg, bucket, loaded, database: database as string, signal, progress, gzip, progressIntervalMs: 100 });
  result = { verifyMs: Math.round(verifiedMs), restoreMs: Math.round(performance.now() - started - verifiedMs), sqlBytes: done.sqlBytes };
}
sample();
process.stdout.write(`${JSON.stringify({ ...result, wallMs: Math.round(performance.now() - started), cpuS: Number((process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6).toFixed(1)), childCpuS: cpuSeconds('self').children, peakRssMB: Math.round(peak / 2 ** 20), baseRssMB: Math.round(baseRss / 2 ** 20) })}\n`);
process.exit(0);
