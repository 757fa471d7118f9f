// The load generator, a separate process from the app it measures: N signed slash
// commands, C at a time, each timed from send to the HTTP response (Slack's ack). Each
// carries a response_url the workspace emulator issued (one a line in `urls`), so what the
// bot does after the ack is what it does in Slack. Prints one JSON line with the latencies in ms,
// and how many acks carried a body: the bot's "busy" refusal rides in the ack, and a refused
// command is acked without its work, so a round with refusals measures something cheaper.
// With `warm` > 0 it first sends that many over the same keep-alive connections, tells its parent
// ('warm' over IPC) and measures once told 'go': the measured requests find their connections open.
// With `rate` > 0 the load is open: request i is due at i/rate s whatever the answers before it,
// and its time counts from when it was due (a late send is the app's delay too, as wrk2 counts
// it); C then only bounds the connections. With rate 0, C requests are kept in flight (closed).
import { readFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sign } from '../src/sandbox/slack/index.js';

const [url, secret, total, concurrency, user, channel, urls, warmCount = '0', rateArg = '0'] = process.argv.slice(2) as [string, string, string, string, string, string, string, string?, string?];
const rate = Number(rateArg);
const warm = Number(warmCount);
const responseUrls = readFileSync(urls, 'utf8').split('\n').filter(Boolean);
const n = Number(total);
const c = Number(concurrency);
const agent = new Agent({ keepAlive: true, maxSockets: c });

function body(i: number): string {
  return new URLSearchParams({
    token: 'bench',
    team_id: 'T0EMULATOR',
    team_domain: 'bench',
    channel_id: channel,
    channel_name: 'bench',
    user_id: user,
    user_name: 'bench',
    command: '/vlinders',
    text: 'help',
    api_app_id: 'A0EMULATOR',
    is_enterprise_install: 'false',
    response_url: responseUrls[i] ?? '',
    trigger_id: `bench.${i}`,
  }).toString();
}

/** Measured requests whose ack carried a body (a refusal; a plain ack of a command is empty). */
let refused = 0;
let measuring = false;

function once(i: number, due?: number): Promise<number> {
  const payload = body(i);
  const ts = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': Buffer.byteLength(payload),
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': sign(secret, ts, payload),
  };
  const started = due ?? performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => void (bytes += chunk.length));
      res.on('end', () => void (measuring && bytes > 0 && refused++));
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function main() {
  // Warm-up first, on the URLs after the measured ones: JIT, and the keep-alive connections.
  if (warm > 0) {
    let w = 0;
    await Promise.all(Array.from({ length: c }, async () => {
      while (w < warm) await once(n + w++);
    }));
    process.send?.('warm');
    await new Promise((resolve) => process.once('message', resolve));
  }
  const latencies: number[] = [];
  /** When each request went out, ms from the start (where in the run the slow ones fall). */
  const sentAt: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      sentAt[i] = performance.now() - started;
      latencies[i] = await once(i);
    }
  };
  // This process's own event-loop lag: a late timer here is a late reading of a response.
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  measuring = true;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  if (rate > 0) {
    const sent: Array<Promise<void>> = [];
    for (let i = 0; i < n; ) {
      const late = performance.now() - started - (i * 1000) / rate;
      if (late < 0) {
        await new Promise((r) => setTimeout(r, Math.max(1, -late)));
        continue;
      }
      // Every request due by now goes out, each timed from when it was due.
      for (; i < n && (i * 1000) / rate <= performance.now() - started; i++) {
        const at = (i * 1000) / rate;
        const k = i;
        sentAt[k] = at;
        sent.push(once(k, started + at).then((ms) => void (latencies[k] = ms)));
      }
    }
    await Promise.all(sent);
  } else await Promise.all(Array.from({ length: c }, worker));
  lag.disable();
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(`${JSON.stringify({ latencies, sentAt, wallMs: performance.now() - started, loadCpuMs: (cpu.user + cpu.system) / 1000, loadLagMaxMs: lag.max / 1e6, refused })}\n`);
  agent.destroy();
  process.disconnect?.();
}

void main();
