// Incidents people declare: `incident open|role|sev|update|follow-up|resolve`. With incident
// channels (the Slack bot's IncidentRooms) each incident gets its own channel
// `#inc-YYYYMMDD-<n>-<slug>`: the commander and the on-call group are invited, a summary
// (severity, status, roles, links) is pinned there and kept up to date, and the incidents
// channel (config alerts.channel) has one line per incident, updated in place. Without rooms
// (tests of the store alone) an incident is a thread in the incidents channel, as before.
// State lives in the Store, so two replicas share it: numbers are claimed with
// create-if-absent, changes go through CAS.
//
// The channel a command is typed in identifies the incident. Slack sends no thread_ts with a
// slash command, so outside an incident channel `#N` names it; without rooms, it may be left
// out while only one is open, and with several open the bot asks which one rather than guess.
import type { Caller } from '../core/command.js';
import { NothingToDoError, NotFoundError, UsageError } from '../core/errors.js';
import { mentionChannel, mentionUser } from '../core/mention.js';
import type { Report } from '../core/report.js';
import { editEntry, type Store } from '../core/store.js';
import { truncate } from '../slack/mrkdwn.js';
import { slackErrorCode } from '../slack/reply.js';
import { recordedAlertThreads, type ThreadPoster, type ThreadState } from './alert-threads.js';
import { postmortemMarkdown, roomName, type IncidentRooms } from './rooms.js';

export type Severity = 1 | 2 | 3 | 4;
export type IncidentRole = 'commander' | 'comms';

/** What an entry records, so the postmortem can tell actions (commands, approvals, outcomes) apart. */
export type TimelineKind = 'status' | 'update' | 'command' | 'approval' | 'outcome' | 'alert' | 'sev' | 'role' | 'pin' | 'follow-up';

export interface TimelineEntry {
  at: number;
  user: string;
  text: string;
  kind?: TimelineKind;
  /** A 📌's message (its ts): Slack may deliver the same reaction again, and it is recorded once. */
  ref?: string;
}

/** The incident's own channel. */
export interface IncidentRoom {
  id: string;
  name: string;
  /** The pinned summary message. */
  summaryTs?: string;
}

/** The alert thread the incident was declared from. */
export interface IncidentAlert {
  channel: string;
  ts: string;
  name?: string;
  link?: string;
  startsAt?: string;
  endsAt?: string;
}

export interface Incident {
  number: number;
  title: string;
  sev: Severity;
  status: 'open' | 'resolved';
  commander: string;
  comms?: string;
  /** The incidents channel. */
  channel: string;
  /** Its message there (the incident's line, or without rooms its thread's root); unset until posted. */
  ts?: string;
  room?: IncidentRoom;
  alert?: IncidentAlert;
  openedAt: number;
  resolvedAt?: number;
  summary?: string;
  timeline: TimelineEntry[];
  /** Timeline entries dropped from the front to keep the stored incident small (see boundedIncident). */
  dropped?: number;
  followUps?: string[];
}

const KIND = 'incident';
/** How many timeline entries the summary shows. */
const SHOWN = 15;
/** Timeline entries kept in the store; the channel keeps every update in full. */
const MAX_TIMELINE = 300;
/** Characters of one entry's text kept in the store (an update of 2,000 is posted whole). */
const MAX_ENTRY_TEXT = 500;
/** Follow-up items kept, and characters of each. */
const MAX_FOLLOW_UPS = 50;
const MAX_FOLLOW_UP_TEXT = 500;
/** Tries at a free channel name for one day (n = 1, 2, …). */
const ROOM_NAME_TRIES = 50;
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
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** `#12 rest of text` → 12 and the rest; no `#N` → undefined and all of the text. */
export function takeIncidentRef(text: string | undefined): { ref?: number; text: string } {
  const m = /^#(\d{1,6})(?:\s+|$)([\s\S]*)$/.exec((text ?? '').trim());
  return m ? { ref: Number(m[1]), text: (m[2] ?? '').trim() } : { text: (text ?? '').trim() };
}

/** The summary: the root of the thread, or the message pinned in the incident's channel. */
export function rootReport(incident: Incident): Report {
  const open = incident.status === 'open';
  const shown = incident.timeline.slice(-SHOWN);
  const here = incident.room ? 'here' : `in this thread: \`incident update #${incident.number} <text>\``;
  return {
    title: `${open ? '🚨' : '✅'} Incident #${incident.number}: ${incident.title}`,
    status: open ? (incident.sev <= 2 ? 'fail' : 'warn') : 'ok',
    summary: open ? `Open. Updates go ${here}.` : `Resolved${incident.summary ? `: ${incident.summary}` : '.'}`,
    sections: [
      {
        fields: [
          { label: 'Status', value: open ? 'open' : 'resolved' },
          { label: 'Severity', value: `SEV${incident.sev}` },
          { label: 'Commander', value: mentionUser(incident.commander) },
          ...(incident.comms ? [{ label: 'Comms', value: mentionUser(incident.comms) }] : []),
          { label: 'Opened', value: isoSeconds(incident.openedAt) },
          ...(incident.resolvedAt ? [{ label: 'Resolved', value: isoSeconds(incident.resolvedAt) }] : []),
        ],
      },
      ...(incident.alert || incident.room
        ? [
            {
              title: 'Links',
              lines: [
                ...(incident.room ? [`Incidents channel: ${mentionChannel(incident.channel)}`] : []),
                ...(incident.alert ? [`Alert thread${incident.alert.name ? ` (${incident.alert.name})` : ''}: ${incident.alert.link ?? mentionChannel(incident.alert.channel)}`] : []),
              ],
            },
          ]
        : []),
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

/** The incident's one line in the incidents channel (with rooms). */
export function incidentLine(incident: Incident): Report {
  const open = incident.status === 'open';
  return {
    title: `${open ? '🚨' : '✅'} Incident #${incident.number} · SEV${incident.sev} · ${open ? 'open' : 'resolved'}: ${incident.title}`,
    status: open ? (incident.sev <= 2 ? 'fail' : 'warn') : 'ok',
    summary: `${incident.room ? mentionChannel(incident.room.id) : ''} · commander ${mentionUser(incident.commander)}${incident.resolvedAt ? ` · resolved ${isoSeconds(incident.resolvedAt)}` : ''}`,
  };
}

/** The postmortem draft as a Report with the Markdown file attached. */
export function postmortemReport(incident: Incident): Report {
  const content = postmortemMarkdown({
    ...incident,
    roomName: incident.room?.name,
    followUps: incident.followUps ?? [],
  });
  return {
    title: `Postmortem draft for incident #${incident.number}`,
    status: 'info',
    summary: `Timeline, impact and actions are filled in; causes and follow-ups are for you (\`incident follow-up <text>\` adds one). ${incident.followUps?.length ?? 0} follow-up(s) so far.`,
    attachments: [{ filename: `postmortem-incident-${incident.number}.md`, title: `Postmortem draft: incident #${incident.number}`, content }],
  };
}

/** Every declared incident recorded in the store. */
export async function recordedIncidents(store: Store): Promise<Incident[]> {
  return (await store.list<Incident>(KIND)).map((e) => e.entry.value).sort((a, b) => a.number - b.number);
}

/** An alert thread as the incidents hear of its changes (alert-threads.ts onChange). */
export interface AlertChange {
  channel: string;
  ts: string;
  name?: string;
  startsAt?: string;
  endsAt?: string;
  /** `firing (2/3)`, `resolved`. */
  text: string;
}

export class Incidents {
  constructor(
    private store: Store,
    private poster: ThreadPoster,
    /** The incidents channel: config alerts.channel. */
    readonly channel: string,
    private now: () => number = Date.now,
    /** Incident channels; without them an incident is a thread in the incidents channel. */
    private rooms?: IncidentRooms,
    /** Where a summary edit that failed is told (the edit is a side effect: nobody waits for it). */
    private editFailed: (err: unknown) => void = () => undefined,
  ) {}

  /** Summary and line edits on their way. */
  private edits = new Set<Promise<void>>();

  /** Resolves when the summary and line edits asked for so far have landed (or failed). */
  async settled(): Promise<void> {
    while (this.edits.size > 0) await Promise.all(this.edits);
  }

  /** The alert groups recorded by the webhook in the same store (for the weekly alert history). */
  alertThreads(): Promise<ThreadState[]> {
    return recordedAlertThreads(this.store);
  }

  list(): Promise<Incident[]> {
    return recordedIncidents(this.store);
  }

  /**
   * Declares an incident. Run in an alert thread (the Declare button), it is linked to that
   * alert: its start and end make the postmortem's impact, its changes join the timeline.
   * The commander is the caller unless named; both are invited with the on-call group.
   */
  async open(caller: Caller, title: string, sev: Severity, commander: string = caller.userId): Promise<Incident> {
    const at = this.now();
    const all = await this.list();
    let number = Math.max(0, ...all.map((i) => i.number)) + 1;
    const thread = caller.threadTs ? (await this.alertThreads()).find((t) => t.channel === caller.channelId && t.ts === caller.threadTs) : undefined;
    const room = this.rooms ? await this.createRoom(this.rooms, at, title, all) : undefined;
    const fresh = (n: number): Incident => ({
      number: n,
      title,
      sev,
      status: 'open',
      commander,
      channel: this.channel,
      openedAt: at,
      ...(room ? { room } : {}),
      ...(thread?.ts ? { alert: { channel: thread.channel, ts: thread.ts, name: thread.name, startsAt: thread.startsAt, endsAt: thread.endsAt } } : {}),
      timeline: [{ at, user: caller.userId, text: `opened it as SEV${sev}${thread?.name ? ` from the alert ${thread.name}` : ''}${commander !== caller.userId ? ` with ${mentionUser(commander)} as commander` : ''}`, kind: 'status' }],
    });
    // Another replica may claim the same number: the store's create-if-absent decides.
    while (!(await this.store.create(KIND, String(number), fresh(number)))) number++;
    if (!this.rooms || !room) {
      const ts = await this.poster.report({ channel: this.channel }, rootReport(fresh(number)));
      return (await this.change(number, (i) => ({ ...i, ts }))) ?? { ...fresh(number), ts };
    }
    const rooms = this.rooms;
    const invited = [commander, caller.userId, ...(await rooms.onCall())];
    const problems: string[] = [];
    await rooms.invite(room.id, invited).catch((err: unknown) => problems.push(`could not invite everyone: ${slackErrorText(err)}`));
    const link = thread?.ts ? await rooms.permalink(thread.channel, thread.ts).catch(() => undefined) : undefined;
    let current = (await this.change(number, (i) => ({ ...i, ...(link && i.alert ? { alert: { ...i.alert, link } } : {}), timeline: [...i.timeline, ...problems.map((text) => ({ at, user: caller.userId, text, kind: 'status' as const }))] }))) ?? fresh(number);
    const summaryTs = await this.poster.report({ channel: room.id }, rootReport(current));
    if (summaryTs) await rooms.pin(room.id, summaryTs);
    const ts = await this.poster.report({ channel: this.channel }, incidentLine(current));
    current = (await this.change(number, (i) => ({ ...i, ts, room: { ...room, summaryTs } }))) ?? current;
    return current;
  }

  /** A free `inc-…` name for today: n counts today's incident channels, and moves on while Slack says the name is taken. */
  private async createRoom(rooms: IncidentRooms, at: number, title: string, all: Incident[]): Promise<IncidentRoom> {
    const day = new Date(at).toISOString().slice(0, 10);
    let n = all.filter((i) => i.room && new Date(i.openedAt).toISOString().slice(0, 10) === day).length + 1;
    for (let tries = 0; tries < ROOM_NAME_TRIES; tries++, n++) {
      const name = roomName(at, n, title);
      const created = await rooms.create(name);
      if (created !== 'name_taken') return { id: created.id, name };
    }
    throw new UsageError(`Slack says every incident channel name for today up to n=${n - 1} is taken; archive or rename some.`);
  }

  /** The incident of the channel the caller is in, or `#ref`; without rooms, else the only open one (or the one whose thread the caller is in). */
  async find(caller: Caller, ref: number | undefined, action: string): Promise<Incident> {
    const all = await this.list();
    const inRoom = all.find((i) => i.room?.id === caller.channelId);
    if (inRoom && (ref === undefined || ref === inRoom.number)) return inRoom;
    if (ref !== undefined) {
      const hit = (await this.store.get<Incident>(KIND, String(ref)))?.value;
      if (!hit) throw new NotFoundError(`No incident #${ref}.`);
      return hit;
    }
    const open = all.filter((i) => i.status === 'open');
    if (this.rooms) {
      const where = open.map((i) => (i.room ? `#${i.number} in ${mentionChannel(i.room.id)}` : `#${i.number}`)).join(', ');
      throw new UsageError(
        `\`incident ${action}\` works inside an incident's channel, or name the incident: \`incident ${action} #N …\`. ${open.length ? `Open: ${where}.` : 'No incident is open.'}`,
      );
    }
    const here = open.find((i) => i.ts !== undefined && i.channel === caller.channelId && i.ts === caller.threadTs);
    if (here) return here;
    if (open.length === 1) return open[0] as Incident;
    if (open.length === 0) throw new NotFoundError(`No incident is open. Open one with \`incident open <title> [--sev 1-4]\`.`);
    throw new UsageError(
      `${open.length} incidents are open (${open.map((i) => `#${i.number} ${i.title}`).join(', ')}): say which, e.g. \`incident ${action} #${open[0]?.number ?? 1} …\`.`,
    );
  }

  /** The open incident a change is for. */
  private async findOpen(caller: Caller, ref: number | undefined, action: string): Promise<Incident> {
    const target = await this.find(caller, ref, action);
    if (target.status !== 'open') throw new UsageError(`Incident #${target.number} is resolved; open a new one if it is back.`);
    return target;
  }

  async update(caller: Caller, ref: number | undefined, text: string): Promise<Incident> {
    const target = await this.findOpen(caller, ref, 'update');
    const next = await this.record(target.number, { at: this.now(), user: caller.userId, text: `update: ${text}`, kind: 'update' });
    await this.say(next, { title: `Update on incident #${next.number}`, status: 'info', summary: text, sections: [{ lines: [`from ${mentionUser(caller.userId)}`] }] });
    return next;
  }

  /** `incident role commander|comms @user`: the person gets the role and is invited to the channel. */
  async assign(caller: Caller, ref: number | undefined, role: IncidentRole, user: string): Promise<Incident> {
    const target = await this.findOpen(caller, ref, 'role');
    if ((role === 'commander' ? target.commander : target.comms) === user) throw new UsageError(`${mentionUser(user)} already is ${role} of incident #${target.number}.`);
    if (this.rooms && target.room) await this.rooms.invite(target.room.id, [user]);
    const entry: TimelineEntry = { at: this.now(), user: caller.userId, text: `made ${mentionUser(user)} ${role}`, kind: 'role' };
    const next = await this.changeOrThrow(target.number, (i) => ({ ...i, ...(role === 'commander' ? { commander: user } : { comms: user }), timeline: [...i.timeline, entry] }));
    await this.say(next, { title: `${role === 'commander' ? 'Commander' : 'Comms'} of incident #${next.number}: ${mentionUser(user)}`, status: 'info', sections: [{ lines: [`set by ${mentionUser(caller.userId)}`] }] });
    return next;
  }

  async setSeverity(caller: Caller, ref: number | undefined, sev: Severity): Promise<Incident> {
    const target = await this.findOpen(caller, ref, 'sev');
    if (target.sev === sev) throw new UsageError(`Incident #${target.number} already is SEV${sev}.`);
    const entry: TimelineEntry = { at: this.now(), user: caller.userId, text: `changed severity SEV${target.sev} → SEV${sev}`, kind: 'sev' };
    const next = await this.changeOrThrow(target.number, (i) => ({ ...i, sev, timeline: [...i.timeline, entry] }));
    await this.say(next, { title: `Incident #${next.number} is now SEV${sev}`, status: sev <= 2 ? 'fail' : 'warn', sections: [{ lines: [`was SEV${target.sev}, changed by ${mentionUser(caller.userId)}`] }] });
    return next;
  }

  /** A follow-up item for the postmortem; after resolve, a fresh draft with it is posted. */
  async addFollowUp(caller: Caller, ref: number | undefined, text: string): Promise<Incident> {
    const target = await this.find(caller, ref, 'follow-up');
    if ((target.followUps?.length ?? 0) >= MAX_FOLLOW_UPS) throw new UsageError(`Incident #${target.number} has ${MAX_FOLLOW_UPS} follow-ups, as many as it keeps.`);
    const item = truncate(text, MAX_FOLLOW_UP_TEXT);
    const entry: TimelineEntry = { at: this.now(), user: caller.userId, text: `follow-up: ${item}`, kind: 'follow-up' };
    const next = await this.changeOrThrow(target.number, (i) => ({ ...i, followUps: [...(i.followUps ?? []), item], timeline: [...i.timeline, entry] }));
    await this.say(next, { title: `Follow-up ${next.followUps?.length ?? 0} of incident #${next.number}`, status: 'info', summary: item, sections: [{ lines: [`from ${mentionUser(caller.userId)}`] }] });
    if (next.status === 'resolved') await this.postHome(next, postmortemReport(next));
    return next;
  }

  async resolve(caller: Caller, ref: number | undefined, summary: string | undefined): Promise<Incident> {
    const target = await this.find(caller, ref, 'resolve');
    if (target.status !== 'open') throw new UsageError(`Incident #${target.number} is already resolved.`);
    const at = this.now();
    const next = await this.changeOrThrow(target.number, (i) =>
      i.status === 'open'
        ? { ...i, status: 'resolved', resolvedAt: at, summary: summary || undefined, timeline: [...i.timeline, { at, user: caller.userId, text: `resolved it${summary ? `: ${summary}` : ''}`, kind: 'status' }] }
        : i,
    );
    await this.say(next, { title: `Incident #${next.number} resolved`, status: 'ok', summary: summary || `Resolved by ${mentionUser(caller.userId)}.`, sections: [{ lines: [`by ${mentionUser(caller.userId)}`] }] });
    if (this.rooms && next.room) await this.postHome(next, postmortemReport(next));
    return next;
  }

  /**
   * Records something done for an incident in its timeline: a command run in its channel (or,
   * without rooms, in its thread or in the incidents channel while exactly one is open), an
   * approval, an outcome. Never throws: what it records already happened.
   */
  async note(caller: Caller, text: string, kind: TimelineKind = 'command'): Promise<boolean> {
    let target: Incident | undefined;
    if (this.rooms) {
      target = (await this.list()).find((i) => i.room?.id === caller.channelId && i.status === 'open');
    } else if (caller.channelId === this.channel) {
      target = await this.find(caller, undefined, 'update').catch(() => undefined);
      // In some other thread (an alert's): not this incident's business.
      if (caller.threadTs !== undefined && caller.threadTs !== target?.ts) target = undefined;
    }
    if (!target) return false;
    const next = await this.change(target.number, (i) => (i.status === 'open' ? { ...i, timeline: [...i.timeline, { at: this.now(), user: caller.userId, text, kind }] } : i));
    if (next) this.refresh(next);
    return next !== undefined;
  }

  /** A message marked with 📌 in an incident's channel goes in its timeline, quoted. */
  async pinned(user: string, channel: string, ts: string): Promise<boolean> {
    const rooms = this.rooms;
    const target = (await this.list()).find((i) => i.room?.id === channel && i.status === 'open');
    if (!rooms || !target) return false;
    const marked = (i: Incident) => i.timeline.some((e) => e.kind === 'pin' && e.ref === ts);
    if (marked(target)) return true;
    const text = await rooms.messageText(channel, ts).catch(() => undefined);
    const link = text === undefined ? await rooms.permalink(channel, ts).catch(() => undefined) : undefined;
    const quoted = text !== undefined ? `“${truncate(text.replace(/\s+/g, ' '), 300)}”` : (link ?? `the message at ${ts}`);
    const entry: TimelineEntry = { at: this.now(), user, text: `📌 marked ${quoted}`, kind: 'pin', ref: ts };
    // Checked again in the write: a redelivery handled at the same time (by another replica) records nothing.
    let added = false;
    const next = await this.changeOrThrow(target.number, (i) => {
      added = !marked(i);
      return added ? { ...i, timeline: [...i.timeline, entry] } : i;
    });
    if (added) this.refresh(next);
    return true;
  }

  /** An alert thread changed: incidents declared from it record it (open ones in their timeline) and keep its start and end. */
  async alertChanged(change: AlertChange): Promise<void> {
    const linked = (await this.list()).filter((i) => i.alert?.channel === change.channel && i.alert.ts === change.ts);
    for (const incident of linked) {
      const at = this.now();
      const next = await this.change(incident.number, (i) => ({
        ...i,
        ...(i.alert ? { alert: { ...i.alert, startsAt: change.startsAt ?? i.alert.startsAt, endsAt: change.endsAt } } : {}),
        timeline: i.status === 'open' ? [...i.timeline, { at, user: 'alertmanager', text: `alert ${change.name ? `${change.name}: ` : ''}${change.text}`, kind: 'alert' }] : i.timeline,
      }));
      if (next?.status === 'open') this.refresh(next);
    }
  }

  /** Where the incident's messages go: its channel, or its thread. */
  private home(incident: Incident): { channel: string; threadTs?: string } {
    return incident.room ? { channel: incident.room.id } : { channel: incident.channel, threadTs: incident.ts };
  }

  /** A message where the incident lives, then its summary (and line) updated in place. */
  private async say(incident: Incident, reply: Report): Promise<void> {
    if (!incident.room && !incident.ts) return;
    await this.postHome(incident, reply);
    this.refresh(incident);
  }

  /**
   * A report where the incident lives. Teams archive an incident's channel once it is over, and
   * Slack then refuses posts there (is_archived): a later follow-up or postmortem draft goes to
   * the incident's line in the incidents channel, in its thread, instead.
   */
  private async postHome(incident: Incident, report: Report): Promise<void> {
    try {
      await this.poster.report(this.home(incident), report);
    } catch (err) {
      if (slackErrorCode(err) !== 'is_archived' || !incident.room || !incident.ts) throw err;
      await this.poster.report({ channel: this.channel, threadTs: incident.ts }, report);
    }
  }

  /**
   * The summary and the incidents channel's line, edited to the incident as it is now. Nobody
   * waits for them: edits take turns within chat.update's tier for the whole workspace, and in
   * a busy minute a command typed in an incident's channel would be answered only after them.
   */
  private refresh(incident: Incident): void {
    if (incident.room?.summaryTs) this.edit(incident.room.id, incident.room.summaryTs, rootReport(incident));
    if (incident.ts) this.edit(incident.channel, incident.ts, incident.room ? incidentLine(incident) : rootReport(incident));
  }

  /** One message edited, on its own: a summary Slack refuses to edit doesn't keep the line from its edit. */
  private edit(channel: string, ts: string, report: Report): void {
    const edit: Promise<void> = this.poster
      .updateReport(channel, ts, report)
      .catch(this.editFailed)
      .finally(() => this.edits.delete(edit));
    this.edits.add(edit);
  }

  private record(number: number, entry: TimelineEntry): Promise<Incident> {
    return this.changeOrThrow(number, (i) => ({ ...i, timeline: [...i.timeline, entry] }));
  }

  private async changeOrThrow(number: number, edit: (i: Incident) => Incident): Promise<Incident> {
    const next = await this.change(number, edit);
    if (!next) throw new NotFoundError(`Incident #${number} vanished.`);
    return next;
  }

  /** Read-modify-write with CAS, retried: two people updating at once both land. Stored bounded. */
  private change(number: number, edit: (i: Incident) => Incident): Promise<Incident | undefined> {
    return editEntry<Incident>(this.store, KIND, String(number), (i) => boundedIncident(edit(i)));
  }
}

/** Slack's error code of a failed call, or the error's message. */
function slackErrorText(err: unknown): string {
  return slackErrorCode(err) ?? (err instanceof Error ? err.message : String(err));
}

/** The incidents of a command's context, or a clear error where there are none (the CLI). */
export function incidentsOf(ctx: { incidents?: Incidents }): Incidents {
  if (!ctx.incidents) throw new NothingToDoError('Incidents live in Slack: they need the bot running there with `alerts.channel` (the incidents channel) set in the config.');
  return ctx.incidents;
}

/** Where the caller is told it worked: only them, since the thread already says it. */
export function ackReport(title: string, incident: Incident, summary: string): Report {
  return { title, status: 'ok', summary: `${summary} In ${mentionChannel(incident.room?.id ?? incident.channel)}.`, ephemeral: true };
}
