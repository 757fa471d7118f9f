// `slo` and `gpu health` on 64 GPU workers, against the real Prometheus holding about 1,000
// series per metric: DCGM on 64 nodes × 16 GPUs (1,024 GPUs), vLLM on the 64 workers × 16
// served models (1,024 label sets per gauge and counter, × vLLM's buckets per histogram).
// The world's metrics exporter serves them from its own process (bench/slo-world-server.ts) and
// Prometheus scrapes them every 15 s, its default, for a warm-up; then each command runs ≥ 5 rounds in this process (wall time: median and
// worst, with the CPU the bot and Prometheus spent, since a shared machine's wall time says
// more about the neighbours), and once more as the built CLI under /usr/bin/time for the bot's
// own peak RSS. Goal: each < 2 s.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { commands } from '../commands/index.js';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/core/log.js';
import { fixedClusters } from '../src/kube/directory.js';
import { PrometheusClient } from '../src/prometheus/client.js';
import type { ScrapeTarget } from '../src/sandbox/metrics/exporter.js';
import { startPrometheus } from '../src/sandbox/prometheus/real.js';
import { buildEngine } from '../src/wiring.js';
import { botArgv, ensureBuilt, timed } from './bot-process.js';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 64);
const GPUS_PER_NODE = Number(process.env.BENCH_GPUS_PER_NODE ?? 16);
const MODELS = Number(process.env.BENCH_MODELS ?? 16);
const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 5));
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 50);
const INTERVAL_S = Number(process.env.BENCH_SCRAPE_S ?? 15);
const root = new URL('..', import.meta.url).pathname;

/** A process's user + system CPU so far, ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

export async function sloGpuHealthBench(): Promise<void> {
  // Built first: tsc competing for the cores would slow the scrapes.
  await ensureBuilt();
  const world = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/slo-world-server.ts'), String(WORKERS), String(GPUS_PER_NODE), String(MODELS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const { targets } = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: world.stdout }).once('line', resolve))) as { targets: ScrapeTarget[] };
  const prometheus = await startPrometheus({ targets, intervalSeconds: INTERVAL_S });
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-bench-slo-'));
  const configText = `cli:\n  role: viewer\nprometheus:\n  url: ${prometheus.url}\ngpuHealth:\n  stepSeconds: 15\nlog:\n  level: silent\n`;
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, configText);
  const config = parseConfigText(configText);
  const engine = buildEngine({ config, commands, log: createLogger('silent'), services: fixedClusters([]), rbac: { roles: { viewer: { users: ['U0BENCH01'], groups: [] } }, approvers: { users: [], groups: [] }, groupCacheSeconds: 0 } });
  const io = { progress: async () => undefined, signal: new AbortController().signal };
  try {
    await prometheus.waitForTargets(60_000);
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
    const client = new PrometheusClient(prometheus.url, 60_000);
    const count = async (q: string) => (await client.query(q))[0]?.value ?? 0;
    const series = {
      dcgmPerMetric: await count('count(DCGM_FI_DEV_GPU_TEMP)'),
      vllmPerGauge: await count('count(vllm:num_requests_waiting)'),
      vllmTtftBuckets: await count('count(vllm:time_to_first_token_seconds_bucket)'),
      total: await count('count({job=~"vllm|dcgm-exporter"})'),
      samplesPerSeries: await count('max(count_over_time(DCGM_FI_DEV_GPU_TEMP[1h]))'),
    };
    const rows: Array<{ command: string; ms: number[]; botCpuMs: number[]; promCpuMs: number[]; summary: string }> = [];
    const loadBefore = loadavg()[0] as number;
    for (const command of ['slo', 'gpu health']) {
      const row = { command, ms: [] as number[], botCpuMs: [] as number[], promCpuMs: [] as number[], summary: '' };
      for (let round = 0; round < ROUNDS; round++) {
        const cpu = process.cpuUsage();
        const promCpu = processCpuMs(prometheus.pid);
        const started = performance.now();
        const out = await engine.invoke({ userId: 'U0BENCH01', channelId: 'C0BENCH01', surface: 'cli' }, command, io);
        row.ms.push(performance.now() - started);
        const used = process.cpuUsage(cpu);
        row.botCpuMs.push((used.user + used.system) / 1000);
        // Prometheus also scrapes meanwhile (every 15 s): its CPU here is an upper bound of the queries'.
        row.promCpuMs.push(processCpuMs(prometheus.pid) - promCpu);
        row.summary = out.kind === 'report' ? `${out.report.status}: ${out.report.summary ?? ''}` : out.kind === 'error' ? out.message : out.kind;
      }
      rows.push(row);
    }
    const loadAfter = loadavg()[0] as number;
    const cli: Array<{ command: string; wallS: number; rssMB: number; heapMB?: number }> = [];
    for (const command of ['slo', 'gpu health']) cli.push({ command, ...(await timed([...botArgv(), ...command.split(' ')], { VLINDERS_OPS_CONFIG: configFile })) });

    console.log(`slo and gpu health at scale: ${WORKERS} GPU workers × ${GPUS_PER_NODE} GPUs, ${MODELS} models per worker; ${cpus().length} cores, node ${process.version}`);
    console.log(`real Prometheus: ${series.dcgmPerMetric} series per DCGM metric, ${series.vllmPerGauge} per vLLM gauge/counter (${series.vllmTtftBuckets} TTFT bucket series), ${series.total} series in all, ${series.samplesPerSeries} samples per series (scraped every ${INTERVAL_S} s for ${WARMUP_S} s)`);
    console.log(`machine load average ${loadBefore.toFixed(1)} before the rounds, ${loadAfter.toFixed(1)} after (${cpus().length} cores shared)`);
    for (const r of rows) {
      console.log(`${r.command.padEnd(11)} wall ${r.ms.map((m) => (m / 1000).toFixed(2)).join(' ')} s · median ${(median(r.ms) / 1000).toFixed(2)} s · worst ${(Math.max(...r.ms) / 1000).toFixed(2)} s (goal < 2 s)`);
      console.log(`${''.padEnd(11)} CPU: bot median ${(median(r.botCpuMs) / 1000).toFixed(2)} s, worst ${(Math.max(...r.botCpuMs) / 1000).toFixed(2)} s; Prometheus median ${(median(r.promCpuMs) / 1000).toFixed(2)} s, worst ${(Math.max(...r.promCpuMs) / 1000).toFixed(2)} s · ${r.summary.slice(0, 80)}`);
    }
    for (const c of cli) console.log(`${c.command.padEnd(11)} as the built CLI: wall ${c.wallS.toFixed(2)} s (node start included), peak RSS ${c.rssMB.toFixed(0)} MB, peak heap ${c.heapMB?.toFixed(0) ?? '?'} MB`);
  } finally {
    await prometheus.stop();
    world.stdin.end();
    await new Promise((r) => world.once('exit', r));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await sloGpuHealthBench();
