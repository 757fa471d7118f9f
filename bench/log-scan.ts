// Log scan of ~1 GB of pod logs through the daily digest's ERROR counting: once in-process
// (the counter alone, with the line generator's own time measured in the same run and taken
// off), once end to end (the digest's apiErrorTally, reading KubeClient.logLines over HTTP from
// the kube-apiserver emulator in a child process). Reports MB/s, and RSS sampled while it runs,
// to show memory stays flat. `npx tsx bench/log-scan.ts [MB]`.
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { apiErrorTally } from '../src/digest/daily.js';
import { ErrorCounter } from '../src/digest/error-lines.js';
import { KubeClient } from '../src/kube/client.js';
import { KubeApiEmulator } from '../src/sandbox/kube/index.js';

const TOTAL_MB = Number(process.argv[2] ?? process.env.BENCH_LOG_MB ?? 1024);
const PODS = 4;
const NS = 'vlinders-platform';

const MSGS = [
  'INFO  [vlinders.api] POST /v1/chat/completions 200 412ms model=meta-llama/Llama-3.1-8B-Instruct',
  'INFO  [vlinders.api] GET /v1/models 200 21ms',
  'WARN  [vlinders.api] slow request: POST /v1/chat/completions took 8.3s model=meta-llama/Llama-3.1-8B-Instruct',
  'ERROR [vlinders.api] upstream timeout after 30.0s: POST http://vlinders-ray-cluster-head-svc.vlinders-inference.svc:8000/v1/chat/completions',
  'ERROR [vlinders.db] connection to postgres.vlinders-platform.svc:5432 failed: FATAL:  remaining connection slots are reserved',
];

/** Lines of about `bytes` in total, made as they are read; every 20th an ERROR. */
function* lines(pod: string, bytes: number): Generator<string> {
  let made = 0;
  let t = Date.parse('2026-11-25T00:00:00Z');
  for (let i = 0; made < bytes; i++) {
    const kind = i % 20 === 0 ? 3 + (i % 40 === 0 ? 1 : 0) : i % 3;
    const line = `${new Date(t).toISOString()} ${MSGS[kind]} pod=${pod} request_id=${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}`;
    t += 7;
    made += line.length + 1;
    yield line;
  }
}

function rssSampler() {
  const samples: Array<{ mb: number; rssMB: number }> = [];
  let next = 0;
  // Sampled by progress (every 8 MB read), since a busy scan starves timers.
  return {
    progress(bytes: number) {
      if (bytes < next) return;
      next = bytes + 8 * 2 ** 20;
      samples.push({ mb: bytes / 2 ** 20, rssMB: process.memoryUsage().rss / 2 ** 20 });
    },
    stop() {
      samples.push({ mb: next / 2 ** 20, rssMB: process.memoryUsage().rss / 2 ** 20 });
      const peak = Math.max(...samples.map((s) => s.rssMB));
      const pick = (f: number) => samples[Math.min(samples.length - 1, Math.floor(samples.length * f))]?.rssMB.toFixed(0) ?? '?';
      return { peakRssMB: peak, curve: `RSS at 10/50/90/100%: ${pick(0.1)}/${pick(0.5)}/${pick(0.9)}/${pick(1)} MB` };
    },
  };
}

/**
 * One pass over the generated lines as `consume` reads them, through a byte stream and readline
 * as logLines reads the API's response. The same pass with a consumer that only drains is the
 * generator's own cost, measured in the same run and taken off the counter's figures.
 */
async function pass(consume: (pod: string, lines: AsyncIterable<string>) => Promise<void>) {
  const bytesPerPod = (TOTAL_MB * 2 ** 20) / PODS;
  const rss = rssSampler();
  const started = performance.now();
  let bytes = 0;
  for (let p = 0; p < PODS; p++) {
    const pod = `vlinders-api-${p}`;
    const input = Readable.from((function* () { for (const l of lines(pod, bytesPerPod)) { bytes += l.length + 1; rss.progress(bytes); yield `${l}\n`; } })());
    await consume(pod, createInterface({ input, crlfDelay: Infinity }));
  }
  return { s: (performance.now() - started) / 1000, bytes, mem: rss.stop() };
}

async function inProcess() {
  const drain = await pass(async (_pod, input) => {
    for await (const _line of input);
  });
  const counter = new ErrorCounter();
  const counted = await pass((pod, input) => counter.addStream(pod, input));
  const counterS = counted.s - drain.s;
  const mb = counted.bytes / 2 ** 20;
  const t = counter.tally();
  console.log(`log scan, in-process: ${mb.toFixed(0)} MB; generating and reading the lines alone ${drain.s.toFixed(1)} s, with ErrorCounter ${counted.s.toFixed(1)} s, so the counter's own ${counterS.toFixed(1)} s = ${(mb / counterS).toFixed(0)} MB/s; ${t.total} ERROR lines, ${t.top.length} top messages; peak RSS ${counted.mem.peakRssMB.toFixed(0)} MB with the counter, ${drain.mem.peakRssMB.toFixed(0)} MB without (${counted.mem.curve})`);
}

/** The emulator in a child process, so its (unthrottled) writing doesn't count against the reader's memory. */
async function serveLogs() {
  const bytesPerPod = (TOTAL_MB * 2 ** 20) / PODS;
  const emu = await KubeApiEmulator.start();
  emu.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  for (let p = 0; p < PODS; p++) {
    emu.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `vlinders-api-${p}`, namespace: NS, labels: { 'app.kubernetes.io/name': 'vlinders-api' } },
      spec: { nodeName: 'node-1', containers: [{ name: 'api', image: 'vlinders-api' }] },
      status: { phase: 'Running', containerStatuses: [{ name: 'api', image: 'vlinders-api', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: '2026-11-25T00:00:00Z' } } }] },
    });
  }
  let served = 0;
  emu.setHooks({
    logs: (req) =>
      (async function* () {
        let n = 0;
        for (const l of lines(req.pod, bytesPerPod)) {
          served += l.length + 1;
          // Let the socket drain now and then: the emulator doesn't wait for it.
          if (++n % 2000 === 0) await new Promise((r) => setImmediate(r));
          yield l;
        }
      })(),
  });
  process.stdout.write(`${Buffer.from(emu.kubeconfig()).toString('base64')}\n`);
  process.stdin.resume();
  // The bytes served, for the reader's MB/s: it runs the digest's own apiErrorTally, which doesn't count them.
  process.stdin.on('end', () => {
    process.stdout.write(`${served}\n`);
    void emu.close().then(() => process.exit(0));
  });
}

async function endToEnd() {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(TOTAL_MB), 'serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = (await out.next()).value as string;
  const kc = new KubeConfig();
  kc.loadFromString(Buffer.from(first, 'base64').toString('utf8'));
  const kube = new KubeClient('bench', kc, 600_000);
  // The reader waits on the socket, so a timer samples its RSS here.
  let peakRssMB = 0;
  const sampler = setInterval(() => (peakRssMB = Math.max(peakRssMB, process.memoryUsage().rss / 2 ** 20)), 20);
  const started = performance.now();
  // The daily digest's own function, as the digest calls it.
  const t = await apiErrorTally(kube, NS, 'app.kubernetes.io/name=vlinders-api', 86_400, new AbortController().signal);
  const s = (performance.now() - started) / 1000;
  clearInterval(sampler);
  child.stdin.end();
  const bytes = Number((await out.next()).value);
  console.log(`log scan, end to end (emulator in a child process → HTTP → apiErrorTally, as the digest runs it): ${(bytes / 2 ** 20).toFixed(0)} MB in ${s.toFixed(1)} s = ${(bytes / 2 ** 20 / s).toFixed(0)} MB/s (the emulator's line generation is in the child, on the other core); ${t.total} ERROR lines over ${t.perPod.length} pods; reader peak RSS ${peakRssMB.toFixed(0)} MB`);
}

if (process.argv[3] === 'serve') {
  await serveLogs();
} else {
  if (!process.env.BENCH_LOG_SKIP_INPROCESS) await inProcess();
  if (!process.env.BENCH_LOG_SKIP_E2E) await endToEnd();
}
