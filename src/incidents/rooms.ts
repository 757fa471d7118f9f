// Incident channels: the name `inc-YYYYMMDD-<n>-<slug>`, what the bot needs of Slack to run
// one (IncidentRooms, implemented by slack/rooms.ts), and the postmortem draft written on
// resolve. The slug is built only from [a-z0-9-], so no outside text reaches a channel name.
import { plainMentions } from '../core/mention.js';

/** What incident channels need of Slack. */
export interface IncidentRooms {
  /** conversations.create; 'name_taken' when the name exists (archived channels too). */
  create(name: string): Promise<{ id: string } | 'name_taken'>;
  /** Invites each person not yet in the channel (conversations.invite). */
  invite(channel: string, users: readonly string[]): Promise<void>;
  /** The on-call group's members; none when no group is configured. */
  onCall(): Promise<string[]>;
  pin(channel: string, ts: string): Promise<void>;
  /** A message's permalink (chat.getPermalink). */
  permalink(channel: string, ts: string): Promise<string | undefined>;
  /** A top-level message's text (conversations.history), for 📌 marks. */
  messageText(channel: string, ts: string): Promise<string | undefined>;
}

/** Slack's limit for a channel name. */
const MAX_NAME = 80;
const MAX_SLUG = 40;

/** `inc-20260105-2-api-p95-over-2-s`: the day (UTC), the day's n-th incident channel, the title's safe words. */
export function roomName(openedAt: number, n: number, title: string): string {
  const day = new Date(openedAt).toISOString().slice(0, 10).replace(/-/g, '');
  const prefix = `inc-${day}-${n}`;
  const slug = titleSlug(title).slice(0, Math.min(MAX_SLUG, MAX_NAME - prefix.length - 1)).replace(/-+$/, '');
  return slug ? `${prefix}-${slug}` : prefix;
}

/** Lowercase ASCII letters and digits of a title, runs joined by '-' (accents dropped, everything else a separator). */
export function titleSlug(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Outside text made inert in Markdown: no headings, links or emphasis from it; one line.
 * `<`, `>` and `&` are left to the upload's entity escaping (slack/mrkdwn.ts fileText), which
 * Markdown shows as the characters and never as HTML.
 */
export function markdownText(text: string): string {
  return plainMentions(text)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\`*_{}[\]()#+\-.!|~]/g, (c) => `\\${c}`);
}

export interface PostmortemInput {
  number: number;
  title: string;
  sev: number;
  commander: string;
  comms?: string;
  roomName?: string;
  openedAt: number;
  resolvedAt?: number;
  summary?: string;
  alert?: { name?: string; link?: string; startsAt?: string; endsAt?: string };
  timeline: Array<{ at: number; user: string; text: string; kind?: string }>;
  dropped?: number;
  followUps: string[];
}

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Kinds of timeline entry that are actions somebody took (commands, approvals, their outcomes). */
export const ACTION_KINDS: ReadonlySet<string> = new Set(['command', 'approval', 'outcome']);

/** The draft as Markdown: facts filled in, causes and follow-ups for the team to write. */
export function postmortemMarkdown(p: PostmortemInput): string {
  const who = (id: string) => `@${markdownText(id)}`;
  const entry = (e: PostmortemInput['timeline'][number]) => `- ${when(e.at)} ${who(e.user)} ${markdownText(e.text)}`;
  const impact: string[] = [];
  const alert = p.alert;
  if (alert?.startsAt) {
    const start = Date.parse(alert.startsAt);
    const end = alert.endsAt ? Date.parse(alert.endsAt) : NaN;
    const name = markdownText(alert.name ?? 'the alert');
    impact.push(
      Number.isFinite(end) && end >= start
        ? `- Alert ${name} fired from ${when(start)} to ${when(end)} (${duration(end - start)}).`
        : `- Alert ${name} fired from ${when(start)}; it had not resolved when the incident was.`,
    );
  }
  impact.push(`- Incident open from ${when(p.openedAt)} to ${p.resolvedAt ? `${when(p.resolvedAt)} (${duration(p.resolvedAt - p.openedAt)})` : 'now'}.`);
  const actions = p.timeline.filter((e) => e.kind && ACTION_KINDS.has(e.kind));
  return [
    `# Postmortem draft: incident #${p.number}, ${markdownText(p.title)}`,
    '',
    `- Severity: SEV${p.sev}`,
    `- Commander: ${who(p.commander)}${p.comms ? `; comms: ${who(p.comms)}` : ''}`,
    ...(p.roomName ? [`- Channel: #${p.roomName}`] : []),
    ...(alert?.link ? [`- Alert thread: ${alert.link}`] : []),
    ...(p.summary ? [`- Resolution: ${markdownText(p.summary)}`] : []),
    '',
    '## Impact',
    '',
    ...impact,
    '',
    '## Timeline',
    '',
    ...(p.dropped ? [`- … ${p.dropped} earlier entries not kept`] : []),
    ...p.timeline.map(entry),
    '',
    '## Actions taken',
    '',
    ...(actions.length ? actions.map(entry) : ['- None recorded.']),
    '',
    '## Causes',
    '',
    '_To be written: what happened, and why._',
    '',
    '## Follow-ups',
    '',
    ...p.followUps.map((f) => `- [ ] ${markdownText(f)}`),
    '',
  ].join('\n');
}
