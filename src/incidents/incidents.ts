// Incidents people declare: `incident open|update|resolve`. Each one is a thread in the
// incidents channel (config alerts.channel) whose root message carries status, severity,
// commander and the timeline, and is updated in place. State lives in the Store, so two
// replicas share it: numbers are claimed with create-if-absent, changes go through CAS.
//
// Slack does not send thread_ts with a slash command, so "inside the thread" can't be seen.
// An incident is therefore named as `#N`, and may be left out while only one is open (the
// usual case at 3 a.m.); with several open the bot asks which one rather than guess.
import type { Caller } from '../core/command.js';
import { NothingToDoError, NotFoundError, UsageError } from '../core/errors.js';
import { mentionChannel, mentionUser } from '../core/mention.js';
import type { Report } from '../core/report.js';
import { editEntry, type Store } from '../core/store.js';
import { truncate } from '../slack/mrkdwn.js';
import { recordedAlertThreads, type ThreadPoster, type ThreadState } from './alert-threads.js';

export type Severity = 1 | 2 | 3 | 4;

export interface TimelineEntry {
  at: number;
  user: string;
  text: string;
}

export interface Incident {
  number: number;
  title: string;
  sev: Severity;
  status: 'open' | 'resolved';
  commander: string;
  channel: string;
  /** The root message; unset for the moment between claiming the number and posting. */
  ts?: string;
  openedAt: number;
  resolvedAt?: number;
  summary?: string;
  timeline: TimelineEntry[];
  /** Timeline entries dropped from the front to keep the stored incident small (see boundedIncident). */
  dropped?: number;
}

const KIND = 'incident';
/** How many timeline entries the root message shows. */
const SHOWN = 15;
/** Timeline entries kept in the store; the thread keeps every update in full. */
const MAX_TIMELINE = 300;
/** Characters of one entry's text kept in the store (an update of 2,000 is posted whole in the thread). */
const MAX_ENTRY_TEXT = 500;
/**
 * One stored incident's JSON at most: a ConfigMap holds 1 MiB in all, so this leaves room for
 * its metadata and for UTF-8 that takes 3-4 bytes a character. Oldest entries go first.
 */
export const MAX_INCIDENT_BYTES = 256 * 1024;

/** The incident as stored: entry texts cut, the timeline capped in entries and in bytes, what was dropped counted. */
export function boundedIncident(incident: Incident): Incident {
  let timeline = incident.timeline.map((e) => (e.text.length > MAX_ENTRY_TEXT ? { ...e, text: truncate(e.text, MAX_ENTRY_TEXT) } : e));
  let dropped = (incident.dropped ?? 0) + Math.max(0, timeline.length - MAX_TIMELINE);
  timeline = timeline.slice(-MAX_TIMELINE);
  const bytes = (t: TimelineEntry[]) => Buffer.byteLength(JSON.stringify({ ...incident, timeline: t }));
  // Entries are each at most ~2 KiB, so dropping a sixteenth at a time ends quickly.
  while (timeline.length > 1 && bytes(timeline) > MAX_INCIDENT_BYTES) {
    const cut = Math.max(1, Math.floor(timeline.length / 16));
    timeline = timeline.slice(cut);
    dropped += cut;
  }
  return { ...incident, timeline, ...(dropped > 0 ? { dropped } : {}) };
}

const clock = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

/** `#12 rest of text` → 12 and the rest; no `#N` → undefined and all of the text. */
export function takeIncidentRef(text: string | undefined): { ref?: number; text: string } {
  const m = /^#(\d{1,6})(?:\s+|$)([\s\S]*)$/.exec((text ?? '').trim());
  return m ? { ref: Number(m[1]), text: (m[2] ?? '').trim() } : { text: (text ?? '').trim() };
}

export function rootReport(incident: Incident): Report {
  const open = incident.status === 'open';
  const shown = incident.timeline.slice(-SHOWN);
  return {
    title: `${open ? '🚨' : '✅'} Incident #${incident.number}: ${incident.title}`,
    status: open ? (incident.sev <= 2 ? 'fail' : 'warn') : 'ok',
    summary: open ? `Open. Updates go in this thread: \`incident update #${incident.number} <text>\`.` : `Resolved${incident.summary ? `: ${incident.summary}` : '.'}`,
    sections: [
      {
        fields: [
          { label: 'Status', value: open ? 'open' : 'resolved' },
          { label: 'Severity', value: `SEV${incident.sev}` },
          { label: 'Commander', value: mentionUser(incident.commander) },
          { label: 'Opened', value: new Date(incident.openedAt).toISOString().replace(/\.\d+Z$/, 'Z') },
          ...(incident.resolvedAt ? [{ label: 'Resolved', value: new Date(incident.resolvedAt).toISOString().replace(/\.\d+Z$/, 'Z') }] : []),
        ],
      },
      {
        title: 'Timeline',
        lines: [
          ...(incident.timeline.length + (incident.dropped ?? 0) > shown.length ? [`… ${incident.timeline.length + (incident.dropped ?? 0) - shown.length} earlier entries`] : []),
          ...shown.map((e) => `${clock(e.at)} ${mentionUser(e.user)} ${e.text}`),
        ],
      },
    ],
  };
}

/** Every declared incident recorded in the store. */
export async function recordedIncidents(store: Store): Promise<Incident[]> {
  return (await store.list<Incident>(KIND)).map((e) => e.entry.value).sort((a, b) => a.number - b.number);
}

export class Incidents {
  constructor(
    private store: Store,
    private poster: ThreadPoster,
    /** The incidents channel: config alerts.channel. */
    readonly channel: string,
    private now: () => number = Date.now,
  ) {}

  /** The alert groups recorded by the webhook in the same store (for the weekly alert history). */
  alertThreads(): Promise<ThreadState[]> {
    return recordedAlertThreads(this.store);
  }

  list(): Promise<Incident[]> {
    return recordedIncidents(this.store);
  }

  async open(caller: Caller, title: string, sev: Severity): Promise<Incident> {
    const at = this.now();
    let number = Math.max(0, ...(await this.list()).map((i) => i.number)) + 1;
    const fresh = (n: number): Incident => ({
      number: n,
      title,
      sev,
      status: 'open',
      commander: caller.userId,
      channel: this.channel,
      openedAt: at,
      timeline: [{ at, user: caller.userId, text: `opened it as SEV${sev}` }],
    });
    // Another replica may claim the same number: the store's create-if-absent decides.
    while (!(await this.store.create(KIND, String(number), fresh(number)))) number++;
    const ts = await this.poster.report({ channel: this.channel }, rootReport(fresh(number)));
    return (await this.change(number, (i) => ({ ...i, ts }))) ?? { ...fresh(number), ts };
  }

  /** The incident `#ref`, or the only open one (or the one whose thread the caller is in). */
  async find(caller: Caller, ref: number | undefined, action: string): Promise<Incident> {
    if (ref !== undefined) {
      const hit = (await this.store.get<Incident>(KIND, String(ref)))?.value;
      if (!hit) throw new NotFoundError(`No incident #${ref}.`);
      return hit;
    }
    const open = (await this.list()).filter((i) => i.status === 'open');
    const here = open.find((i) => i.ts !== undefined && i.channel === caller.channelId && i.ts === caller.threadTs);
    if (here) return here;
    if (open.length === 1) return open[0] as Incident;
    if (open.length === 0) throw new NotFoundError(`No incident is open. Open one with \`incident open <title> [--sev 1-4]\`.`);
    throw new UsageError(
      `${open.length} incidents are open (${open.map((i) => `#${i.number} ${i.title}`).join(', ')}): say which, e.g. \`incident ${action} #${open[0]?.number ?? 1} …\`.`,
    );
  }

  async update(caller: Caller, ref: number | undefined, text: string): Promise<Incident> {
    const target = await this.find(caller, ref, 'update');
    if (target.status !== 'open') throw new UsageError(`Incident #${target.number} is resolved; open a new one if it is back.`);
    const at = this.now();
    const next = await this.change(target.number, (i) => ({ ...i, timeline: [...i.timeline, { at, user: caller.userId, text: `update: ${text}` }] }));
    if (!next) throw new NotFoundError(`Incident #${target.number} vanished.`);
    await this.inThread(next, { title: `Update on incident #${next.number}`, status: 'info', summary: text, sections: [{ lines: [`from ${mentionUser(caller.userId)}`] }] });
    return next;
  }

  async resolve(caller: Caller, ref: number | undefined, summary: string | undefined): Promise<Incident> {
    const target = await this.find(caller, ref, 'resolve');
    if (target.status !== 'open') throw new UsageError(`Incident #${target.number} is already resolved.`);
    const at = this.now();
    const next = await this.change(target.number, (i) =>
      i.status === 'open'
        ? { ...i, status: 'resolved', resolvedAt: at, summary: summary || undefined, timeline: [...i.timeline, { at, user: caller.userId, text: `resolved it${summary ? `: ${summary}` : ''}` }] }
        : i,
    );
    if (!next) throw new NotFoundError(`Incident #${target.number} vanished.`);
    await this.inThread(next, { title: `Incident #${next.number} resolved`, status: 'ok', summary: summary || `Resolved by ${mentionUser(caller.userId)}.`, sections: [{ lines: [`by ${mentionUser(caller.userId)}`] }] });
    return next;
  }

  /**
   * Records a command run for an incident in its timeline: one run in its thread (a button
   * offered there), or in the incidents channel while exactly one incident is open.
   * Never throws: the command has already run, the timeline is a side record.
   */
  async note(caller: Caller, text: string): Promise<boolean> {
    if (caller.channelId !== this.channel) return false;
    let target: Incident;
    try {
      target = await this.find(caller, undefined, 'update');
    } catch {
      return false;
    }
    // In some other thread (an alert's): not this incident's business.
    if (caller.threadTs !== undefined && caller.threadTs !== target.ts) return false;
    const at = this.now();
    const next = await this.change(target.number, (i) =>
      i.status === 'open' ? { ...i, timeline: [...i.timeline, { at, user: caller.userId, text }] } : i,
    );
    if (next?.ts) await this.poster.updateReport(next.channel, next.ts, rootReport(next));
    return next !== undefined;
  }

  /** A reply in the incident's thread, then the root updated in place. */
  private async inThread(incident: Incident, reply: Report): Promise<void> {
    if (!incident.ts) return;
    await this.poster.report({ channel: incident.channel, threadTs: incident.ts }, reply);
    await this.poster.updateReport(incident.channel, incident.ts, rootReport(incident));
  }

  /** Read-modify-write with CAS, retried: two people updating at once both land. Stored bounded. */
  private change(number: number, edit: (i: Incident) => Incident): Promise<Incident | undefined> {
    return editEntry<Incident>(this.store, KIND, String(number), (i) => boundedIncident(edit(i)));
  }
}

/** The incidents of a command's context, or a clear error where there are none (the CLI). */
export function incidentsOf(ctx: { incidents?: Incidents }): Incidents {
  if (!ctx.incidents) throw new NothingToDoError('Incidents live in Slack: they need the bot running there with `alerts.channel` (the incidents channel) set in the config.');
  return ctx.incidents;
}

/** Where the caller is told it worked: only them, since the thread already says it. */
export function ackReport(title: string, incident: Incident, summary: string): Report {
  return { title, status: 'ok', summary: `${summary} In ${mentionChannel(incident.channel)}.`, ephemeral: true };
}
