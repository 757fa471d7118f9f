// `digest daily` on an emulated cluster of 1,000 nodes and 30,000 pods with 64 GPU workers:
// the seeded world (nvidia-smi exec, API logs, metrics) in its own process, the CLI measured
// with /usr/bin/time (wall, peak RSS) and a heap sampler. Goal: < 5 s and < 256 MB. The
// weekly and monthly reports are measured on the same world after it.
// `npx tsx bench/daily-digest.ts`; BENCH_NODES, BENCH_PODS, BENCH_GPU_WORKERS to change the size.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_HEAP_MB, botArgv, ensureBuilt, timed } from './bot-process.js';
import { GPU_WORKERS, startDigestWorld } from './digest-world.js';

async function main() {
  await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-bench-digest-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const world = await startDigestWorld(kubeconfig);
  const { info } = world;
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `clusters:\n  - name: bench\n    kubeconfig: ${kubeconfig}\ncli:\n  role: viewer\nlog:\n  level: silent\n`);
  try {
    const r = await timed([...botArgv(), 'digest', 'daily', '--json'], { VLINDERS_OPS_CONFIG: config });
    const report = JSON.parse(r.stdout) as { status?: string; summary?: string; report?: { status?: string; summary?: string } };
    console.log(`daily digest at scale: ${info.nodes} nodes, ${info.pods} pods, ${GPU_WORKERS} GPU workers (seeded in ${info.seedMs} ms, emulator in its own process); ${cpus().length} cores, node ${process.version}`);
    console.log(`  wall ${r.wallS.toFixed(2)} s, peak RSS ${r.rssMB.toFixed(0)} MB, peak heap ${r.heapMB?.toFixed(0) ?? '?'} MB; ${report.report?.status ?? report.status}: ${report.report?.summary ?? report.summary}`);
    const uncapped = await timed([...botArgv({ heapMB: null }), 'digest', 'daily', '--json'], { VLINDERS_OPS_CONFIG: config });
    console.log(`  (the above as the image runs it: compiled dist/, heap capped at ${CHART_HEAP_MB} MB as the chart sets; with V8's own heap sizing: wall ${uncapped.wallS.toFixed(2)} s, peak RSS ${uncapped.rssMB.toFixed(0)} MB, peak heap ${uncapped.heapMB?.toFixed(0) ?? '?'} MB)`);
    // The weekly and monthly reports on the same world (no Prometheus: node-hours estimated,
    // capacity summed over every pod a page at a time).
    for (const kind of ['weekly', 'monthly']) {
      const k = await timed([...botArgv(), 'digest', kind, '--json'], { VLINDERS_OPS_CONFIG: config });
      console.log(`  ${kind} report: wall ${k.wallS.toFixed(2)} s, peak RSS ${k.rssMB.toFixed(0)} MB, peak heap ${k.heapMB?.toFixed(0) ?? '?'} MB`);
    }
    if (process.env.BENCH_COMPARE) {
      // For comparison, on the same world: `status` (the cluster survey alone) and `gpu` (the 64 execs).
      for (const cmd of ['status', 'gpu']) {
        const c = await timed([...botArgv(), cmd, '--json'], { VLINDERS_OPS_CONFIG: config });
        console.log(`  ${cmd}: wall ${c.wallS.toFixed(2)} s, peak RSS ${c.rssMB.toFixed(0)} MB, peak heap ${c.heapMB?.toFixed(0) ?? '?'} MB`);
      }
    }
  } finally {
    await world.stop();
  }
}

await main();
