// Entry point: `vlinders-ops serve` runs the bot; anything else is a command run from the
// terminal. `npm start` is `serve`.
import { pino } from 'pino';
import { commands } from '../commands/index.js';
import { runCli, terminalConfirm } from './cli/run.js';
import { ConfigError, loadConfigFile, loadEnv } from './config/load.js';
import type { CommandEngine } from './core/engine.js';
import { createLogger } from './core/log.js';
import { createSlackBot } from './slack/app.js';
import { configuredClusters } from './kube/directory.js';
import { buildEngine, stateStore } from './wiring.js';

/** What `serve` says when Slack credentials are missing: exactly what to set. */
export function missingCredentials(env: NodeJS.ProcessEnv): string | undefined {
  const missing: string[] = [];
  if (!env.SLACK_BOT_TOKEN) missing.push('SLACK_BOT_TOKEN    the bot token (xoxb-…), from OAuth & Permissions');
  if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
    missing.push('SLACK_APP_TOKEN    an app-level token (xapp-…) with connections:write, for Socket Mode');
    missing.push('  or SLACK_SIGNING_SECRET  the signing secret, for HTTP mode (requests to /slack/events)');
  }
  if (missing.length === 0) return undefined;
  return [
    'vlinders-ops serve needs Slack credentials. Set:',
    ...missing.map((m) => `  ${m}`),
    'Create the app from manifest.json (api.slack.com/apps → From a manifest). Optional: SLACK_API_URL, VLINDERS_OPS_CONFIG.',
  ].join('\n');
}

async function serve(): Promise<number> {
  const problem = missingCredentials(process.env);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    return 2;
  }
  const env = loadEnv();
  const config = await loadConfigFile(env.VLINDERS_OPS_CONFIG);
  const log = createLogger(config.log.level);
  const services = configuredClusters(config.clusters);
  const store = stateStore(config, services);
  let engine: CommandEngine | undefined;
  const bot = createSlackBot({
    config,
    log,
    credentials: { botToken: env.SLACK_BOT_TOKEN as string, appToken: env.SLACK_APP_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET, apiUrl: env.SLACK_API_URL },
    makeEngine: (hooks) => (engine = buildEngine({ config, commands, log, services, store, groupMembers: hooks.groupMembers, auditMirror: hooks.auditMirror })),
  });
  await bot.start();
  const sweeper = setInterval(() => {
    engine?.sweepExpired().catch((err: unknown) => log.warn({ err }, 'could not sweep expired confirmations'));
  }, 10 * 60_000);
  sweeper.unref();
  log.info({ mode: bot.mode, port: bot.port() }, 'vlinders-ops is running');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  log.info('shutting down');
  clearInterval(sweeper);
  await bot.stop();
  return 0;
}

async function cli(argv: string[]): Promise<number> {
  const env = loadEnv();
  const config = await loadConfigFile(env.VLINDERS_OPS_CONFIG);
  // Logs go to stderr so stdout carries only the report (pipe it, or use --json).
  const log = createLogger(process.env.VLINDERS_OPS_LOG_LEVEL ?? 'warn', pino.destination({ fd: 2, sync: true }));
  return runCli(argv, {
    config,
    commands,
    log,
    io: { stdout: (t) => process.stdout.write(`${t}\n`), stderr: (t) => process.stderr.write(`${t}\n`), confirm: terminalConfirm() },
  });
}

async function main(argv: string[]): Promise<number> {
  try {
    return argv[0] === 'serve' ? await serve() : await cli(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
