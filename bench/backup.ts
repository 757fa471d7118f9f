// Backup and restore of a ~SIZE MB database, the bot's way (both transports) side by side with
// the runbook's: `pg_dump > file` then upload the file, and `psql < file`. Wall time and the
// bot's peak RSS, each in its own process; the peers (PostgreSQL, s3rver, kube emulator) in
// another. `npx tsx bench/backup.ts [MB,MB...]` or BENCH_BACKUP_MB=100,1024 (default 100,1024);
// The bot's process runs with the chart's NODE_OPTIONS (bench/bot-process.ts), as in the image.
// BENCH_PROF=<dir> writes the bot process's CPU profiles there; BENCH_BOT_FLAGS adds node flags to it.
// "floor" is what this machine can do at best with the same tools and S3: pg_dump | igzip -1 |
// upload, nothing scanned, hashed or verified.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { benchJs, chartNodeFlags, ensureBenchCompiled } from './bot-process.js';
import { cpuSeconds } from './cpu.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const SIZES = (process.argv[2] ?? process.env.BENCH_BACKUP_MB ?? '100,1024').split(',').map(Number);

interface WorldInfo {
  pg: { host: string; port: number; user: string; password: string; database: string };
  s3: { endpoint: string; bucket: string };
  dbBytes: number;
  seedMs: number;
  pids: { world: number; postgres: number };
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

// The bot's process runs compiled JavaScript, as the image does.
const compiled = ensureBenchCompiled();

async function bot(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ wallMs: number; cpuS: number; childCpuS: number; peakRssMB: number; baseRssMB: number; key?: string; gzBytes?: number; sqlBytes?: number; verifyMs?: number; restoreMs?: number }> {
  await compiled;
  const flags = [...chartNodeFlags(), ...(process.env.BENCH_BOT_FLAGS?.split(/\s+/).filter(Boolean) ?? [])];
  const child = spawn(process.execPath, [...flags, ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : []), benchJs(process.env.BENCH_BACKUP_PHASES ? 'backup-phases' : 'backup-bot'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const answer = JSON.parse(await firstLine(child)) as Awaited<ReturnType<typeof bot>>;
  // Reaped before the caller reads this process's children's CPU.
  if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  return answer;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function benchSize(sizeMB: number) {
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-bench-backup-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const worldProc = spawn(process.execPath, ['--import', 'tsx', join(here, 'backup-world.ts'), String(sizeMB), kubeconfig], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const world = JSON.parse(await firstLine(worldProc)) as WorldInfo;
    await compiled; // its CPU is not any line's
    const { pg } = world;
    const env = { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password };
    const file = join(dir, 'backup.sql');
    const psql = (sql: string) => run('psql', ['-X', '-q', '-d', pg.database, '-c', sql], env);
    // A fresh scratch database. The bot's restore connects as its own role, and its backend may
    // outlive its process for a moment, which DROP … WITH (FORCE) may not terminate: wait for it.
    const freshScratch = async () => {
      for (let i = 0; ; i++) {
        try {
          await psql('DROP DATABASE IF EXISTS bench_restore');
          break;
        } catch (err) {
          if (i >= 40) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      await psql('CREATE DATABASE bench_restore');
    };

    // CPU of everyone on the machine's 2 cores during each line: this process and what it ran
    // (the bot, pg_dump, igzip, psql), PostgreSQL's backends, and the world (s3rver, emulator).
    const cpuNow = () => {
      const here = cpuSeconds('self');
      return { here: here.own + here.children, pg: cpuSeconds(world.pids.postgres).children, peers: cpuSeconds(world.pids.world).own };
    };
    async function measured<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; cpu: string }> {
      const before = cpuNow();
      const started = performance.now();
      const result = await work();
      const ms = performance.now() - started;
      // The postmaster reaps a backend (and adds its CPU) a moment after its client is gone.
      await new Promise((r) => setTimeout(r, 500));
      const after = cpuNow();
      const d = { here: after.here - before.here, pg: after.pg - before.pg, peers: after.peers - before.peers };
      return { result, ms, cpu: `CPU ${(d.here + d.pg + d.peers).toFixed(1)} s = ${d.here.toFixed(1)} tools/bot + ${d.pg.toFixed(1)} PostgreSQL + ${d.peers.toFixed(1)} S3/emulator` };
    }
    const line = (label: string, m: { ms: number; cpu: string }, base?: number, extra = '') =>
      console.log(`  ${label.padEnd(36)} ${sec(m.ms).padStart(7)}${base ? `  = ${(m.ms / base).toFixed(2)}×` : '        '}   ${m.cpu}${extra}`);

    // The runbook: pg_dump > file, then upload the file (aws s3 cp).
    const dump = await measured(() => run('pg_dump', [pg.database], env, file));
    const s3 = new S3Client({ region: 'eu-west-1', endpoint: world.s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const upload = await measured(() => new Upload({ client: s3, params: { Bucket: world.s3.bucket, Key: 'runbook/backup.sql', Body: createReadStream(file) }, partSize: 8 * 2 ** 20 }).done());
    const fileBytes = statSync(file).size;

    // The floor: the same tools and S3, no bot.
    const floorRun = async () => {
      const dumping = spawn('pg_dump', [pg.database], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
      const igzip = spawn('igzip', ['-1', '-c'], { stdio: [dumping.stdout, 'pipe', 'inherit'] });
      const exited = Promise.all([dumping, igzip].map((c) => new Promise((r) => c.once('exit', r))));
      await new Upload({ client: s3, params: { Bucket: world.s3.bucket, Key: 'runbook/floor.sql.gz', Body: igzip.stdout }, partSize: 8 * 2 ** 20 }).done();
      await exited;
    };
    const floor = await measured(floorRun);

    const worldArg = JSON.stringify(world);
    const backups = [
      ['exec', await measured(() => bot(['backup', 'exec', worldArg, kubeconfig]))],
      ['direct', await measured(() => bot(['backup', 'direct', worldArg, kubeconfig]))],
      ['direct, zlib', await measured(() => bot(['backup', 'direct', worldArg, kubeconfig], { BENCH_BACKUP_GZIP: 'zlib' }))],
    ] as const;
    const key = backups[1][1].result.key as string;

    // Restores into a scratch database each time.
    await psql('CREATE DATABASE bench_restore');
    const restoreByPsql = await measured(() => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-d', 'bench_restore', '-f', file], env));
    const restores: Array<[string, Awaited<ReturnType<typeof measured<Awaited<ReturnType<typeof bot>>>>>]> = [];
    for (const transport of ['exec', 'direct']) {
      await freshScratch();
      restores.push([transport, await measured(() => bot(['restore', transport, worldArg, kubeconfig, key, 'bench_restore']))]);
    }

    const gzBytes = backups[1][1].result.gzBytes ?? 0;
    console.log(`\nbackup bench: database ${mb(world.dbBytes)} on disk, dump ${mb(fileBytes)} SQL → ${mb(gzBytes)} gzip (seeded in ${sec(world.seedMs)}); ×: of pg_dump > file, or of psql < file`);
    line('runbook  pg_dump > file', dump);
    line('runbook  upload the file', upload, undefined, ` (pg_dump > file + upload: ${sec(dump.ms + upload.ms)})`);
    line('floor    pg_dump | igzip | upload', floor, dump.ms);
    const botExtra = (r: Awaited<ReturnType<typeof bot>>) => `   bot CPU ${r.cpuS} s (+ ${r.childCpuS.toFixed(1)} s its pg_dump/igzip/psql)   peak RSS ${r.peakRssMB} MB (${r.baseRssMB} MB before it started)`;
    // The bot's own wall time (from its first step: a running bot has loaded its modules); its
    // CPU is counted from outside and includes the process's start.
    for (const [name, m] of backups) line(`bot      backup (${name})`, { ...m, ms: m.result.wallMs }, dump.ms, botExtra(m.result));
    line('runbook  psql < file (1 transaction)', restoreByPsql);
    // The streaming restore (what psql < file does); `restore` runs a sha pass over the object first.
    for (const [name, m] of restores) line(`bot      restore (${name})`, { ...m, ms: m.result.restoreMs ?? m.result.wallMs }, restoreByPsql.ms, `${botExtra(m.result)}; the sha pass before it ${sec(m.result.verifyMs ?? 0)}`);
    // The goals, over several rounds in the same run, each beside its peer: the bot's backup
    // against the tools-only floor, the bot's restore against psql < file. Median and worst.
    const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
    const ratios = { backup: [] as number[], restore: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      const floorMs = (await measured(floorRun)).ms;
      const ours = await bot(['backup', 'direct', worldArg, kubeconfig]);
      await freshScratch();
      const psqlMs = (await measured(() => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-d', 'bench_restore', '-f', file], env))).ms;
      await freshScratch();
      const restored = await bot(['restore', 'direct', worldArg, kubeconfig, ours.key as string, 'bench_restore']);
      ratios.backup.push(ours.wallMs / floorMs);
      const restoreMs = restored.restoreMs ?? restored.wallMs;
      ratios.restore.push(restoreMs / psqlMs);
      console.log(`  round ${r + 1}: floor ${sec(floorMs)}, bot backup ${sec(ours.wallMs)} (${(ours.wallMs / floorMs).toFixed(2)}×, peak RSS ${ours.peakRssMB} MB); psql < file ${sec(psqlMs)}, bot restore ${sec(restoreMs)} after a sha pass of ${sec(restored.verifyMs ?? 0)} (${(restoreMs / psqlMs).toFixed(2)}×, peak RSS ${restored.peakRssMB} MB)`);
    }
    const summary = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return `median ${(sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN).toFixed(2)}×, worst ${(sorted.at(-1) ?? NaN).toFixed(2)}×`;
    };
    console.log(`  over ${rounds} rounds: bot backup (direct) / floor ${summary(ratios.backup)} (goal ≤ 1.25×); bot restore (direct) / psql < file ${summary(ratios.restore)} (goal ≤ 1.1×)`);
    return { sizeMB, backups, restores };
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
