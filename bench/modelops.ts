// model update and loadtest: (1) reading k6's summary from the end of a long k6 log (console
// lines, progress) — MB/s and the reader's heap, which stays flat, each beside the log
// generator's own figures from the same run; (2) a whole model update in
// the test world (Jobs run 50 ms, Serve deploys in 100 ms): the bot's own overhead per step.
// `npx tsx bench/modelops.ts [MB]`.
import { summaryFromLog, measuresOf } from '../src/loadtest/k6-summary.js';
import { k6Runner } from '../src/sandbox/kube/world/k6-run.js';
import { startOpsWorld } from '../test/models/ops-world.js';

const MB = Number(process.argv[2] ?? 256);

async function summaryRead() {
  const tail: string[] = [];
  await k6Runner({ p95Ms: 250 })({ job: {} as never, pod: {} as never, env: {}, args: ['run', '--vus', '100', '--duration', '5m', '--summary-export', '/dev/stdout', '/scripts/loadtest.js'], command: [], claims: {}, print: (l) => tail.push(l) });
  /** The log, made as it is read; its heap is sampled as it goes. */
  function log(sample: { peakHeap: number; bytes: number }) {
    return (async function* () {
      for (let i = 0; sample.bytes < MB * 2 ** 20; i++) {
        const line = `time="2026-11-25T22:${String(i % 60).padStart(2, '0')}:00Z" level=info msg="vu=${i % 100} iter=${i} status=200 body={\\"object\\":\\"list\\"}" source=console`;
        sample.bytes += line.length + 1;
        if (i % 50_000 === 0) sample.peakHeap = Math.max(sample.peakHeap, process.memoryUsage().heapUsed);
        yield line;
      }
      yield* tail;
    })();
  }
  const drain = async (sample: { peakHeap: number; bytes: number }) => {
    for await (const _line of log(sample));
  };
  const read = async (sample: { peakHeap: number; bytes: number }) => measuresOf(await summaryFromLog(log(sample)));
  const timed = async <T>(what: (s: { peakHeap: number; bytes: number }) => Promise<T>) => {
    const sample = { peakHeap: 0, bytes: 0 };
    const started = performance.now();
    const value = await what(sample);
    return { s: (performance.now() - started) / 1000, ...sample, value };
  };
  // The generator alone, drained, beside the reader in each round: its time and heap are not
  // the reader's. One warm-up round of each first, so neither pays the JIT's start.
  await timed(drain);
  await timed(read);
  const readerS: number[] = [];
  let last: Awaited<ReturnType<typeof timed<Awaited<ReturnType<typeof read>>>>> | undefined;
  let alonePeak = 0;
  for (let round = 0; round < 5; round++) {
    const alone = await timed(drain);
    last = await timed(read);
    alonePeak = Math.max(alonePeak, alone.peakHeap);
    readerS.push(last.s - alone.s);
  }
  readerS.sort((a, b) => a - b);
  const mb = (last?.bytes ?? 0) / 2 ** 20;
  const median = readerS[2] ?? NaN;
  const worst = readerS.at(-1) ?? NaN;
  const heapMB = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(`k6 summary from the end of a ${mb.toFixed(0)} MB log, 5 rounds, the log generator's own time taken off in each: the reader's median ${median.toFixed(2)} s = ${(mb / median).toFixed(0)} MB/s, worst ${worst.toFixed(2)} s = ${(mb / worst).toFixed(0)} MB/s; p95 read ${last?.value?.p95Ms} ms; peak heap ${heapMB(last?.peakHeap ?? 0)} MB while reading, ${heapMB(alonePeak)} MB for the generator alone`);
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
