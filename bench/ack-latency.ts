// Ack latency of signed slash commands in HTTP mode: vlinders-ops against a bare Bolt app
// that only acks, side by side in the same run. Goal: p99 within 1.1x of the floor.
//
// vlinders answers each help through its response_url on the same CPU; the bare app answers
// nothing. A third app, Bolt answering each help with a fixed message through respond(), shows
// what answering alone costs the acks on these cores. BENCH_CHART_FLAGS=1 runs all three with
// the chart's NODE_OPTIONS (2 MB semi-spaces), as the pod runs. Two loads:
//   BENCH_RATE=N   N commands a second on schedule (open load; 250 by default): the bot must
//                  answer every one (checked), so the acks are measured beside the work they started.
//   BENCH_RATE=0   CONCURRENCY kept in flight (closed load): thousands a second,
//                  past what the bot's bounded queue takes, so most acks are its "busy" refusal
//                  and the round is marked NOT COMPARABLE. It shows the ack path under a flood.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlackWorkspaceEmulator } from '../src/sandbox/slack/index.js';
import { benchJs, chartNodeFlags, ensureBenchCompiled } from './bot-process.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
/** Requests a second, sent on schedule whatever the answers (open load); 0: CONCURRENCY kept in flight. */
const RATE = Number(process.env.BENCH_RATE ?? 250);
const WARM_UP = 200;
// At least 5: the report is the median and the worst round, never the best alone.
const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 5));
// bare acks only (the floor the goal is judged against); answering acks and answers each help
// with a fixed message through respond(), as the least any bot that answers must do on the same
// cores (its posts also load the Slack emulator here, as vlinders' do).
const MODES = ['bare', 'answering', 'vlinders'] as const;
type Mode = (typeof MODES)[number];
const USER = 'U0BENCH01';
const CHANNEL = 'C0BENCH01';

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function measure(mode: Mode, emu: SlackWorkspaceEmulator) {
  // Both apps and the load generator run compiled, as the image runs the bot. BENCH_PROF=DIR
  // writes the vlinders app's CPU profile there.
  const server = fork(benchJs('ack-server'), [mode, emu.apiUrl, emu.botToken, emu.signingSecret, USER], {
    execArgv: ['--expose-gc', ...(process.env.BENCH_CHART_FLAGS ? chartNodeFlags() : []), ...(process.env.BENCH_PROF && mode === 'vlinders' ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROF] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(server, 'message')) as [{ port: number }];
  const url = `http://127.0.0.1:${ready.port}/slack/events`;
  // Response URLs issued by the emulator, as Slack sends one with each command: the measured
  // requests', then the warm-up's.
  const urls = join(mkdtempSync(join(tmpdir(), 'ack-load-')), 'urls');
  writeFileSync(urls, Array.from({ length: REQUESTS + WARM_UP }, () => emu.responseUrlFor({ channel: CHANNEL, user: USER })).join('\n'));
  const loader = fork(benchJs('ack-load'), [url, emu.signingSecret, String(REQUESTS), String(CONCURRENCY), USER, CHANNEL, urls, String(WARM_UP), String(RATE)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const answeredBefore = emu.responses.length;
  let stdout = '';
  loader.stdout?.on('data', (c: Buffer) => void (stdout += c.toString()));
  const loaded = once(loader, 'exit');
  // The warm-up (JIT, keep-alive connections) runs in the load generator itself, over the
  // connections the measured requests then use; a new process would connect afresh.
  await once(loader, 'message');
  // CPU seconds each process spent on the measured load: the app, the load generator, and
  // this process (the Slack emulator answering the app's response_url posts), all on one machine.
  server.send('cpu');
  const [{ cpuMs: appBefore }] = (await once(server, 'message')) as [{ cpuMs: number }];
  const emuBefore = cpuMs(process.cpuUsage());
  loader.send('go');
  await loaded;
  const { latencies, sentAt, wallMs, loadCpuMs, loadLagMaxMs, refused } = JSON.parse(stdout) as { latencies: number[]; sentAt: number[]; wallMs: number; loadCpuMs: number; loadLagMaxMs: number; refused: number };
  // The bot answers each accepted command through its response_url (the bare app answers none):
  // wait for every answer, up to 60 s, then read the bot's memory. A round where answers are
  // missing, or acks carried a refusal, measured less work than the commands asked for.
  const expected = mode === 'bare' ? 0 : REQUESTS + WARM_UP - refused;
  // Only the help itself counts: an error ("Unknown command") is an answer to something else.
  let read = answeredBefore;
  let helps = 0;
  const answered = () => {
    for (; read < emu.responses.length; read++) if (JSON.stringify(emu.responses[read]?.blocks ?? emu.responses[read]?.text).includes('vlinders-ops commands')) helps++;
    return helps;
  };
  for (const until = Date.now() + 60_000; answered() < expected && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  server.send('mem');
  const [{ mem, loopMaxMs, cpuMs: appAfter, serverMaxMs }] = (await once(server, 'message')) as [{ mem: NodeJS.MemoryUsage; loopMaxMs: number; cpuMs: number; serverMaxMs: number }];
  const emuCpuMs = cpuMs(process.cpuUsage()) - emuBefore;
  server.send('stop');
  await once(server, 'exit');
  const sorted = [...latencies].sort((a, b) => a - b);
  // Where in the run the slowest 1% went out (ms from its start): a burst at one moment is a stall.
  const cut = pct(sorted, 99);
  const slowAt = latencies.flatMap((ms, i) => (ms >= cut ? [Math.round(sentAt[i] ?? NaN)] : [])).sort((a, b) => a - b);
  return { refused, answered: answered(), serverMaxMs, slowAt: slowAt.length ? `${slowAt[0]}–${slowAt.at(-1)} ms` : '', loadLagMaxMs, mode, p50: pct(sorted, 50), p99: pct(sorted, 99), max: sorted.at(-1) ?? NaN, rps: (REQUESTS / wallMs) * 1000, rssMB: mem.rss / 2 ** 20, heapMB: mem.heapUsed / 2 ** 20, loopMaxMs, appCpuS: (appAfter - appBefore) / 1000, loadCpuS: loadCpuMs / 1000, emuCpuS: emuCpuMs / 1000 };
}

export async function ackLatency(): Promise<void> {
  await ensureBenchCompiled();
  const results: Array<{ round: number } & Awaited<ReturnType<typeof measure>>> = [];
  for (let round = 0; round < ROUNDS; round++) {
    // A fresh workspace each round: the emulator keeps every answer it took, and on the same two
    // cores its growing heap (and GC) would weigh on the later rounds of vlinders alone.
    const emu = await SlackWorkspaceEmulator.start();
    emu.addUser(USER, { name: 'bench' });
    emu.addChannel(CHANNEL, 'bench', { bot: true });
    try {
      for (const mode of MODES) results.push({ round: round + 1, ...(await measure(mode, emu)) });
    } finally {
      await emu.close();
    }
  }
  console.log(`ack latency: ${REQUESTS} signed /vlinders help, ${RATE > 0 ? `${RATE} a second on schedule (open load, ≤ ${CONCURRENCY} connections)` : `${CONCURRENCY} concurrent (closed load)`}, HTTP mode; ${cpus().length} cores, node ${process.version}`);
  console.log('round  app        p50 ms   p99 ms   max ms   req/s   rss MB  heap MB  loop-lag max ms (app, load)  cpu s: app  load  slack   slowest 1% sent at   app-side max ms  refused  answered');
  for (const r of results) {
    console.log(
      `${String(r.round).padEnd(6)} ${r.mode.padEnd(10)} ${r.p50.toFixed(1).padStart(6)} ${r.p99.toFixed(1).padStart(8)} ${r.max.toFixed(1).padStart(8)} ${r.rps.toFixed(0).padStart(7)} ${r.rssMB.toFixed(0).padStart(8)} ${r.heapMB.toFixed(1).padStart(8)} ${r.loopMaxMs.toFixed(1).padStart(16)} ${r.loadLagMaxMs.toFixed(1).padStart(6)} ${r.appCpuS.toFixed(2).padStart(11)} ${r.loadCpuS.toFixed(2).padStart(5)} ${r.emuCpuS.toFixed(2).padStart(6)}   ${r.slowAt.padEnd(14)} ${r.serverMaxMs.toFixed(1).padStart(8)}  ${String(r.refused).padStart(7)}  ${r.mode === 'bare' ? '       –' : String(r.answered).padStart(8)}`,
    );
  }
  // Per mode: the median and the worst round's p99; the goal is judged on the worst rounds.
  const p99s = (mode: string) => results.filter((r) => r.mode === mode).map((r) => r.p99).sort((a, b) => a - b);
  const median = (xs: number[]) => xs[Math.floor((xs.length - 1) / 2)] ?? NaN;
  const [bare, answering, ours] = [p99s('bare'), p99s('answering'), p99s('vlinders')];
  console.log(`p99 over ${ROUNDS} rounds: vlinders median ${median(ours).toFixed(1)} ms, worst ${(ours.at(-1) ?? NaN).toFixed(1)} ms; bare Bolt median ${median(bare).toFixed(1)} ms, worst ${(bare.at(-1) ?? NaN).toFixed(1)} ms; Bolt answering median ${median(answering).toFixed(1)} ms, worst ${(answering.at(-1) ?? NaN).toFixed(1)} ms`);
  const short = results.filter((r) => r.mode !== 'bare' && (r.refused > 0 || r.answered < REQUESTS + WARM_UP));
  if (short.length > 0) console.log(`NOT COMPARABLE: ${short.map((r) => `${r.mode} in round ${r.round} refused ${r.refused} as busy and answered ${r.answered}`).join('; ')} of ${REQUESTS + WARM_UP}: it did less than the load asked`);
  console.log(`vlinders vs bare Bolt, worst vs worst: ${((ours.at(-1) ?? NaN) / (bare.at(-1) ?? NaN)).toFixed(2)}x; median vs median: ${(median(ours) / median(bare)).toFixed(2)}x (goal ≤ 1.10x in the worst round; Slack's limit 3000 ms)`);
  console.log(`vlinders vs Bolt answering, worst vs worst: ${((ours.at(-1) ?? NaN) / (answering.at(-1) ?? NaN)).toFixed(2)}x; median vs median: ${(median(ours) / median(answering)).toFixed(2)}x`);
}

if (import.meta.url === `file://${process.argv[1]}`) await ackLatency();
