// The terminal's help: what the binary takes and every command, read off the command
// definitions. It needs no config, so `--help` works on a fresh clone.
import { resolveCommand, type Command } from '../core/command.js';

const EFFECT = { read: 'reads', change: 'changes (approve)', destructive: 'destructive (two people: Slack only)' } as const;

export const CLI_USAGE = `vlinders-ops: the Vlinders runbook from a terminal

Usage: vlinders-ops [options] <command> [arguments]
       vlinders-ops serve        the Slack bot (or, with no Slack tokens, the local console)

Options:
  --sandbox    run against the sandbox cluster (the console's world): no config or kubeconfig needed
  --as NAME    with --sandbox, act as a demo person: vera (viewer), otto (operator), ada (admin; default)
  --json       print the report as JSON
  --chart FILE write the report's charts as PNGs, FILE then FILE-2… (digest daily, weekly, monthly, slo, diagnose latency)
  --yes, -y    approve a change without asking
  --help, -h   this help; \`<command> --help\` explains one command

Without --sandbox the config is ./vlinders-ops.yaml (or $VLINDERS_OPS_CONFIG), and the terminal
holds the role in its cli.role.`;

/** The command the words name ("backup prune" over "backup"), as the engine reads them. */
export function findCommand(commands: readonly Command[], words: readonly string[]): Command | undefined {
  return resolveCommand(new Map(commands.map((c) => [c.name, c])), words)?.command;
}

export function commandHelp(command: Command): string {
  return [
    `${command.usage}`,
    '',
    command.summary,
    '',
    `Needs:   the ${command.role} role`,
    `Effect:  ${EFFECT[command.risk]}`,
    ...(command.examples?.length ? ['', 'Examples:', ...command.examples.map((e) => `  vlinders-ops ${e}`)] : []),
  ].join('\n');
}

export function cliHelp(commands: readonly Command[]): string {
  // Two lines a command: the summaries are too long for a table in an 80-column terminal.
  const list = [...commands].sort((a, b) => a.name.localeCompare(b.name)).flatMap((c) => [`  ${c.usage}`, `      ${c.summary} (${c.role}; ${EFFECT[c.risk]})`]);
  return [CLI_USAGE, '', 'Commands:', ...list, '', 'Try: vlinders-ops --sandbox status'].join('\n');
}
