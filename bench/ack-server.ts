// One Slack app under load, in its own process so its memory is its own:
//   bare       a Bolt app whose /vlinders listener only acks (the floor)
//   answering  a Bolt app whose listener acks, then answers through respond() with a fixed
//              message of about the help's size: the least any bot that answers must do
//   vlinders   the real vlinders-ops bot (engine, RBAC, audit, posting the report)
// Talks to the orchestrator over IPC: sends {ready, port}; answers 'mem'; exits on 'stop'.
import { subscribe } from 'node:diagnostics_channel';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { commands } from '../commands/index.js';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/core/log.js';
import { createSlackBot } from '../src/slack/app.js';
import { buildEngine } from '../src/wiring.js';

const [mode, apiUrl, botToken, signingSecret, user] = process.argv.slice(2) as [string, string, string, string, string];
const send = (msg: unknown) => process.send?.(msg);

async function main() {
  let stop: () => Promise<void>;
  let port: number | undefined;
  if (mode === 'bare' || mode === 'answering') {
    const receiver = new HTTPReceiver({ signingSecret, endpoints: '/slack/events' });
    const app = new App({ receiver, token: botToken, clientOptions: { slackApiUrl: apiUrl }, logLevel: LogLevel.ERROR });
    // Twenty lines of about the help's length, as one section block and its fallback text.
    const lines = ['*vlinders-ops commands*', ...Array.from({ length: 20 }, (_, i) => `\`command-${i} <arg>\` — what command ${i} does, in a line of this length`)].join('\n');
    app.command('/vlinders', async ({ ack, respond }) => {
      await ack();
      if (mode === 'answering') await respond({ response_type: 'ephemeral', text: lines, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: lines } }] });
    });
    const server = (await app.start(0)) as import('node:http').Server;
    const addr = server.address();
    port = typeof addr === 'object' && addr ? addr.port : undefined;
    stop = async () => void (await app.stop());
  } else {
    const config = parseConfigText(`rbac:\n  roles:\n    viewer:\n      users: [${user}]\nlog:\n  level: silent\n`, 'bench');
    const log = createLogger('silent');
    const bot = createSlackBot({
      config,
      log,
      port: 0,
      credentials: { botToken, signingSecret, apiUrl },
      makeEngine: (hooks) => buildEngine({ config, commands, log, groupMembers: hooks.groupMembers }),
    });
    await bot.start();
    port = bot.port();
    stop = () => bot.stop();
  }
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // Server-side time of each request, from its arrival to its response's last byte handed to the
  // kernel: against the load generator's times, it tells a delay in here from one outside.
  const arrived = new WeakMap<object, number>();
  let serverMaxMs = 0;
  subscribe('http.server.request.start', (m) => void arrived.set((m as { request: object }).request, performance.now()));
  subscribe('http.server.response.finish', (m) => {
    const at = arrived.get((m as { request: object }).request);
    if (at !== undefined) serverMaxMs = Math.max(serverMaxMs, performance.now() - at);
  });
  process.on('message', (msg) => {
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    if (msg === 'cpu') {
      // The measured load starts: its event-loop lag counts from here, not from the warm-up.
      loop.reset();
      serverMaxMs = 0;
      send({ cpuMs: cpuMs() });
    } else if (msg === 'mem') {
      const used = cpuMs();
      (globalThis as { gc?: () => void }).gc?.();
      send({ mem: process.memoryUsage(), loopMaxMs: loop.max / 1e6, cpuMs: used, serverMaxMs });
    } else if (msg === 'stop') {
      void stop().finally(() => process.exit(0));
    }
  });
  send({ ready: true, port });
}

void main();
