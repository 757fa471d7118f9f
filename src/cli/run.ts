// `vlinders-ops <command> [args] [--json] [--yes]`: the same engine, renderer and audit as
// Slack. A change asks at the terminal (or takes --yes); a destructive one needs a second
// person and is refused here: run it from Slack.
import { createInterface } from 'node:readline/promises';
import { userInfo } from 'node:os';
import type { Logger } from 'pino';
import type { Command, Caller } from '../core/command.js';
import type { Config } from '../config/schema.js';
import { plainMentions } from '../core/mention.js';
import { buildEngine, cliRbac } from '../wiring.js';
import { renderJson, renderText } from './render.js';

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
}

/** Global flags the CLI takes for itself, wherever they stand before `--`. */
export function splitGlobalFlags(argv: readonly string[]): { words: string[]; json: boolean; yes: boolean } {
  const words: string[] = [];
  let json = false;
  let yes = false;
  let passthrough = false;
  for (const word of argv) {
    if (!passthrough && word === '--json') json = true;
    else if (!passthrough && (word === '--yes' || word === '-y')) yes = true;
    else {
      if (word === '--') passthrough = true;
      words.push(word);
    }
  }
  return { words, json, yes };
}

/** Runs one command; resolves to the process exit code. */
export async function runCli(argv: readonly string[], given: CliOptions): Promise<number> {
  // Errors and progress can carry the bot's mentions (who holds a lock): plain on a terminal.
  const opts: CliOptions = { ...given, io: { ...given.io, stdout: (t) => given.io.stdout(plainMentions(t)), stderr: (t) => given.io.stderr(plainMentions(t)) } };
  const { words, json, yes } = splitGlobalFlags(argv);
  const userId = opts.user ?? `cli:${userInfo().username}`;
  const engine = buildEngine({ config: opts.config, commands: opts.commands, log: opts.log, rbac: cliRbac(opts.config, userId) });
  const caller: Caller = { userId, channelId: 'cli', surface: 'cli' };
  const controller = new AbortController();
  const io = { progress: async (line: string) => opts.io.stderr(`… ${line}`), signal: controller.signal };
  const print = (report: Parameters<typeof renderText>[0]) => opts.io.stdout(json ? renderJson(report) : renderText(report));

  const outcome = await engine.invoke(caller, words, io);
  if (outcome.kind === 'error') {
    opts.io.stderr(`error: ${outcome.message}`);
    if (!opts.config.cli.role) opts.io.stderr('hint: the terminal has no role; set cli.role in the config file.');
    return 2;
  }
  if (outcome.kind === 'report') {
    print(outcome.report);
    return outcome.report.status === 'fail' ? 1 : 0;
  }

  opts.io.stderr(renderText(outcome.plan));
  if (outcome.command.risk === 'destructive') {
    opts.io.stderr(`\`${outcome.command.name}\` is destructive: a second person must approve it. Run it from Slack.`);
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
    opts.io.stderr(`error: ${decision.message}`);
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
