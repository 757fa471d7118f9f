// The command model: one defineCommand({...}) per runbook step, in commands/<name>.ts.
// Like kubectl's commands: args are completed and validated before plan (the dry run)
// or run ever see them.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Config, Role } from '../config/schema.js';
import type { ArgSpec } from './args.js';
import type { Report } from './report.js';
import type { BackupMetrics } from '../http/metrics.js';
import type { Incidents } from '../incidents/incidents.js';
import type { AlertSilences } from '../incidents/silences.js';
import type { Services } from './services.js';
import type { Store } from './store.js';

export type { Role };
export type Risk = 'read' | 'change' | 'destructive';

/** Who asked, and where. `channelId` is 'cli' for the terminal. */
export interface Caller {
  userId: string;
  channelId: string;
  threadTs?: string;
  surface: 'slack' | 'cli';
  /** Their Slack name as the request carried it (slash command, button click); for records outside Slack. */
  userName?: string;
}

/** What a command may see of the catalog (for help): only what this caller may run. */
export interface Catalog {
  visible: readonly Command[];
  find(name: string): Command | undefined;
}

export interface CommandContext {
  caller: Caller;
  /** The caller's effective role where they asked. */
  role: Role;
  config: Config;
  log: Logger;
  catalog: Catalog;
  /** Post a progress line to the thread (Slack) or stderr (terminal). */
  progress(text: string): Promise<void>;
  /** Aborted when the bot shuts down or the operation is cancelled. */
  signal: AbortSignal;
  /** Outside systems for the cluster chosen with --cluster (default: the first). */
  services: Services;
  /** The bot's small shared state (locks of long operations live here, next to pending actions). */
  store: Store;
  /** What the approved plan pinned (see Plan.pin); undefined outside an approved run. */
  pin?: unknown;
  /**
   * Declared incidents (threads in the incidents channel). Set only when the bot runs in
   * Slack with alerts.channel configured; commands say so when it is missing.
   */
  incidents?: Incidents;
  /** Alertmanager silences of alert groups; set only when the alert route runs with prometheus.alertmanagerUrl. */
  silences?: AlertSilences;
  /** Why there are none, when the deployment knows better than the config (the sandbox without Alertmanager). */
  silencesOff?: string;
  /** The ops server's metrics a backup reports to (/metrics); absent in the terminal. */
  metrics?: BackupMetrics;
}

/**
 * A plan is the Report shown on the confirmation card. `pin` holds what the plan saw (a
 * replica count, a resourceVersion) so the run can refuse if it changed before approval.
 * It must be JSON. `risk: 'destructive'` raises this one invocation to two people (scale-gpu
 * to zero workers); a plan never lowers its command's risk.
 */
export type Plan = Report & { pin?: unknown; risk?: 'destructive' };

type AnyArgs = z.ZodObject<Record<string, z.ZodType>>;

export interface CommandDefinition<S extends AnyArgs> extends ArgSpec {
  name: string;
  summary: string;
  usage: string;
  args: S;
  role: Role;
  risk: Risk;
  /**
   * May run on a schedule (config schedule.runs) without an Approve: the config is the approval.
   * Only for changes nobody needs to see first (a backup, a drill on a scratch database).
   */
  schedulable?: boolean;
  examples?: string[];
  /** What will change, shown on the confirmation card. Required unless risk is 'read'. */
  plan?: (ctx: CommandContext, args: z.output<S>) => Promise<Plan>;
  run: (ctx: CommandContext, args: z.output<S>) => Promise<Report>;
}

/** A command with its argument type erased, as the engine and the catalog hold it. */
export interface Command extends ArgSpec {
  name: string;
  summary: string;
  usage: string;
  args: AnyArgs;
  role: Role;
  risk: Risk;
  /**
   * May run on a schedule (config schedule.runs) without an Approve: the config is the approval.
   * Only for changes nobody needs to see first (a backup, a drill on a scratch database).
   */
  schedulable?: boolean;
  examples?: string[];
  plan?: (ctx: CommandContext, args: unknown) => Promise<Plan>;
  run: (ctx: CommandContext, args: unknown) => Promise<Report>;
}

const NAME = /^[a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)?$/;

export function defineCommand<S extends AnyArgs>(def: CommandDefinition<S>): Command {
  if (!NAME.test(def.name)) throw new Error(`command name "${def.name}" must be lower-case words`);
  if (def.risk !== 'read' && !def.plan) {
    throw new Error(`command "${def.name}" changes things (${def.risk}) and must define plan()`);
  }
  if (def.schedulable && def.risk === 'destructive') throw new Error(`command "${def.name}" is destructive: it can't be schedulable`);
  for (const key of [...(def.positional ?? []), ...(def.rest ? [def.rest] : [])]) {
    if (!Object.hasOwn(def.args.shape, key)) throw new Error(`command "${def.name}": "${key}" is not in args`);
  }
  return def as unknown as Command;
}

/** The command the words name, two-word names first ("backup prune" over "backup"), and the words after it. */
export function resolveCommand(byName: ReadonlyMap<string, Command>, words: readonly string[]): { command: Command; rest: string[] } | undefined {
  const byTwo = words.length >= 2 ? byName.get(words.slice(0, 2).join(' ')) : undefined;
  if (byTwo) return { command: byTwo, rest: words.slice(2) };
  const byOne = words[0] === undefined ? undefined : byName.get(words[0]);
  return byOne ? { command: byOne, rest: words.slice(1) } : undefined;
}
