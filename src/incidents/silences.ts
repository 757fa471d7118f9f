// Silences from an alert thread: the thread offers "Silence 1 h / 4 h / until resolved"; the
// `silence add` and `silence expire` commands (the buttons run them, through confirmation)
// create and expire the silence in Alertmanager (API v2), and the thread shows who silenced
// it, until when, and an "Expire silence" button, kept in step in one message.
//
// A silence matches the group's labels. Alertmanager is asked what those matchers match now:
// an alert outside the group (routed to another receiver) makes the silence destructive, so a
// second person must approve it.
import { z } from 'zod';
import type { CommandContext } from '../core/command.js';
import { ConfirmationError, NothingToDoError, NotFoundError, UserFacingError } from '../core/errors.js';
import { mentionUser } from '../core/mention.js';
import type { Report } from '../core/report.js';
import { editEntry, type Store } from '../core/store.js';
import type { AlertmanagerClient, EqualMatcher, GettableAlert } from '../prometheus/alertmanager-api.js';
import { suggestionMessage } from '../slack/cards.js';
import type { Block } from '../slack/blocks.js';
import { truncate } from '../slack/mrkdwn.js';
import { recordedAlertThread, type ThreadState } from './alert-threads.js';

export const SILENCE_LENGTHS = ['1h', '4h', 'until-resolved'] as const;
export type SilenceLength = (typeof SILENCE_LENGTHS)[number];

const HOUR = 3_600_000;
/**
 * "Until resolved" still needs an end (Alertmanager requires one), and the bot expires it when
 * the group resolves. A day: should the bot be down when the group resolves, or the group never
 * resolve, the alert comes back within a working day instead of staying silent for good.
 */
export const UNTIL_RESOLVED_BOUND_MS = 24 * HOUR;
const LENGTH_MS: Record<SilenceLength, number> = { '1h': HOUR, '4h': 4 * HOUR, 'until-resolved': UNTIL_RESOLVED_BOUND_MS };
const BUTTON_LABELS: Record<SilenceLength, string> = { '1h': 'Silence 1 h', '4h': 'Silence 4 h', 'until-resolved': 'Silence until resolved' };

const KIND = 'alert-silence';
/** Alerts listed on a plan card; the count says the rest. */
const LISTED = 10;

/** A silence the bot made for a group, as kept in the store (by the group's id). */
export interface SilenceRecord {
  silenceId: string;
  groupId: string;
  channel: string;
  threadTs: string;
  /** The Slack user who asked for it, and their name as Alertmanager's createdBy has it. */
  by: string;
  createdBy: string;
  endsAt: number;
  untilResolved: boolean;
  /** The thread message that shows it (and its Expire button), updated in place. */
  statusTs?: string;
  /** Set once it no longer silences: expired by someone, by the bot on resolution, or ended. */
  ended?: { at: number; why: string };
}

/** What `silence add` would create, as its plan shows and pins it. */
export interface SilencePlan {
  groupId: string;
  name: string;
  matchers: EqualMatcher[];
  /** Alerts the matchers match now, in the group and outside it. */
  inGroup: GettableAlert[];
  outside: GettableAlert[];
  endsAt: number;
}

/** What a `silence add` plan pins: the run refuses if the matchers or what they reach outside the group changed. */
export interface SilencePin {
  matchers: EqualMatcher[];
  /** Fingerprints of the alerts outside the group the approvers saw. */
  outside: string[];
  /** The requester's Slack name, for Alertmanager's createdBy (the run knows only their id). */
  createdBy: string;
}

export const pinOf = (plan: SilencePlan, createdBy: string): SilencePin => ({ matchers: plan.matchers, outside: plan.outside.map((a) => a.fingerprint), createdBy });

/** What the silences need of Slack: a message in the thread, updated in place, and buttons. */
export interface SilencePoster {
  post(where: { channel: string; threadTs?: string }, text: string, blocks?: Block[]): Promise<string | undefined>;
  update(channel: string, ts: string, text: string, blocks?: Block[]): Promise<void>;
}

export interface AlertSilencesDeps {
  store: Store;
  alertmanager: AlertmanagerClient;
  poster: SilencePoster;
  /** Remembers a command behind a button id (CommandEngine.offer). */
  offer: (words: readonly string[], where: { channel: string; threadTs?: string }) => Promise<string>;
  now?: () => number;
}

/** The alert route's silences, or why there are none. */
export function silencesOf(ctx: CommandContext): AlertSilences {
  if (!ctx.silences) throw new UserFacingError('Silences need the alert route: alerts.channel, ALERTMANAGER_TOKEN and prometheus.alertmanagerUrl must be set.');
  return ctx.silences;
}

/** A group as commands name it: alertGroupId's 40 hex digits, which the thread's buttons carry. */
export const groupIdArg = z.string().regex(/^[0-9a-f]{40}$/, 'expected the alert group id its thread shows (40 hex digits)');

const clock = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const matcherText = (ms: readonly EqualMatcher[]) => ms.map((m) => `${m.name}="${truncate(m.value, 120)}"`).join(', ');
const alertLine = (a: GettableAlert) => truncate(Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' '), 300);

export class AlertSilences {
  private now: () => number;

  constructor(private deps: AlertSilencesDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The buttons offered in a new alert thread; each runs `silence add <group> <length>` as its clicker. */
  async offerButtons(groupId: string, where: { channel: string; threadTs: string }): Promise<void> {
    const buttons = [];
    for (const length of SILENCE_LENGTHS) buttons.push({ id: await this.deps.offer(['silence', 'add', groupId, length], where), label: BUTTON_LABELS[length] });
    const message = suggestionMessage(`Silence this alert group in Alertmanager (group ${groupId}). Pressing a button shows what it would silence and asks for approval.`, buttons);
    await this.deps.poster.post(where, message.text, message.blocks);
  }

  /** What silencing the group would do: its matchers, and what they match in Alertmanager now. */
  async plan(groupId: string, length: SilenceLength, signal?: AbortSignal): Promise<SilencePlan> {
    const group = await this.group(groupId);
    const current = await this.inForce(groupId, signal);
    if (current) throw new NothingToDoError(`${name(group)} is already silenced by ${current.createdBy} until ${clock(current.endsAt)}. Expire that silence first to set another.`);
    if (group.status === 'resolved') throw new NothingToDoError(`${name(group)} has resolved: there is nothing to silence.`);
    const matchers = matchersOf(group);
    const matched = await this.deps.alertmanager.alerts({ filter: matchers, signal });
    const receiver = group.group?.receiver;
    const inGroup = matched.filter((a) => a.receivers.some((r) => r.name === receiver));
    return { groupId, name: name(group), matchers, inGroup, outside: matched.filter((a) => !inGroup.includes(a)), endsAt: this.now() + LENGTH_MS[length] };
  }

  /** The plan card of `silence add`. */
  planReport(plan: SilencePlan, length: SilenceLength): Report {
    const broad = plan.outside.length > 0;
    return {
      title: `silence ${plan.name} ${length === 'until-resolved' ? 'until resolved' : `for ${length.replace('h', ' h')}`}`,
      status: broad ? 'warn' : 'info',
      summary: `A silence in Alertmanager on ${matcherText(plan.matchers)}, until ${clock(plan.endsAt)}${length === 'until-resolved' ? ' at the latest (expired as soon as the group resolves)' : ''}.`,
      sections: [
        { fields: [{ label: 'Alerts of this group it silences now', value: String(plan.inGroup.length) }, { label: 'Other alerts it silences', value: String(plan.outside.length) }] },
        ...(broad
          ? [{ title: 'Outside this group', lines: [`⚠️ These matchers also silence ${plan.outside.length} alert(s) that are not this group's. Destructive: a second person with the approver role must approve.`, ...plan.outside.slice(0, LISTED).map(alertLine), ...(plan.outside.length > LISTED ? [`… and ${plan.outside.length - LISTED} more`] : [])] }]
          : []),
      ],
    };
  }

  /**
   * Creates the silence as planned, if its matchers are the same and what they reach outside
   * the group has not grown since the plan was approved; records it and shows it in the thread.
   */
  async create(groupId: string, length: SilenceLength, pin: SilencePin, who: { userId: string; name: string }, signal?: AbortSignal): Promise<SilenceRecord> {
    const now = await this.plan(groupId, length, signal);
    const approved = new Set(pin.outside);
    const grown = now.outside.filter((a) => !approved.has(a.fingerprint));
    if (JSON.stringify(now.matchers) !== JSON.stringify(pin.matchers) || grown.length > 0) {
      throw new ConfirmationError(`What the silence would match changed after the plan was shown (${grown.length} more alert(s) outside the group). Nothing was silenced; press the button again.`);
    }
    const group = await this.group(groupId);
    const endsAt = this.now() + LENGTH_MS[length];
    const silenceId = await this.deps.alertmanager.createSilence(
      {
        matchers: now.matchers,
        startsAt: new Date(this.now()),
        endsAt: new Date(endsAt),
        createdBy: who.name,
        comment: `vlinders-ops: alert thread of ${now.name} (group ${groupId.slice(0, 12)}), silenced ${length === 'until-resolved' ? 'until it resolves' : `for ${length}`} by Slack user ${who.userId}.`,
      },
      { signal },
    );
    const record: SilenceRecord = { silenceId, groupId, channel: group.channel, threadTs: group.ts as string, by: who.userId, createdBy: who.name, endsAt, untilResolved: length === 'until-resolved' };
    // The group's earlier silence has ended (plan checked): its entry makes way. Of two approvals racing, one records; the other undoes its silence.
    await this.deps.store.delete(KIND, groupId);
    if (!(await this.deps.store.create(KIND, groupId, record))) {
      await this.deps.alertmanager.expireSilence(silenceId, { signal });
      throw new ConfirmationError('Someone else silenced this group at the same moment; their silence stands and this one was expired again.');
    }
    const shown = this.statusMessage(record, await this.expireButton(record));
    const statusTs = await this.deps.poster.post({ channel: record.channel, threadTs: record.threadTs }, shown.text, shown.blocks);
    return (await editEntry<SilenceRecord>(this.deps.store, KIND, groupId, (r) => ({ ...r, statusTs }))) ?? record;
  }

  /** The group's silence while it still silences (not ended, not past its end). */
  async current(groupId: string): Promise<SilenceRecord | undefined> {
    const record = (await this.deps.store.get<SilenceRecord>(KIND, groupId))?.value;
    return record && !record.ended && record.endsAt > this.now() ? record : undefined;
  }

  /**
   * The group's silence if Alertmanager still has it active: one expired there (amtool, its UI)
   * is recorded as ended, so the thread's line and the buttons tell the truth.
   */
  async inForce(groupId: string, signal?: AbortSignal): Promise<SilenceRecord | undefined> {
    const record = await this.current(groupId);
    if (!record) return undefined;
    const live = await this.deps.alertmanager.silence(record.silenceId, { signal });
    if (live?.status.state === 'active') return record;
    await this.ended(record, 'expired in Alertmanager');
    return undefined;
  }

  /** Expires the group's silence in Alertmanager and says so in the thread. */
  async expire(groupId: string, why: string, signal?: AbortSignal, expected?: string): Promise<SilenceRecord> {
    const record = await this.current(groupId);
    if (!record) throw new NothingToDoError('This alert group has no silence of the bot in force: nothing to expire.');
    if (expected !== undefined && record.silenceId !== expected) throw new ConfirmationError('The group was silenced anew after the plan was shown; nothing was expired. Press the newer Expire button.');
    await this.deps.alertmanager.expireSilence(record.silenceId, { signal });
    return this.ended(record, why);
  }

  /**
   * For each "until resolved" silence in force: when Alertmanager holds none of the group's
   * alerts any more, the group resolved (a silenced group's resolution is never notified), so
   * the silence is expired. Silences past their end get their button taken away. Returns how
   * many silences ended.
   */
  async sweep(signal?: AbortSignal): Promise<number> {
    let ended = 0;
    for (const { entry } of await this.deps.store.list<SilenceRecord>(KIND)) {
      const record = entry.value;
      if (record.ended) continue;
      if (record.endsAt <= this.now()) {
        await this.ended(record, 'it reached its end');
        ended++;
        continue;
      }
      if (!record.untilResolved) continue;
      const group = await recordedAlertThread(this.deps.store, record.groupId);
      const receiver = group?.group?.receiver;
      const firing = group ? (await this.deps.alertmanager.alerts({ filter: matchersOf(group), signal })).filter((a) => a.receivers.some((r) => r.name === receiver)) : [];
      if (firing.length > 0) continue;
      await this.deps.alertmanager.expireSilence(record.silenceId, { signal });
      await this.ended(record, 'the group resolved');
      await this.deps.poster.post({ channel: record.channel, threadTs: record.threadTs }, 'All alerts of this group resolved while it was silenced (Alertmanager sends no resolved notification for silenced alerts); the silence was expired.');
      ended++;
    }
    return ended;
  }

  private async ended(record: SilenceRecord, why: string): Promise<SilenceRecord> {
    const ended = { at: this.now(), why };
    const latest = (await editEntry<SilenceRecord>(this.deps.store, KIND, record.groupId, (r) => (r.silenceId === record.silenceId ? { ...r, ended } : r))) ?? { ...record, ended };
    if (latest.statusTs) {
      const shown = this.statusMessage(latest);
      await this.deps.poster.update(latest.channel, latest.statusTs, shown.text, shown.blocks);
    }
    return latest;
  }

  private async expireButton(record: SilenceRecord): Promise<string> {
    return this.deps.offer(['silence', 'expire', record.groupId], { channel: record.channel, threadTs: record.threadTs });
  }

  /** The thread's line about the silence: in force (with its Expire button), or how it ended. */
  private statusMessage(record: SilenceRecord, expireId?: string): { text: string; blocks: Block[] } {
    const until = record.untilResolved ? `until the group resolves (at the latest ${clock(record.endsAt)})` : `until ${clock(record.endsAt)}`;
    const text = record.ended
      ? `🔔 Silence by ${record.createdBy} (${mentionUser(record.by)}) ended ${clock(record.ended.at)}: ${record.ended.why}. Alertmanager notifies this group again.`
      : `🔕 Silenced by ${record.createdBy} (${mentionUser(record.by)}) ${until}. Alertmanager silence ${record.silenceId}.`;
    const message = suggestionMessage(text, expireId ? [{ id: expireId, label: 'Expire silence' }] : []);
    return { text, blocks: expireId ? message.blocks : message.blocks.slice(0, 1) };
  }

  private async group(groupId: string): Promise<ThreadState> {
    const group = await recordedAlertThread(this.deps.store, groupId);
    if (!group?.ts) throw new NotFoundError(`No alert thread for group ${groupId.slice(0, 40)}: it may have been pruned.`);
    return group;
  }
}

const name = (group: ThreadState) => group.name ?? 'the alert group';

/**
 * The silence's matchers: the group's labels (group_by), so alerts that join the group later are
 * silenced too; without group labels (group_by: []), the labels its alerts have in common.
 */
function matchersOf(group: ThreadState): EqualMatcher[] {
  if (!group.group) throw new UserFacingError(`The labels of ${name(group)} were too large to keep: silence it with amtool or Alertmanager's UI.`);
  const { groupLabels, commonLabels } = group.group;
  const labels = Object.keys(groupLabels).length > 0 ? groupLabels : commonLabels;
  const matchers = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([n, value]) => ({ name: n, value }));
  if (matchers.length === 0) throw new UserFacingError(`${name(group)} has no labels to match on: a silence would silence every alert.`);
  return matchers;
}
