// The command engine: the flows of ARCHITECTURE.md that don't depend on the surface.
// Slack and the terminal both call invoke() → (confirm →) decide() → execute(), so
// parsing, RBAC, confirmations and audit behave the same wherever a command comes from.
import { randomBytes } from 'node:crypto';
import { closest, distance } from 'fastest-levenshtein';
import type { Logger } from 'pino';
import { configForCluster } from '../config/clusters.js';
import type { BackupMetrics } from '../http/metrics.js';
import type { Config } from '../config/schema.js';
import { parseArgs, tokenize } from './args.js';
import type { Audit } from './audit.js';
import { resolveCommand, type Caller, type Catalog, type Command, type CommandContext, type Risk } from './command.js';
import { ConfirmationError, NothingToDoError, NotFoundError, UsageError, UserFacingError, errorMessage } from './errors.js';
import type { PendingAction, PendingActions } from './pending.js';
import type { Decision, Rbac } from './rbac.js';
import { redactText } from './redact.js';
import { redactReport, type Report } from './report.js';
import type { ServiceDirectory, Services } from './services.js';
import { deleteWhere, retryingStoreWrite } from './store.js';
import type { ThreadPoster } from '../incidents/alert-threads.js';
import { Incidents, type TimelineKind } from '../incidents/incidents.js';
import type { IncidentRooms } from '../incidents/rooms.js';
import type { AlertSilences } from '../incidents/silences.js';

const NO_CLUSTERS: ServiceDirectory = {
  clusterNames: () => [],
  forCluster: (name) => {
    if (name !== undefined) throw new UsageError(`unknown cluster "${name}"; no clusters are configured`);
    return {
      clusterName: undefined,
      kube: () => {
        throw new UsageError('no Kubernetes cluster is configured: add one under `clusters:` in the config file');
      },
    };
  },
};

/** `--cluster NAME` (or `--cluster=NAME`) belongs to every command: taken out before parsing. */
export function takeClusterFlag(words: readonly string[]): { cluster?: string; words: string[] } {
  const out: string[] = [];
  let cluster: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word === '--') {
      out.push(...words.slice(i));
      break;
    }
    const value = word === '--cluster' ? words[++i] : word.startsWith('--cluster=') ? word.slice('--cluster='.length) : undefined;
    if (value === undefined && word !== '--cluster') {
      out.push(word);
      continue;
    }
    if (!value) throw new UsageError('--cluster needs a value');
    if (cluster !== undefined) throw new UsageError('--cluster given twice');
    cluster = value;
  }
  return { cluster, words: out };
}

export interface RunIO {
  progress(text: string): Promise<void>;
  signal: AbortSignal;
}

export type InvokeOutcome =
  /** Shown only to the caller; nothing ran. */
  | { kind: 'error'; message: string }
  /** A read command ran. */
  | { kind: 'report'; report: Report; command: Command }
  /** A change waits for approval. */
  | { kind: 'confirm'; action: PendingAction; plan: Report; command: Command };

export type DecideOutcome =
  | { kind: 'refused'; message: string }
  | { kind: 'cancelled'; action: PendingAction; command: Command }
  | { kind: 'approved'; action: PendingAction; command: Command };

export interface EngineDeps {
  commands: readonly Command[];
  /** Outside systems per cluster; none configured when absent. */
  services?: ServiceDirectory;
  rbac: Rbac;
  pending: PendingActions;
  audit: Audit;
  config: Config;
  log: Logger;
  now?: () => number;
  /** Where backups report their outcome (the ops server's /metrics); absent in the terminal. */
  metrics?: BackupMetrics;
}

const SUGGESTION = 'suggestion';
/** Who runs scheduled commands, in the audit log and on locks. */
export const SCHEDULE_CALLER = 'vlinders-ops schedule';
const SUGGESTION_TTL_MS = 24 * 60 * 60 * 1000;

const REFUSALS: Record<'unknown' | 'expired' | 'handled', string> = {
  unknown: 'This confirmation is unknown here: it may have been cleaned up. Run the command again.',
  expired: 'This confirmation has expired. Run the command again to get a fresh one.',
  handled: 'This confirmation was already handled.',
};

export class CommandEngine {
  private byName = new Map<string, Command>();
  private now: () => number;
  /** Declared incidents; set by the Slack bot (useIncidents) when alerts.channel is configured. */
  private incidents?: Incidents;
  /** Alertmanager silences of alert groups; set by the alert route (useAlertSilences). */
  private silences?: AlertSilences;
  /** Why there are no silences, when someone knows better than the config (alertSilencesOff). */
  private silencesOff?: string;

  constructor(private deps: EngineDeps) {
    for (const command of deps.commands) {
      if (this.byName.has(command.name)) throw new Error(`command "${command.name}" is defined twice`);
      this.byName.set(command.name, command);
    }
    this.now = deps.now ?? Date.now;
  }

  get commands(): readonly Command[] {
    return this.deps.commands;
  }

  /** The configured clusters, by name (none when the bot runs without Kubernetes). */
  clusterNames(): string[] {
    return (this.deps.services ?? NO_CLUSTERS).clusterNames();
  }

  /** Where pending actions and incidents live (the Home tab lists what is running and open). */
  get store(): PendingActions['store'] {
    return this.deps.pending.store;
  }

  /** May `caller` run `name` where they are, on `cluster`? For offering buttons and forms; the run checks again. */
  async allows(caller: Caller, name: string, cluster?: string): Promise<boolean> {
    const command = this.byName.get(name);
    return command !== undefined && (await this.deps.rbac.authorize(caller.userId, caller.channelId, command, this.clusterName(cluster))).allowed;
  }

  /**
   * A read for a form's choices or the Home tab, as `caller`, who must hold a role where they
   * are: the cluster's services and its settings. It changes nothing, so it is not audited.
   */
  async lookup<T>(caller: Caller, cluster: string | undefined, read: (on: { services: Services; config: Config }) => Promise<T>): Promise<T> {
    if (!(await this.deps.rbac.roleOf(caller.userId, caller.channelId, this.clusterName(cluster)))) throw new UserFacingError('you hold no vlinders-ops role here.');
    const services = (this.deps.services ?? NO_CLUSTERS).forCluster(cluster);
    return read({ services, config: configForCluster(this.deps.config, services.clusterName) });
  }

  /** The command named by the first one or two words, and the words after it. */
  resolve(words: string[]): { command: Command; rest: string[] } | undefined {
    return resolveCommand(this.byName, words);
  }

  private nearestName(words: string[]): string {
    const names = [...this.byName.keys()];
    const typed = words.slice(0, 2).join(' ');
    const first = words[0] ?? '';
    const candidates = [closest(typed, names), closest(first, names)];
    const best = candidates.sort((a, b) => distance(first, a) - distance(first, b))[0];
    const near = best !== undefined && (distance(first, best.split(' ')[0] ?? best) <= Math.max(2, first.length / 3) || best.startsWith(first));
    return near ? ` Did you mean \`${best}\`?` : '';
  }

  /** The configured name of the cluster a command runs on (`--cluster`, or the default one). */
  private clusterName(requested: string | undefined): string | undefined {
    return (this.deps.services ?? NO_CLUSTERS).forCluster(requested).clusterName;
  }

  private async catalogFor(caller: Caller, cluster: string | undefined): Promise<Catalog> {
    const visible: Command[] = [];
    for (const command of this.deps.commands) {
      if ((await this.deps.rbac.authorize(caller.userId, caller.channelId, command, this.clusterName(cluster))).allowed) visible.push(command);
    }
    return { visible, find: (name) => visible.find((c) => c.name === name) };
  }

  private async context(caller: Caller, role: CommandContext['role'], command: Command, io: RunIO, cluster: string | undefined): Promise<CommandContext> {
    const services = (this.deps.services ?? NO_CLUSTERS).forCluster(cluster);
    return {
      services,
      caller,
      role,
      // That cluster's own settings (its overrides) merged over the top level.
      config: configForCluster(this.deps.config, services.clusterName),
      log: this.deps.log.child({ command: command.name, user: caller.userId }),
      catalog: await this.catalogFor(caller, cluster),
      // Progress lines quote outside systems (pod logs, API errors): redacted like Reports.
      progress: (text) => io.progress(redactText(text)),
      signal: io.signal,
      store: this.deps.pending.store,
      incidents: this.incidents,
      silences: this.silences,
      silencesOff: this.silencesOff,
      metrics: this.deps.metrics,
    };
  }

  /**
   * Turns on `incident …` commands: incidents live in the same store as pending actions and
   * are posted through `poster` into `channel`. The Slack bot calls this; the CLI doesn't.
   */
  useIncidents(poster: ThreadPoster, channel: string, rooms?: IncidentRooms): Incidents {
    this.incidents = new Incidents(this.deps.pending.store, poster, channel, this.now, rooms, (err) => this.deps.log.warn({ err }, 'could not edit an incident summary'));
    return this.incidents;
  }

  /** The incidents, once useIncidents turned them on (alert threads and 📌 marks feed their timelines). */
  get incidentLog(): Incidents | undefined {
    return this.incidents;
  }

  /** Turns on `silence …` commands: the alert route calls this when Alertmanager's URL is configured. */
  useAlertSilences(silences: AlertSilences): void {
    this.silences = silences;
  }

  /** What `silence …` commands answer while there are none (the sandbox: Alertmanager is not installed). */
  alertSilencesOff(reason: string): void {
    this.silencesOff = reason;
  }

  /** Flow 1: parse, authorize, then run a read command or plan a change. */
  async invoke(caller: Caller, input: string | readonly string[], io: RunIO, opts: { system?: boolean } = {}): Promise<InvokeOutcome> {
    const outcome = await this.invokeOnce(caller, input, io, opts);
    // A person's command run for an incident (in its channel or thread) goes in its timeline.
    // `incident …` commands write their own entries; the bot's own runs (opts.system) don't count.
    if (!opts.system && outcome.kind !== 'error' && !outcome.command.name.startsWith('incident ')) {
      const typed = redactText((typeof input === 'string' ? input : input.join(' ')).trim());
      const what = outcome.kind === 'confirm' ? 'asked to run' : 'ran';
      await this.noteForIncident(caller, `${what} \`${typed}\`${outcome.kind === 'report' ? ` (${outcome.report.status})` : ''}`, 'command');
    }
    return outcome;
  }

  /** A timeline entry for the incident whose channel (or thread) this happened in; the timeline is a side record, so it never fails the caller. */
  private async noteForIncident(caller: Caller, text: string, kind: TimelineKind): Promise<void> {
    await this.incidents?.note(caller, text, kind).catch((err: unknown) => this.deps.log.warn({ err }, 'could not record in the incident timeline'));
  }

  /**
   * `system`: the bot acting on its own (a diagnosis attached to an alert). It has no RBAC
   * binding, so it may run read commands only; it is audited under the caller's id.
   */
  private async invokeOnce(caller: Caller, input: string | readonly string[], io: RunIO, opts: { system?: boolean }): Promise<InvokeOutcome> {
    const text = typeof input === 'string' ? input : input.join(' ');
    const started = this.now();
    const base = { user: caller.userId, channel: caller.channelId, surface: caller.surface } as const;
    const args = redactText(text.trim());
    let words: string[];
    try {
      // The terminal hands over words its shell already split; Slack hands over text.
      words = typeof input === 'string' ? tokenize(input) : [...input];
    } catch (err) {
      this.deps.audit.record({ ...base, event: 'usage_error', args, detail: errorMessage(err) });
      return { kind: 'error', message: `${errorMessage(err)}.` };
    }
    if (words.length === 0) words = ['help'];
    const resolved = this.resolve(words);
    if (!resolved) {
      const name = words[0] ?? '';
      this.deps.audit.record({ ...base, event: 'usage_error', args, detail: `unknown command ${name}` });
      return { kind: 'error', message: `Unknown command \`${name}\`.${this.nearestName(words)} Try \`help\`.` };
    }
    const { command, rest } = resolved;
    const audit = { ...base, command: command.name, args: redactText(rest.join(' ')) };

    let parsed: unknown;
    let cluster: string | undefined;
    try {
      ({ cluster, parsed } = this.wordsOf(command, rest));
    } catch (err) {
      this.deps.audit.record({ ...audit, event: 'usage_error', detail: errorMessage(err) });
      return { kind: 'error', message: `${errorMessage(err)}\nUsage: \`${command.usage}\`` };
    }
    try {
      this.clusterOf(cluster);
    } catch (err) {
      // The words were right; the cluster is what's wrong, so the usage line would mislead.
      this.deps.audit.record({ ...audit, event: 'usage_error', detail: errorMessage(err) });
      return { kind: 'error', message: errorMessage(err) };
    }

    const decision: Decision = opts.system
      ? command.risk === 'read'
        ? { allowed: true, role: 'viewer' }
        : { allowed: false, reason: `\`${command.name}\` changes the platform: it never runs automatically; offer it as a button instead.` }
      : await this.deps.rbac.authorize(caller.userId, caller.channelId, command, this.clusterName(cluster));
    if (!decision.allowed) {
      this.deps.audit.record({ ...audit, event: 'deny', detail: decision.reason });
      return { kind: 'error', message: decision.reason };
    }
    this.deps.audit.record({ ...audit, event: 'invoke' });
    const ctx = await this.context(caller, decision.role, command, io, cluster);

    if (command.risk === 'read') {
      const report = await this.guarded(command, () => command.run(ctx, parsed));
      if ('error' in report) {
        this.deps.audit.record({ ...audit, event: 'outcome', outcome: 'refused', detail: report.error, durationMs: this.now() - started });
        return { kind: 'error', message: report.error };
      }
      this.deps.audit.record({ ...audit, event: 'outcome', outcome: report.report.status, durationMs: this.now() - started });
      return { kind: 'report', report: report.report, command };
    }

    let pin: unknown;
    let risk: Risk = command.risk;
    const plan = await this.guarded(command, async () => {
      const planned = await (command.plan as NonNullable<Command['plan']>)(ctx, parsed);
      pin = planned.pin;
      if (planned.risk === 'destructive') risk = 'destructive';
      return planned;
    });
    if ('error' in plan) {
      this.deps.audit.record({ ...audit, event: 'outcome', outcome: 'refused', detail: plan.error, durationMs: this.now() - started });
      return { kind: 'error', message: plan.error };
    }
    if (plan.report.status === 'fail') {
      // A plan that fails (out of bounds, nothing to do) is shown, but never offered for approval.
      this.deps.audit.record({ ...audit, event: 'outcome', outcome: 'fail', detail: plan.report.summary, durationMs: this.now() - started });
      return { kind: 'report', report: plan.report, command };
    }
    const action = await this.deps.pending.create({
      command: command.name,
      words: rest,
      requester: caller.userId,
      channel: caller.channelId,
      threadTs: caller.threadTs,
      risk,
      role: command.role,
      pin,
    });
    this.deps.audit.record({ ...audit, event: 'confirm_requested', actionId: action.id });
    return { kind: 'confirm', action, plan: plan.report, command };
  }

  /**
   * Remembers a command the runbook suggests (an alert's remedy) behind an opaque id, for a
   * button. Clicking it runs the command as the clicker, through the normal flow.
   */
  async offer(words: readonly string[], where: { channel: string; threadTs?: string }): Promise<string> {
    const id = randomBytes(18).toString('base64url');
    await this.deps.pending.store.create(SUGGESTION, id, { words: [...words], ...where, expiresAt: this.now() + SUGGESTION_TTL_MS });
    return id;
  }

  /** A click on a suggestion button: the command as the clicker typed it, in the thread it was offered in. */
  async invokeSuggestion(id: string, clicker: Caller, io: RunIO): Promise<InvokeOutcome & { where?: { channel: string; threadTs?: string } }> {
    const entry = /^[A-Za-z0-9_-]{16,64}$/.test(id) ? await this.deps.pending.store.get<{ words: string[]; channel: string; threadTs?: string; expiresAt: number }>(SUGGESTION, id) : undefined;
    if (!entry) return { kind: 'error', message: REFUSALS.unknown };
    if (entry.value.expiresAt <= this.now()) return { kind: 'error', message: 'This suggestion has expired. Run the command yourself if it is still needed.' };
    const { words, channel, threadTs } = entry.value;
    const outcome = await this.invoke({ ...clicker, channelId: channel, threadTs }, words, io);
    return { ...outcome, where: { channel, threadTs } };
  }

  /** Drops pending actions and suggestions long past their expiry, so the store doesn't grow. Returns how many. */
  async sweepExpired(graceMs = 60 * 60 * 1000): Promise<number> {
    const actions = await this.deps.pending.sweep(graceMs);
    return actions + (await deleteWhere<{ expiresAt: number }>(this.deps.pending.store, SUGGESTION, (s) => s.expiresAt + graceMs <= this.now()));
  }

  /** Remembers where the confirmation card was posted, for later updates. */
  async attachCard(actionId: string, card: { channel: string; ts: string }): Promise<void> {
    await this.deps.pending.attachCard(actionId, card);
  }

  /**
   * A change whose card could not be shown (the surface can't post it): it is closed as cancelled,
   * so nobody can approve a plan nobody saw, and the audit says why.
   */
  async withdraw(actionId: string, caller: Caller, why: string): Promise<void> {
    const claim = await this.deps.pending.claim(actionId, caller.userId, 'cancelled');
    if (!claim.ok) return;
    this.deps.audit.record({
      user: caller.userId,
      channel: caller.channelId,
      surface: caller.surface,
      actionId,
      event: 'cancel',
      command: claim.action.command,
      args: redactText(claim.action.words.join(' ')),
      detail: why,
    });
  }

  /** Flow 2: a click on Approve or Cancel. Checks, then claims atomically. */
  async decide(actionId: string, clicker: Caller, decision: 'approve' | 'cancel'): Promise<DecideOutcome> {
    const base = { user: clicker.userId, channel: clicker.channelId, surface: clicker.surface, actionId } as const;
    const refuse = (message: string, command?: string): DecideOutcome => {
      this.deps.audit.record({ ...base, event: 'refuse', command, detail: message });
      return { kind: 'refused', message };
    };
    const action = await this.deps.pending.get(actionId);
    if (!action) return refuse(REFUSALS.unknown);
    const command = this.byName.get(action.command);
    if (!command) return refuse(`\`${action.command}\` no longer exists in this version of vlinders-ops.`, action.command);
    if (action.state !== 'pending') return refuse(REFUSALS.handled, action.command);
    if (action.expiresAt <= this.now()) return refuse(REFUSALS.expired, action.command);

    const cluster = this.clusterName(takeClusterFlag(action.words).cluster);
    if (decision === 'cancel') {
      // The requester may always withdraw; others need the right to run it.
      if (clicker.userId !== action.requester) {
        const may = await this.deps.rbac.authorize(clicker.userId, action.channel, command, cluster);
        if (!may.allowed) return refuse(may.reason, action.command);
      }
    } else {
      // The action's own risk: its plan may have made this invocation destructive.
      const risk = action.risk === 'destructive' ? 'destructive' : command.risk;
      const may = await this.deps.rbac.authorizeApproval(clicker.userId, action.channel, { ...command, risk }, action.requester, cluster);
      if (!may.allowed) return refuse(may.reason, action.command);
    }

    const claim = await this.deps.pending.claim(actionId, clicker.userId, decision === 'approve' ? 'running' : 'cancelled');
    if (!claim.ok) return refuse(REFUSALS[claim.reason], action.command);
    this.deps.audit.record({
      ...base,
      event: decision === 'approve' ? 'approve' : 'cancel',
      command: command.name,
      args: redactText(action.words.join(' ')),
      requester: action.requester,
    });
    await this.noteForIncident(
      { userId: clicker.userId, channelId: action.channel, threadTs: action.threadTs, surface: clicker.surface },
      `${decision === 'approve' ? 'approved' : 'cancelled'} \`${redactText([command.name, ...action.words].join(' '))}\``,
      'approval',
    );
    return decision === 'approve'
      ? { kind: 'approved', action: claim.action, command }
      : { kind: 'cancelled', action: claim.action, command };
  }

  /** Runs an approved action as its requester, and records the outcome. */
  async execute(action: PendingAction, command: Command, io: RunIO, surface: Caller['surface']): Promise<Report> {
    const started = this.now();
    const caller: Caller = { userId: action.requester, channelId: action.channel, threadTs: action.threadTs, surface };
    const split = takeClusterFlag(action.words);
    const role = (await this.deps.rbac.roleOf(action.requester, action.channel, this.clusterName(split.cluster))) ?? command.role;
    const result = await this.guarded(command, async () => {
      const ctx = await this.context(caller, role, command, io, split.cluster);
      return command.run({ ...ctx, pin: action.pin }, parseArgs(split.words, command.args, command));
    });
    const report: Report = 'error' in result ? { title: command.name, status: 'fail', summary: result.error } : result.report;
    // The action ran: its outcome is audited before anything else can fail, and a store that
    // can't take the final state (retried) doesn't keep the report from the requester.
    this.deps.audit.record({
      event: 'outcome',
      user: action.requester,
      channel: action.channel,
      surface,
      command: command.name,
      args: redactText(action.words.join(' ')),
      actionId: action.id,
      outcome: report.status,
      detail: report.status === 'fail' ? report.summary : undefined,
      durationMs: this.now() - started,
    });
    await this.noteForIncident(caller, `outcome of \`${redactText([command.name, ...action.words].join(' '))}\`: ${report.status}${report.summary ? ` (${redactText(report.summary).slice(0, 200)})` : ''}`, 'outcome');
    try {
      await retryingStoreWrite(() => this.deps.pending.finish(action.id, report.status === 'fail' ? 'failed' : 'succeeded'));
    } catch (err) {
      this.deps.log.error({ err, actionId: action.id, command: command.name }, 'the action ran, but its final state could not be written to the store');
    }
    return report;
  }

  /**
   * What a scheduled run (config schedule.runs) would run, or why it can't: the command must
   * exist, parse, and be schedulable. Checked at start, so a bad schedule stops the bot there.
   */
  scheduled(input: string): { command: Command; words: string[]; cluster?: string; parsed: unknown } {
    const words = tokenize(input);
    const resolved = this.resolve(words);
    if (!resolved) throw new UsageError(`\`${input}\` is not a command.${this.nearestName(words)}`);
    const { command, rest } = resolved;
    if (command.risk !== 'read' && !command.schedulable) {
      throw new UsageError(`\`${command.name}\` changes the platform and must be approved each time: it can't be scheduled (schedulable: ${this.commands.filter((c) => c.schedulable).map((c) => c.name).join(', ')}).`);
    }
    return { command, words: rest, ...this.argsOf(command, rest) };
  }

  /** The words after a command's name: --cluster (which must be a configured one) and its arguments. */
  private argsOf(command: Command, rest: readonly string[]): { cluster?: string; parsed: unknown } {
    const words = this.wordsOf(command, rest);
    this.clusterOf(words.cluster);
    return words;
  }

  /** The command's words bound to its schema; a UsageError names what is wrong with them. */
  private wordsOf(command: Command, rest: readonly string[]): { cluster?: string; parsed: unknown } {
    const split = takeClusterFlag(rest);
    return { cluster: split.cluster, parsed: parseArgs(split.words, command.args, { ...command, globalFlags: ['cluster'] }) };
  }

  /** Throws when --cluster names no configured cluster (or the kubeconfig can't reach it). */
  private clusterOf(cluster: string | undefined): void {
    (this.deps.services ?? NO_CLUSTERS).forCluster(cluster);
  }

  /**
   * Flow 3: a scheduled run, as the bot itself (SCHEDULE_CALLER), with no Approve: the config
   * that schedules it is the approval. Planned first (a plan that refuses stops it), audited.
   */
  async runScheduled(input: string, io: RunIO, channel: string): Promise<Report> {
    const started = this.now();
    const caller: Caller = { userId: SCHEDULE_CALLER, channelId: channel, surface: 'slack' };
    const base = { user: caller.userId, channel, surface: caller.surface } as const;
    let run: ReturnType<CommandEngine['scheduled']>;
    try {
      run = this.scheduled(input);
    } catch (err) {
      this.deps.audit.record({ ...base, event: 'usage_error', args: redactText(input), detail: errorMessage(err) });
      return { title: redactText(input), status: 'fail', summary: redactText(errorMessage(err)) };
    }
    const { command, parsed } = run;
    const audit = { ...base, command: command.name, args: redactText(run.words.join(' ')) };
    this.deps.audit.record({ ...audit, event: 'invoke', detail: 'scheduled' });
    const ctx = await this.context(caller, command.role, command, io, run.cluster);
    const result = await this.guarded(command, async () => {
      const planned = command.plan ? await command.plan(ctx, parsed) : undefined;
      if (planned?.status === 'fail') return planned;
      return command.run({ ...ctx, pin: planned?.pin }, parsed);
    });
    const report: Report = 'error' in result ? { title: command.name, status: 'fail', summary: result.error } : result.report;
    this.deps.audit.record({ ...audit, event: 'outcome', outcome: report.status, detail: report.status === 'fail' ? report.summary : undefined, durationMs: this.now() - started });
    return report;
  }

  /**
   * Runs plan/run so that nothing escapes: bad input becomes an error for the caller,
   * a failure becomes a failed Report, and an unexpected error is logged with an id.
   */
  private async guarded(command: Command, work: () => Promise<Report>): Promise<{ report: Report } | { error: string }> {
    try {
      const report = await work();
      return { report: redactReport(report) };
    } catch (err) {
      if (err instanceof UsageError) return { error: `${err.message}\nUsage: \`${err.usage ?? command.usage}\`` };
      if (err instanceof NotFoundError || err instanceof ConfirmationError || err instanceof NothingToDoError) return { error: redactText(err.message) };
      if (err instanceof UserFacingError) {
        return { report: { title: command.name, status: 'fail', summary: redactText(err.message) } };
      }
      const errorId = randomBytes(4).toString('hex');
      this.deps.log.error({ err, errorId, command: command.name }, 'command failed unexpectedly');
      return { report: { title: command.name, status: 'fail', summary: `Internal error (id ${errorId}); the details are in the bot's log.` } };
    }
  }
}
