// `vlinders-ops <command> [args] [--json] [--yes]`: the same engine, renderer and audit as
// Slack. A change asks at the terminal (or takes --yes); a destructive one needs a second
// person and is refused here: run it from Slack.
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { userInfo } from 'node:os';
import type { Logger } from 'pino';
import { renderChartPng, type LineChart } from '../charts/index.js';
import type { Command, Caller } from '../core/command.js';
import type { Report } from '../core/report.js';
import type { Config } from '../config/schema.js';
import { plainMentions } from '../core/mention.js';
import type { ServiceDirectory } from '../core/services.js';
import type { Store } from '../core/store.js';
import { configuredClusters } from '../kube/directory.js';
import { buildEngine, cliRbac, stateStore } from '../wiring.js';
import { renderJson, renderText, terminalText } from './render.js';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Asks a yes/no question; undefined when there is no terminal to ask. */
  confirm?: (question: string) => Promise<boolean>;
}

export interface CliOptions {
  config: Config;
  commands: readonly Command[];
  log: Logger;
  io: CliIO;
  user?: string;
  /** Where the terminal's caller stands (default "cli"): the sandbox's people hold their roles in #ops. */
  channelId?: string;
  /** The RBAC to hold the caller to; default the config's cli.role for this one user. */
  rbac?: Config['rbac'];
  /** Kubernetes clusters; default those of config.clusters. */
  services?: ServiceDirectory;
  /** Pending actions and locks; default the bot's own store when a cluster is configured, so the terminal waits on the bot's locks. */
  store?: Store;
  /** What `silence …` answers instead of the config's requirements (the sandbox, whose alert thread lives in the console). */
  silencesOff?: string;
}

export interface GlobalFlags {
  words: string[];
  json: boolean;
  yes: boolean;
  help: boolean;
  sandbox: boolean;
  /** --as NAME: the sandbox's demo person. */
  as?: string;
  /** --chart FILE: where the report's chart goes as a PNG. */
  chart?: string;
}

/** Global flags the CLI takes for itself, wherever they stand before `--`. */
export function splitGlobalFlags(argv: readonly string[]): GlobalFlags {
  const flags: GlobalFlags = { words: [], json: false, yes: false, help: false, sandbox: false };
  let passthrough = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (passthrough) flags.words.push(word);
    else if (word === '--') {
      passthrough = true;
      flags.words.push(word);
    } else if (word === '--json') flags.json = true;
    else if (word === '--yes' || word === '-y') flags.yes = true;
    else if (word === '--help' || word === '-h') flags.help = true;
    else if (word === '--sandbox') flags.sandbox = true;
    else if (word === '--as') flags.as = argv[++i] ?? '';
    else if (word.startsWith('--as=')) flags.as = word.slice('--as='.length);
    else if (word === '--chart') flags.chart = argv[++i] ?? '';
    else if (word.startsWith('--chart=')) flags.chart = word.slice('--chart='.length);
    else flags.words.push(word);
  }
  return flags;
}

/** Runs one command; resolves to the process exit code. */
export async function runCli(argv: readonly string[], given: CliOptions): Promise<number> {
  // Errors and progress can carry the bot's mentions (who holds a lock): plain on a terminal.
  const opts: CliOptions = { ...given, io: { ...given.io, stdout: (t) => given.io.stdout(plainMentions(t)), stderr: (t) => given.io.stderr(plainMentions(t)) } };
  const { words, json, yes, chart } = splitGlobalFlags(argv);
  if (chart === '') {
    opts.io.stderr('error: --chart takes the PNG file to write: --chart digest.png');
    return 2;
  }
  const userId = opts.user ?? `cli:${userInfo().username}`;
  const services = opts.services ?? configuredClusters(opts.config.clusters);
  // The bot's store (ConfigMaps on the first cluster): a backup or a serving change the bot is
  // running holds its lock there, and the terminal must see it.
  const store = opts.store ?? stateStore(opts.config, services);
  const engine = buildEngine({ config: opts.config, commands: opts.commands, log: opts.log, rbac: opts.rbac ?? cliRbac(opts.config, userId), services, store });
  if (opts.silencesOff) engine.alertSilencesOff(opts.silencesOff);
  const caller: Caller = { userId, channelId: opts.channelId ?? 'cli', surface: 'cli' };
  const controller = new AbortController();
  const io = { progress: async (line: string) => opts.io.stderr(`… ${terminalText(line)}`), signal: controller.signal };
  const print = (report: Parameters<typeof renderText>[0]) => {
    opts.io.stdout(json ? renderJson(report) : terminalText(renderText(report)));
    if (chart !== undefined) writeCharts(report, chart, opts.io);
  };
  const fail = (message: string) => opts.io.stderr(terminalText(`error: ${message}`));

  const outcome = await engine.invoke(caller, words, io);
  if (outcome.kind === 'error') {
    fail(outcome.message);
    if (!opts.rbac && !opts.config.cli.role) opts.io.stderr('hint: the terminal has no role; set cli.role in the config file.');
    return 2;
  }
  if (outcome.kind === 'report') {
    print(outcome.report);
    return outcome.report.status === 'fail' ? 1 : 0;
  }

  opts.io.stderr(terminalText(renderText(outcome.plan)));
  if (outcome.action.risk === 'destructive') {
    opts.io.stderr(`${outcome.command.name} is destructive: a second person must approve it. Run it from Slack.`);
    return 3;
  }
  let approved = yes;
  if (!approved) {
    if (!opts.io.confirm) {
      opts.io.stderr('Not approved: there is no terminal to ask. Pass --yes to approve.');
      return 3;
    }
    approved = await opts.io.confirm('Approve? [y/N] ');
  }
  const decision = await engine.decide(outcome.action.id, caller, approved ? 'approve' : 'cancel');
  if (decision.kind === 'refused') {
    fail(decision.message);
    return 3;
  }
  if (decision.kind === 'cancelled') {
    opts.io.stderr('Cancelled.');
    return 3;
  }
  const report = await engine.execute(decision.action, decision.command, io, 'cli');
  print(report);
  return report.status === 'fail' ? 1 : 0;
}

/**
 * The report's charts (its thread's too) as PNG files: the first at `file`, the next ones
 * beside it as name-2.png, name-3.png; says on stderr what it wrote, or that there was none.
 */
export function writeCharts(report: Report, file: string, io: CliIO): void {
  const charts = allCharts(report);
  if (charts.length === 0) {
    io.stderr('--chart: this report has no chart.');
    return;
  }
  const ext = extname(file);
  const stem = ext ? file.slice(0, -ext.length) : file;
  for (const [i, c] of charts.entries()) {
    const path = i === 0 ? file : `${stem}-${i + 1}${ext || '.png'}`;
    writeFileSync(path, renderChartPng(c));
    io.stderr(terminalText(`chart "${c.title}" written to ${path}`));
  }
}

const allCharts = (report: Report): LineChart[] => [...(report.charts ?? []), ...(report.thread ?? []).flatMap(allCharts)];

/** A y/N prompt on the terminal, or undefined when stdin is not one. */
export function terminalConfirm(): CliIO['confirm'] {
  if (!process.stdin.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  };
}
