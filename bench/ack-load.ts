// The load generator, a separate process from the app it measures: N signed slash
// commands, C at a time, each timed from send to the HTTP response (Slack's ack). Each
// carries a response_url the workspace emulator issued (one a line in `urls`), so what the
// bot does after the ack is what it does in Slack. Prints one JSON line with the latencies in ms.
// With `warm` > 0 it first sends that many over the same keep-alive connections, tells its parent
// ('warm' over IPC) and measures once told 'go': the measured requests find their connections open.
import { readFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sign } from '../src/sandbox/slack/index.js';

const [url, secret, total, concurrency, user, channel, urls, warmCount = '0'] = process.argv.slice(2) as [string, string, string, string, string, string, string, string?];
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

function once(i: number): Promise<number> {
  const payload = body(i);
  const ts = Math.floor(Date.now() / 1000);
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': Buffer.byteLength(payload),
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': sign(secret, ts, payload),
  };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      res.resume();
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
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: c }, worker));
  lag.disable();
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(`${JSON.stringify({ latencies, sentAt, wallMs: performance.now() - started, loadCpuMs: (cpu.user + cpu.system) / 1000, loadLagMaxMs: lag.max / 1e6 })}\n`);
  agent.destroy();
  process.disconnect?.();
}

void main();
