// Entry point: `vlinders-ops serve` runs the bot (src/serve.ts); anything else is a command
// run from the terminal: on the configured clusters, or with --sandbox on the console's
// sandbox world. `npm start` is `serve`.
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { commands } from '../commands/index.js';
import { cliHelp, commandHelp, findCommand } from './cli/help.js';
import { runCli, splitGlobalFlags, terminalConfirm, type CliIO, type GlobalFlags } from './cli/run.js';
import { ConfigError, loadConfigFile, loadEnv } from './config/load.js';
import { DEV_ONLY_MISSING, importDevOnly } from './core/dev-only.js';
import { createLogger } from './core/log.js';
import { MemoryStore } from './core/store.js';
import { serve } from './serve.js';

const io: CliIO = { stdout: (t) => process.stdout.write(`${t}\n`), stderr: (t) => process.stderr.write(`${t}\n`), confirm: terminalConfirm() };

/** `--help`, `-h`, `help` and `<command> --help`: read off the command definitions, no config needed. */
function help(flags: GlobalFlags): number {
  const topic = flags.words[0] === 'help' ? flags.words.slice(1) : flags.words;
  if (topic.length === 0) {
    io.stdout(cliHelp(commands));
    return 0;
  }
  const command = findCommand(commands, topic);
  if (!command) {
    io.stderr(`error: no command "${topic.join(' ')}". vlinders-ops --help lists them.`);
    return 2;
  }
  io.stdout(commandHelp(command));
  return 0;
}

/** The console's sandbox world and demo people, started for this one command and stopped after it. */
async function sandboxCli(argv: string[], flags: GlobalFlags, log: ReturnType<typeof createLogger>): Promise<number> {
  // Imported here: the sandbox is development code, never on the production path.
  const [demo, sandbox] = await Promise.all([importDevOnly(() => import('./console/demo.js')), importDevOnly(() => import('./sandbox/platform.js'))]);
  if (!demo || !sandbox) {
    io.stderr(`error: --sandbox ${DEV_ONLY_MISSING}`);
    return 2;
  }
  const { DEMO_CHANNELS, DEMO_USERS, demoConfig } = demo;
  const { SANDBOX_CLI_SILENCES, SANDBOX_WORLD, startSandboxPlatform } = sandbox;
  const people = Object.values(DEMO_USERS);
  const person = people.find((p) => p.name === (flags.as ?? DEMO_USERS.admin.name));
  if (!person) {
    io.stderr(`error: --as takes ${people.map((p) => `${p.name} (${p.title.split(' · ')[1]})`).join(', ')}`);
    return 2;
  }
  // Each command runs on a fresh world; the bucket is kept, so `backups` lists what `backup` made.
  const platform = await startSandboxPlatform({ world: SANDBOX_WORLD, s3Dir: join(tmpdir(), 'vlinders-ops-sandbox', 's3') });
  try {
    const config = platform.configure(demoConfig(undefined, platform.clusters));
    if (!platform.postgres) io.stderr('note: PostgreSQL is not installed, so backups and database checks have nothing to run against (apt-get install postgresql).');
    // A fresh world per command: its confirmations and locks need not outlive it.
    return await runCli(argv, { config, commands, log, io, user: person.id, channelId: DEMO_CHANNELS.ops.id, rbac: config.rbac, services: platform.services, store: new MemoryStore(), silencesOff: SANDBOX_CLI_SILENCES });
  } finally {
    await platform.close();
  }
}

async function cli(argv: string[]): Promise<number> {
  const flags = splitGlobalFlags(argv);
  if (flags.help || flags.words.length === 0 || flags.words[0] === 'help') return help(flags);
  // Logs go to stderr so stdout carries only the report (pipe it, or use --json).
  const log = createLogger(process.env.VLINDERS_OPS_LOG_LEVEL ?? 'warn', pino.destination({ fd: 2, sync: true }));
  if (flags.sandbox) return sandboxCli(argv, flags, log);
  if (flags.as !== undefined) {
    io.stderr('error: --as picks one of the sandbox\'s demo people: use it with --sandbox.');
    return 2;
  }
  const env = loadEnv();
  if (!existsSync(env.VLINDERS_OPS_CONFIG)) {
    io.stderr(`No config at ${env.VLINDERS_OPS_CONFIG}: copy vlinders-ops.example.yaml there (or set VLINDERS_OPS_CONFIG), or try the sandbox: vlinders-ops --sandbox ${flags.words.join(' ')}`);
    return 2;
  }
  const config = await loadConfigFile(env.VLINDERS_OPS_CONFIG);
  return runCli(argv, { config, commands, log, io });
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
