// One incident thread per Alertmanager groupKey. The first notification opens it, a change
// replies in the thread and updates the root message in place, a repeat (Alertmanager
// re-sends every repeat_interval, and retries on errors) posts nothing.
//
// A thread exists only once its root is posted. Until then its entry is "pending post": the
// group, its timeline and its root are all in the store, and the next delivery of that group
// (Alertmanager retries a 5xx), or the periodic sweep, posts it. So a Slack outage on the
// first delivery delays the thread; it never loses it.
import { createHash } from 'node:crypto';
import type { Report } from '../core/report.js';
import { deleteWhere, editEntry, type Store } from '../core/store.js';
import { alertIdentity, alertStatus, type AlertmanagerWebhook } from '../prometheus/alertmanager.js';
import { truncate } from '../slack/mrkdwn.js';
import type { AlertChange } from './incidents.js';

/** What the threads need of Slack (SlackPoster has it). */
export interface ThreadPoster {
  report(where: { channel: string; threadTs?: string }, report: Report): Promise<string | undefined>;
  updateReport(channel: string, ts: string, report: Report): Promise<void>;
}

export interface AlertTimelineEntry {
  at: number;
  text: string;
}

export interface ThreadState {
  channel: string;
  /** The root message; absent while the root is pending post. */
  ts?: string;
  /** While set and in the future, one delivery (or the sweep) is posting the root: others wait for it. */
  postingUntil?: number;
  /** Counted into a burst's "N more alert groups" summary instead of getting a root of its own. */
  summarized?: boolean;
  status: 'firing' | 'resolved';
  /** The group's alertname and severity, for the weekly alert history. */
  name?: string;
  severity?: string;
  /** When a notification last said the whole group resolved. */
  resolvedAt?: number;
  /** Alertmanager's start of the group's earliest alert, and (once resolved) the end of its latest (see alertSpan). */
  startsAt?: string;
  endsAt?: string;
  /** Status and alert set of the last notification acted on. */
  digest: string;
  openedAt: number;
  /** When the last notification of the group came in. */
  seenAt?: number;
  notifications: number;
  /** What the root shows, from the last notification (bounded: see boundedAlertReport). */
  root: Report;
  /** Every change of the group, oldest first, the last MAX_TIMELINE kept. */
  timeline: AlertTimelineEntry[];
  /** Changes dropped from the front of the timeline to keep the entry small. */
  timelineDropped?: number;
  /** What identifies the group in Alertmanager (a silence matches on it); absent when too large to keep. */
  group?: AlertGroupIdentity;
}

/** The group as Alertmanager's webhook names it: its receiver and its labels, exact. */
export interface AlertGroupIdentity {
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
}

/** Larger label sets are not kept: exact values or none, since a clipped value would match nothing. */
const MAX_IDENTITY_CHARS = 4096;

function identityOf(payload: AlertmanagerWebhook): AlertGroupIdentity | undefined {
  const identity = { receiver: payload.receiver, groupLabels: payload.groupLabels, commonLabels: payload.commonLabels };
  return JSON.stringify(identity).length <= MAX_IDENTITY_CHARS ? identity : undefined;
}

/** `repeated`: the same alerts again (repeat_interval, a retry): the root's count moves, nothing is posted. */
export type AlertOutcome = 'opened' | 'updated' | 'resolved' | 'repeated' | 'summarized';

const KIND = 'incident-thread';
const BURST_KIND = 'alert-burst';
const keyOf = (groupKey: string) => createHash('sha256').update(groupKey).digest('hex').slice(0, 40);

/**
 * How long one delivery may hold the right to post a root. Longer than the Slack client's
 * retries of one call (SLACK_RETRY in slack/app.ts), so two posts never overlap; a crash
 * while holding it delays the root by this much.
 */
export const POSTING_LEASE_MS = 2 * 60_000;
/** Changes kept per group: the root shows them all; older ones are counted. */
const MAX_TIMELINE = 50;
/** Alerts listed in the root; a bigger group says how many more it has. */
const ROOT_ALERTS = 50;
/** Any one label value, annotation or cell stored or shown, so a hostile payload can't grow the store. */
const MAX_VALUE = 300;
const BURST_WINDOW_MS = 60_000;
/** A resolved group is kept this long (the weekly alert history reads the last 7 days), then swept. */
export const RESOLVED_KEPT_MS = 35 * 24 * 3_600_000;
/** A group not heard of for this long (its resolution never came) is swept too. */
export const SILENT_KEPT_MS = 90 * 24 * 3_600_000;
/** Alert names the burst summary lists. */
const BURST_NAMES = 30;

export function digestOf(payload: AlertmanagerWebhook): string {
  const alerts = payload.alerts.map((a) => `${alertIdentity(a)}:${alertStatus(a, payload)}`).sort();
  return createHash('sha256').update(JSON.stringify([payload.status, alerts])).digest('hex');
}

const clip = (s: string) => truncate(s, MAX_VALUE);
const clock = (ms: number) => `${new Date(ms).toISOString().slice(11, 19)} UTC`;

export function alertReport(payload: AlertmanagerWebhook, opts: { notifications?: number } = {}): Report {
  const name = payload.commonLabels.alertname ?? payload.groupLabels.alertname ?? 'alert';
  const firing = payload.alerts.filter((a) => alertStatus(a, payload) === 'firing');
  const resolved = payload.status === 'resolved';
  const severity = payload.commonLabels.severity;
  const summary = payload.commonAnnotations.summary ?? payload.commonAnnotations.description ?? payload.alerts[0]?.annotations.summary;
  const listed = payload.alerts.slice(0, ROOT_ALERTS);
  return {
    title: `${resolved ? 'RESOLVED' : 'FIRING'}: ${clip(name)}`,
    status: resolved ? 'ok' : severity === 'critical' || severity === 'page' ? 'fail' : 'warn',
    summary: summary ? truncate(summary, 3 * MAX_VALUE) : resolved ? 'All alerts of this group resolved.' : `${firing.length} alert(s) firing.`,
    sections: [
      {
        fields: [
          { label: 'Status', value: resolved ? 'resolved' : `firing (${firing.length}/${payload.alerts.length})` },
          ...(severity ? [{ label: 'Severity', value: clip(severity) }] : []),
          ...Object.entries(payload.groupLabels).slice(0, 8).map(([k, v]) => ({ label: clip(k), value: clip(v) })),
          ...(opts.notifications && opts.notifications > 1 ? [{ label: 'Notifications', value: String(opts.notifications) }] : []),
        ],
      },
      {
        title: payload.alerts.length > listed.length ? `Alerts (first ${listed.length} of ${payload.alerts.length})` : 'Alerts',
        header: ['status', 'labels', 'since'],
        rows: listed.map((a) => [
          alertStatus(a, payload),
          clip(
            Object.entries(a.labels)
              .filter(([k]) => !(k in payload.commonLabels))
              .map(([k, v]) => `${k}=${v}`)
              .join(' ') || '-',
          ),
          clip(a.startsAt ?? ''),
        ]),
      },
    ],
  };
}

/**
 * The group's span as Alertmanager reports it: the earliest startsAt (kept from the first
 * notification), and once the whole group resolved, the latest endsAt. A firing alert's endsAt
 * is only Alertmanager's expiry guess, so it is not used.
 */
function alertSpan(payload: AlertmanagerWebhook, knownStart?: string): { startsAt?: string; endsAt?: string } {
  // Alertmanager writes times with offsets and nanoseconds: compare them as instants. Its zero time (year 1) means unset.
  const valid = (s: string | undefined): s is string => !!s && Date.parse(s) > 0;
  const byTime = (a: string, b: string) => Date.parse(a) - Date.parse(b);
  const startsAt = [knownStart, ...payload.alerts.map((a) => a.startsAt)].filter(valid).sort(byTime)[0];
  const ends = payload.status === 'resolved' ? payload.alerts.map((a) => a.endsAt).filter(valid).sort(byTime) : [];
  return { ...(startsAt ? { startsAt } : {}), ...(ends.length ? { endsAt: ends[ends.length - 1] } : {}) };
}

/**
 * The "Declare incident" button's command for an alert group: `incident open` run in the
 * alert's thread links the incident to it. Only the alert's name goes in, cut to safe
 * characters, so a label can't add a flag (`--sev`) or other words.
 */
export function declareIncidentWords(state: Pick<ThreadState, 'name' | 'severity'>): string[] {
  const name = (state.name ?? '').replace(/[^A-Za-z0-9_.:]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100) || 'alert';
  const sev = state.severity === 'critical' || state.severity === 'page' ? 2 : 3;
  return ['incident', 'open', name, '--sev', String(sev)];
}

/** One timeline line for a notification that changed the group. */
function changeText(payload: AlertmanagerWebhook): string {
  const firing = payload.alerts.filter((a) => alertStatus(a, payload) === 'firing').length;
  return payload.status === 'resolved' ? 'resolved' : `firing (${firing}/${payload.alerts.length})`;
}

/**
 * An entry as this version keeps it. Entries written before roots and timelines were stored
 * (and whose first post was lost) get a root from what they recorded, and an empty timeline.
 */
function upgraded(state: ThreadState): ThreadState {
  if (state.root && state.timeline) return state;
  const resolved = state.status === 'resolved';
  return {
    ...state,
    root: state.root ?? { title: `${resolved ? 'RESOLVED' : 'FIRING'}: ${state.name ?? 'alert'}`, status: resolved ? 'ok' : 'warn', summary: 'Recorded by an earlier version of the bot.' },
    timeline: state.timeline ?? [],
  };
}

/** The root as posted: the last notification's report and the group's timeline under it. */
export function rootOf(recorded: ThreadState): Report {
  const state = upgraded(recorded);
  return {
    ...state.root,
    sections: [
      ...(state.root.sections ?? []),
      { title: 'Timeline', lines: [...(state.timelineDropped ? [`… ${state.timelineDropped} earlier changes`] : []), ...state.timeline.map((e) => `${clock(e.at)} ${e.text}`)] },
    ],
  };
}

/** The group recorded under `id` (its key in the store, as alertGroupId gives it). */
export async function recordedAlertThread(store: Store, id: string): Promise<ThreadState | undefined> {
  return /^[0-9a-f]{40}$/.test(id) ? (await store.get<ThreadState>(KIND, id))?.value : undefined;
}

/** The stable id of a group (its key in the store, 40 hex digits), which commands name it by. */
export const alertGroupId = (groupKey: string): string => keyOf(groupKey);

/** Every alert group the bot has recorded, posted or pending, as kept in the store. */
export async function recordedAlertThreads(store: Store): Promise<ThreadState[]> {
  return (await store.list<ThreadState>(KIND)).map((e) => e.entry.value);
}

interface Burst {
  channel: string;
  /** Roots posted in this window. */
  roots: number;
  /** Groups that got no root of their own, and the first of their names. */
  more: number;
  names: string[];
  ts?: string;
  postingUntil?: number;
}

export interface AlertThreadLimits {
  /** New roots posted per minute; the groups past it are counted in one summary message. */
  rootsPerMinute: number;
}

export class AlertThreads {
  /** Hears of each change of a posted group (incidents declared from its thread record it). Its failures are ignored. */
  onChange?: (change: AlertChange) => Promise<void>;

  constructor(
    private store: Store,
    private poster: ThreadPoster,
    private channel: string,
    private now: () => number = () => Date.now(),
    private limits: AlertThreadLimits = { rootsPerMinute: Infinity },
  ) {}

  /** Where a group's thread is, if it has one (for diagnoses and remedies posted into it). */
  async threadOf(groupKey: string): Promise<{ channel: string; ts: string } | undefined> {
    const state = (await this.store.get<ThreadState>(KIND, keyOf(groupKey)))?.value;
    return state?.ts ? { channel: state.channel, ts: state.ts } : undefined;
  }

  /**
   * Records the notification, then says it in Slack. Throws when Slack could not be told
   * (the webhook answers 5xx, Alertmanager retries); what was recorded stays, so the retry
   * or the sweep posts it.
   */
  async handle(payload: AlertmanagerWebhook): Promise<AlertOutcome> {
    const key = keyOf(payload.groupKey);
    const digest = digestOf(payload);
    const at = this.now();
    for (let attempt = 0; attempt < 20; attempt++) {
      const entry = await this.store.get<ThreadState>(KIND, key);
      if (!entry) {
        const fresh: ThreadState = {
          channel: this.channel,
          status: payload.status,
          name: payload.commonLabels.alertname ?? payload.groupLabels.alertname,
          severity: payload.commonLabels.severity,
          digest,
          openedAt: at,
          seenAt: at,
          notifications: 1,
          ...(payload.status === 'resolved' ? { resolvedAt: at } : {}),
          root: alertReport(payload),
          timeline: [{ at, text: changeText(payload) }],
          group: identityOf(payload),
          ...alertSpan(payload),
        };
        // Create-if-absent: of two deliveries racing, one records the group, the other updates it.
        if (!(await this.store.create(KIND, key, fresh))) continue;
        if (!(await this.admit(fresh.name))) {
          await editEntry<ThreadState>(this.store, KIND, key, (s) => ({ ...s, summarized: true }));
          return 'summarized';
        }
        return (await this.postRoot(key)) ? 'opened' : 'repeated';
      }
      const state = upgraded(entry.value);
      const same = state.digest === digest;
      const notifications = state.notifications + 1;
      const next: ThreadState = {
        ...state,
        status: payload.status,
        digest,
        notifications,
        seenAt: at,
        resolvedAt: payload.status === 'resolved' ? (state.resolvedAt ?? at) : undefined,
        root: alertReport(payload, { notifications }),
        ...(same ? {} : trimmedTimeline(state, { at, text: changeText(payload) })),
        group: identityOf(payload),
        ...alertSpan(payload, state.startsAt),
      };
      // Compare-and-swap: a lost race re-reads, and a retry racing its original then sees "repeated".
      if (!(await this.store.update(KIND, key, next, entry.version))) continue;
      if (!next.ts) {
        // Pending post (an earlier post failed) or summarized in a burst: a firing group gets its root now if the rate allows.
        if (next.summarized && (next.status === 'resolved' || !(await this.admit(next.name)))) return 'summarized';
        return (await this.postRoot(key)) ? 'opened' : 'repeated';
      }
      const report = rootOf(next);
      if (!same) await this.poster.report({ channel: next.channel, threadTs: next.ts }, { ...next.root, sections: next.root.sections?.slice(1) });
      await this.poster.updateReport(next.channel, next.ts, report);
      if (!same && this.onChange) await this.onChange({ channel: next.channel, ts: next.ts, name: next.name, startsAt: next.startsAt, endsAt: next.endsAt, text: changeText(payload) }).catch(() => undefined);
      return same ? 'repeated' : payload.status === 'resolved' ? 'resolved' : 'updated';
    }
    throw new Error(`alert group ${key}: too many concurrent changes`);
  }

  /** Posts every root still pending whose last attempt failed or was abandoned (a crash). Returns how many it posted. */
  async sweep(): Promise<number> {
    let posted = 0;
    for (const { key, entry } of await this.store.list<ThreadState>(KIND)) {
      const s = entry.value;
      if (s.ts || s.summarized || (s.postingUntil ?? 0) > this.now()) continue;
      if (await this.postRoot(key)) posted++;
    }
    return posted;
  }

  /**
   * Deletes what the store no longer needs: groups resolved more than RESOLVED_KEPT_MS ago or
   * silent for SILENT_KEPT_MS, and burst windows of past minutes. Returns how many it deleted.
   */
  async prune(): Promise<number> {
    const now = this.now();
    const groups = await deleteWhere<ThreadState>(
      this.store,
      KIND,
      (s) => (s.status === 'resolved' && (s.resolvedAt ?? s.openedAt) + RESOLVED_KEPT_MS <= now) || (s.seenAt ?? s.openedAt) + SILENT_KEPT_MS <= now,
    );
    const current = Math.floor(now / BURST_WINDOW_MS);
    return groups + (await deleteWhere<Burst>(this.store, BURST_KIND, (_b, window) => Number(window) < current - 1));
  }

  /**
   * Posts the group's root once: the right to post is claimed in the store (a lease), so two
   * deliveries never post two roots. A change recorded while the post was under way is
   * applied to the root in place right after. False when someone else posted or is posting it.
   */
  private async postRoot(key: string): Promise<boolean> {
    return postOnce<ThreadState>(this.store, KIND, key, this.now, rootOf, this.poster);
  }

  /** Counts a new group into this minute's window: true when it may have a root of its own. */
  private async admit(name: string | undefined): Promise<boolean> {
    if (!Number.isFinite(this.limits.rootsPerMinute)) return true;
    const window = String(Math.floor(this.now() / BURST_WINDOW_MS));
    for (let attempt = 0; attempt < 50; attempt++) {
      const entry = await this.store.get<Burst>(BURST_KIND, window);
      if (!entry) {
        await this.store.create<Burst>(BURST_KIND, window, { channel: this.channel, roots: 0, more: 0, names: [] });
        continue;
      }
      const burst = entry.value;
      const admitted = burst.roots < this.limits.rootsPerMinute;
      const next: Burst = admitted
        ? { ...burst, roots: burst.roots + 1 }
        : { ...burst, more: burst.more + 1, names: burst.names.length < BURST_NAMES ? [...burst.names, clip(name ?? 'alert')] : burst.names };
      if (!(await this.store.update(BURST_KIND, window, next, entry.version))) continue;
      if (admitted) return true;
      if (next.ts) await this.poster.updateReport(next.channel, next.ts, burstReport(next));
      else await postOnce<Burst>(this.store, BURST_KIND, window, this.now, burstReport, this.poster);
      return false;
    }
    throw new Error('alert burst window: too many concurrent changes');
  }
}

function trimmedTimeline(state: ThreadState, entry: AlertTimelineEntry): Pick<ThreadState, 'timeline' | 'timelineDropped'> {
  const all = [...state.timeline, entry];
  const dropped = Math.max(0, all.length - MAX_TIMELINE);
  return { timeline: all.slice(dropped), timelineDropped: (state.timelineDropped ?? 0) + dropped || undefined };
}

function burstReport(burst: Burst): Report {
  const more = burst.more - burst.names.length;
  return {
    title: `${burst.more} more alert group${burst.more === 1 ? '' : 's'}`,
    status: 'warn',
    summary: `More than ${burst.roots} alert groups opened within a minute: these got no thread of their own (alerts.rootsPerMinute). Alertmanager lists them all.`,
    sections: [{ lines: [[...burst.names, ...(more > 0 ? [`and ${more} more`] : [])].join(', ')] }],
  };
}

/** A store entry whose Slack message is posted once and then kept in step with it. */
interface Postable {
  channel: string;
  ts?: string;
  postingUntil?: number;
}

async function postOnce<T extends Postable>(store: Store, kind: string, key: string, now: () => number, render: (value: T) => Report, poster: ThreadPoster): Promise<boolean> {
  let claimed: T | undefined;
  for (let attempt = 0; attempt < 10 && !claimed; attempt++) {
    const entry = await store.get<T>(kind, key);
    if (!entry || entry.value.ts || (entry.value.postingUntil ?? 0) > now()) return false;
    const value: T = { ...entry.value, postingUntil: now() + POSTING_LEASE_MS };
    if (await store.update(kind, key, value, entry.version)) claimed = value;
  }
  if (!claimed) return false;
  const shown = render(claimed);
  let ts: string | undefined;
  try {
    ts = await poster.report({ channel: claimed.channel }, shown);
    if (!ts) throw new Error('Slack answered chat.postMessage without a ts');
  } catch (err) {
    // Give the right to post back at once, so the next delivery retries without waiting out the lease.
    await editEntry<T>(store, kind, key, (v) => ({ ...v, postingUntil: undefined })).catch(() => undefined);
    throw err;
  }
  const posted = ts;
  const latest = await editEntry<T>(store, kind, key, (v) => ({ ...v, ts: posted, postingUntil: undefined }));
  if (latest && JSON.stringify(render(latest)) !== JSON.stringify(shown)) await poster.updateReport(latest.channel, posted, render(latest));
  return true;
}
