// The daily digest with its two charts (GPU utilization per node over 24 h, P95 latency against
// its target) on the 1,000-node world, beside today's digest without charts, in the same run:
// each as the image runs it (compiled dist/, the chart's heap cap), ≥ 5 rounds, median and
// worst of wall time and peak RSS. Goal for the charted digest: < 5 s and < 256 MB.
// The charted run reads Prometheus (a stub in this process holding 24 h of every GPU node's
// utilization and the P95) and renders both PNGs with --chart. Then each chart alone, in
// process: render time and memory. `npx tsx bench/digest-charts.ts`; BENCH_ROUNDS (default 5).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderChartPng } from '../src/charts/index.js';
import { configSchema } from '../src/config/schema.js';
import { dailyChartSpecs } from '../src/digest/daily.js';
import { chartFromSeries } from '../src/charts/index.js';
import { PrometheusStub } from '../src/sandbox/prometheus/server.js';
import { botArgv, ensureBuilt, timed } from './bot-process.js';
import { GPU_WORKERS, startDigestWorld } from './digest-world.js';

const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 5));
const queries = configSchema.parse({}).prometheus.queries;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const worst = (xs: number[]) => Math.max(...xs);

/** Every GPU node's utilization and the P95, as Prometheus would answer the range queries. */
function seedPrometheus(prom: PrometheusStub): void {
  const nodes = Array.from({ length: GPU_WORKERS }, (_, n) => ({ metric: { Hostname: `gpu-node-${n}` }, at: (t: number) => 45 + 40 * Math.sin(t / 5400 + n) }));
  prom.setRange(queries.gpuUtilizationPercent, nodes);
  prom.setRange(queries.p95Latency, [{ metric: {}, at: (t: number) => 0.38 + 0.18 * Math.sin(t / 7200) }]);
}

/** Each chart alone in this process: median render ms, and memory it holds while drawing. */
function chartsAlone(): string[] {
  const now = Date.now();
  const out: string[] = [];
  for (const spec of dailyChartSpecs(configSchema.parse({}), now)) {
    const series = spec.id.startsWith('gpu')
      ? Array.from({ length: GPU_WORKERS }, (_, n) => ({ metric: { Hostname: `gpu-node-${n}` }, points: pointsOf(spec.from, spec.to, spec.stepSeconds, (t) => 45 + 40 * Math.sin(t / 5400 + n)) }))
      : [{ metric: {}, points: pointsOf(spec.from, spec.to, spec.stepSeconds, (t) => 0.38 + 0.18 * Math.sin(t / 7200)) }];
    const chart = chartFromSeries(spec, series);
    renderChartPng(chart);
    const ms: number[] = [];
    let peakMB = 0;
    for (let i = 0; i < 20; i++) {
      const before = process.memoryUsage();
      const started = performance.now();
      const png = renderChartPng(chart);
      ms.push(performance.now() - started);
      const after = process.memoryUsage();
      // What one drawing adds: the JS heap and the native (resvg) buffers it left behind.
      peakMB = Math.max(peakMB, (after.rss - before.rss + png.length) / 2 ** 20, (after.heapUsed - before.heapUsed + after.external - before.external) / 2 ** 20);
    }
    out.push(`  ${spec.id}: ${chart.series.length} lines from ${series.length} series, median ${median(ms).toFixed(0)} ms, worst ${worst(ms).toFixed(0)} ms, ≤ ${Math.max(0, peakMB).toFixed(1)} MB added per drawing; rss now ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
  }
  return out;
}

function pointsOf(from: number, to: number, step: number, f: (t: number) => number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = from; t <= to; t += step) out.push([t, f(t)]);
  return out;
}

async function main() {
  await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-bench-charts-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const world = await startDigestWorld(kubeconfig);
  const prom = await PrometheusStub.start();
  seedPrometheus(prom);
  const base = `clusters:\n  - name: bench\n    kubeconfig: ${kubeconfig}\ncli:\n  role: viewer\nlog:\n  level: silent\n`;
  const plainConfig = join(dir, 'plain.yaml');
  const chartedConfig = join(dir, 'charted.yaml');
  writeFileSync(plainConfig, base);
  writeFileSync(chartedConfig, `${base}prometheus:\n  url: ${prom.url}\n`);
  const runs = { plain: [] as Array<{ wallS: number; rssMB: number }>, charted: [] as Array<{ wallS: number; rssMB: number }> };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternated, so a slow moment of the shared machine weighs on both.
      runs.plain.push(await timed([...botArgv(), 'digest', 'daily', '--json'], { VLINDERS_OPS_CONFIG: plainConfig }));
      const charted = await timed([...botArgv(), 'digest', 'daily', '--json', '--chart', join(dir, 'daily.png')], { VLINDERS_OPS_CONFIG: chartedConfig });
      const report = JSON.parse(charted.stdout) as { thread?: Array<{ charts?: unknown[] }> };
      const drawn = report.thread?.[0]?.charts?.length ?? 0;
      if (drawn !== 2) throw new Error(`the charted digest drew ${drawn} charts, not 2`);
      runs.charted.push(charted);
    }
    console.log(`daily digest with and without its charts: ${world.info.nodes} nodes, ${world.info.pods} pods, ${GPU_WORKERS} GPU nodes charted; ${ROUNDS} rounds; ${cpus().length} cores, node ${process.version}`);
    for (const [name, rs] of Object.entries(runs)) {
      const wall = rs.map((r) => r.wallS);
      const rss = rs.map((r) => r.rssMB);
      console.log(`  ${name === 'plain' ? 'without charts (no Prometheus)' : 'with 2 charts (Prometheus, --chart)'}: wall median ${median(wall).toFixed(2)} s, worst ${worst(wall).toFixed(2)} s; peak RSS median ${median(rss).toFixed(0)} MB, worst ${worst(rss).toFixed(0)} MB`);
    }
    const ok = worst(runs.charted.map((r) => r.wallS)) < 5 && worst(runs.charted.map((r) => r.rssMB)) < 256;
    console.log(`  goal < 5 s and < 256 MB for the charted digest: ${ok ? 'met' : 'NOT met'} (worst of ${ROUNDS})`);
    console.log('each chart alone, in this process:');
    for (const line of chartsAlone()) console.log(line);
  } finally {
    await prom.close();
    await world.stop();
  }
}

await main();
