// Backup and restore of a ~SIZE MB database, the bot's way (both transports) side by side with
// the runbook's: `pg_dump > file` then upload the file, and `psql < file`. Wall time and the
// bot's peak RSS, each in its own process; the peers (PostgreSQL, s3rver, kube emulator) in
// another. `npx tsx bench/backup.ts [MB,MB...]` or BENCH_BACKUP_MB=100,1024 (default 100,1024);
// The bot's process runs with the chart's NODE_OPTIONS (bench/bot-process.ts), as in the image.
// BENCH_PROF=<dir> writes the bot process's CPU profiles there; BENCH_BOT_FLAGS adds node flags to it.
// "floor" is what this machine can do at best with the same tools and S3: pg_dump | igzip -1 |
// upload, nothing scanned, hashed or verified.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { chartNodeFlags } from './bot-process.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const SIZES = (process.argv[2] ?? process.env.BENCH_BACKUP_MB ?? '100,1024').split(',').map(Number);

interface WorldInfo {
  pg: { host: string; port: number; user: string; password: string; database: string };
  s3: { endpoint: string; bucket: string };
  dbBytes: number;
  seedMs: number;
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve(line));
    child.once('exit', (code) => reject(new Error(`exited ${code} before answering`)));
  });
}

/** Runs argv (no shell); `stdoutFile`: stdout goes there, as `> file` would. Resolves to its wall time. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, stdoutFile?: string): Promise<number> {
  const started = performance.now();
  const out = stdoutFile ? openSync(stdoutFile, 'w') : 'ignore';
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, 'inherit'] });
    child.on('exit', (code) => {
      if (typeof out === 'number') closeSync(out);
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`${cmd} exited ${code}`));
    });
  });
}

// The bot's process runs compiled JavaScript, as the image does (tsx alone adds ~90 MB RSS).
const compiled = promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.bench.json'], { cwd: join(here, '..') });

async function bot(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ wallMs: number; cpuS: number; peakRssMB: number; baseRssMB: number; key?: string; gzBytes?: number; sqlBytes?: number; verifyMs?: number }> {
  await compiled;
  const flags = [...chartNodeFlags(), ...(process.env.BENCH_BOT_FLAGS?.split(/\s+/).filter(Boolean) ?? [])];
  const child = spawn(process.execPath, [...flags, ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []), join(here, '../dist-bench/bench', process.env.BENCH_BACKUP_PHASES ? 'backup-phases.js' : 'backup-bot.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return JSON.parse(await firstLine(child)) as Awaited<ReturnType<typeof bot>>;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function benchSize(sizeMB: number) {
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-bench-backup-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const worldProc = spawn(process.execPath, ['--import', 'tsx', join(here, 'backup-world.ts'), String(sizeMB), kubeconfig], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const world = JSON.parse(await firstLine(worldProc)) as WorldInfo;
    const { pg } = world;
    const env = { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password };
    const file = join(dir, 'backup.sql');
    const psql = (sql: string) => run('psql', ['-X', '-q', '-d', pg.database, '-c', sql], env);

    // The runbook: pg_dump > file, then upload the file (aws s3 cp).
    const dumpMs = await run('pg_dump', [pg.database], env, file);
    const uploadStarted = performance.now();
    const s3 = new S3Client({ region: 'eu-west-1', endpoint: world.s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    await new Upload({ client: s3, params: { Bucket: world.s3.bucket, Key: 'runbook/backup.sql', Body: createReadStream(file) }, partSize: 8 * 2 ** 20 }).done();
    const uploadMs = performance.now() - uploadStarted;
    const fileBytes = statSync(file).size;

    // The floor: the same tools and S3, no bot.
    const floorStarted = performance.now();
    const dump = spawn('pg_dump', [pg.database], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const igzip = spawn('igzip', ['-1', '-c'], { stdio: [dump.stdout, 'pipe', 'inherit'] });
    await new Upload({ client: s3, params: { Bucket: world.s3.bucket, Key: 'runbook/floor.sql.gz', Body: igzip.stdout }, partSize: 8 * 2 ** 20 }).done();
    const floorMs = performance.now() - floorStarted;

    const worldArg = JSON.stringify(world);
    const exec = await bot(['backup', 'exec', worldArg, kubeconfig]);
    const direct = await bot(['backup', 'direct', worldArg, kubeconfig]);
    const directZlib = await bot(['backup', 'direct', worldArg, kubeconfig], { BENCH_BACKUP_GZIP: 'zlib' });

    // Restores into a scratch database each time.
    await psql('CREATE DATABASE bench_restore');
    const psqlMs = await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-d', 'bench_restore', '-f', file], env);
    const restores: Array<[string, Awaited<ReturnType<typeof bot>>]> = [];
    for (const transport of ['exec', 'direct']) {
      await psql('DROP DATABASE bench_restore WITH (FORCE)');
      await psql('CREATE DATABASE bench_restore');
      restores.push([transport, await bot(['restore', transport, worldArg, kubeconfig, direct.key as string, 'bench_restore'])]);
    }

    console.log(`\nbackup bench: database ${mb(world.dbBytes)} on disk, dump ${mb(fileBytes)} SQL → ${mb(direct.gzBytes ?? 0)} gzip (seeded in ${sec(world.seedMs)})`);
    console.log(`  runbook  pg_dump > file            ${sec(dumpMs).padStart(8)}`);
    console.log(`  runbook  pg_dump > file + upload   ${sec(dumpMs + uploadMs).padStart(8)}`);
    console.log(`  floor    pg_dump | igzip | upload  ${sec(floorMs).padStart(8)}  = ${(floorMs / dumpMs).toFixed(2)}× pg_dump > file`);
    for (const [name, r] of [['exec', exec], ['direct', direct], ['direct, zlib', directZlib]] as const) {
      console.log(`  bot      backup (${name.padEnd(12)})    ${sec(r.wallMs).padStart(8)}  = ${(r.wallMs / dumpMs).toFixed(2)}× pg_dump > file   bot CPU ${r.cpuS} s   peak RSS ${r.peakRssMB} MB (${r.baseRssMB} MB before it started)`);
    }
    console.log(`  runbook  psql < file (1 transaction) ${sec(psqlMs).padStart(6)}`);
    for (const [name, r] of restores) {
      console.log(`  bot      restore (${name.padEnd(6)})         ${sec(r.wallMs).padStart(8)}  = ${(r.wallMs / psqlMs).toFixed(2)}× psql < file (sha pass ${sec(r.verifyMs ?? 0)} + restore ${sec(r.wallMs - (r.verifyMs ?? 0))})   bot CPU ${r.cpuS} s   peak RSS ${r.peakRssMB} MB (${r.baseRssMB} MB before)`);
    }
    return { sizeMB, exec, direct, directZlib, restores };
  } finally {
    worldProc.stdin?.end();
    await new Promise((r) => worldProc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function backupBench(): Promise<void> {
  for (const size of SIZES) await benchSize(size);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await backupBench();
