// Entry point: `vlinders-ops serve` runs the bot (src/serve.ts); anything else is a command
// run from the terminal. `npm start` is `serve`.
import { pino } from 'pino';
import { commands } from '../commands/index.js';
import { runCli, terminalConfirm } from './cli/run.js';
import { ConfigError, loadConfigFile, loadEnv } from './config/load.js';
import { createLogger } from './core/log.js';
import { serve } from './serve.js';

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
