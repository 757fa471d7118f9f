// model update and loadtest: (1) reading k6's summary from the end of a long k6 log (console
// lines, progress) — MB/s and the reader's heap, which stays flat; (2) a whole model update in
// the test world (Jobs run 50 ms, Serve deploys in 100 ms): the bot's own overhead per step.
// `npx tsx bench/modelops.ts [MB]`.
import { summaryFromLog, measuresOf } from '../src/loadtest/k6-summary.js';
import { k6Runner } from '../src/sandbox/kube/world/k6-run.js';
import { startOpsWorld } from '../test/models/ops-world.js';

const MB = Number(process.argv[2] ?? 256);

async function summaryRead() {
  const tail: string[] = [];
  await k6Runner({ p95Ms: 250 })({ job: {} as never, pod: {} as never, env: {}, args: ['run', '--vus', '100', '--duration', '5m', '--summary-export', '/dev/stdout', '/scripts/loadtest.js'], command: [], claims: {}, print: (l) => tail.push(l) });
  let bytes = 0;
  let peakHeap = 0;
  async function* log() {
    for (let i = 0; bytes < MB * 2 ** 20; i++) {
      const line = `time="2026-11-25T22:${String(i % 60).padStart(2, '0')}:00Z" level=info msg="vu=${i % 100} iter=${i} status=200 body={\\"object\\":\\"list\\"}" source=console`;
      bytes += line.length + 1;
      if (i % 50_000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      yield line;
    }
    yield* tail;
  }
  const started = performance.now();
  const m = measuresOf(await summaryFromLog(log()));
  const s = (performance.now() - started) / 1000;
  console.log(`k6 summary from the end of a ${(bytes / 2 ** 20).toFixed(0)} MB log: ${s.toFixed(1)} s = ${(bytes / 2 ** 20 / s).toFixed(0)} MB/s, p95 read ${m?.p95Ms} ms; reader peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MB`);
}

async function modelUpdate() {
  const w = await startOpsWorld({ world: { jobRunMs: 50 } });
  const stamps: Array<[string, number]> = [];
  const started = performance.now();
  const report = await w.approveAndRun('model update Qwen/Qwen2.5-7B-Instruct');
  const total = performance.now() - started;
  for (const line of w.progress) if (line.startsWith('✅')) stamps.push([line.split(':')[0] ?? '', Number(/\(([\d.]+) s\)$/.exec(line)?.[1] ?? NaN)]);
  await w.close();
  console.log(`model update in the test world: ${typeof report === 'string' ? report : report.status} in ${(total / 1000).toFixed(1)} s; per step ${stamps.map(([s, t]) => `${s.slice(2)} ${t} s`).join(', ')} (Jobs and Serve polled every 0.5 s)`);
}

await summaryRead();
await modelUpdate();
