// What the page shows, read from the Slack workspace emulator's records: the channel's
// messages (with their latest blocks), the selected person's ephemerals, and uploads.
import type { HeldView, SlackWorkspaceEmulator } from '../sandbox/slack/index.js';
import type { DemoChannel } from './demo.js';

export interface ConsoleMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  user: string;
  text: string;
  blocks?: unknown[];
  edited: boolean;
  /** Only the selected person sees it. */
  ephemeral: boolean;
}

export interface ConsoleUpload {
  id: number;
  channel: string;
  thread_ts?: string;
  filename: string;
  title: string;
  bytes: number;
  comment?: string;
  /** A picture (a chart) is shown inline, described by its alt text; anything else opens as text. */
  image?: { alt: string };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** What the upload is, by its bytes (a filename is the uploader's word). */
export const isPng = (bytes: Buffer) => bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE);

/** A view the person sees: their Home tab, or the modal on top of their stack. */
export interface ConsoleView {
  id: string;
  hash: string;
  title?: string;
  submit?: string;
  close?: string;
  blocks: unknown[];
  /** What the app's response_action: errors said, by block_id. */
  errors?: Record<string, string>;
}

export interface ConsoleState {
  version: string;
  channels: DemoChannel[];
  messages: ConsoleMessage[];
  uploads: ConsoleUpload[];
  home?: ConsoleView;
  modal?: ConsoleView;
}

const textOf = (t: unknown) => (typeof t === 'object' && t !== null && typeof (t as { text?: unknown }).text === 'string' ? (t as { text: string }).text : undefined);

function viewOf(held: HeldView | undefined): ConsoleView | undefined {
  if (!held) return undefined;
  const title = textOf(held.view.title);
  const submit = textOf(held.view.submit);
  const close = textOf(held.view.close);
  return {
    id: held.id,
    hash: held.hash,
    ...(title ? { title } : {}),
    ...(submit ? { submit } : {}),
    ...(close ? { close } : {}),
    blocks: Array.isArray(held.view.blocks) ? held.view.blocks : [],
    ...(held.errors ? { errors: held.errors } : {}),
  };
}

/**
 * Changes whenever anything the page shows changes. The emulator appends records and updates
 * messages by appending to `updates`, so counts are enough and cost nothing to compute.
 */
export function stateVersion(ws: SlackWorkspaceEmulator): string {
  let updates = 0;
  let deleted = 0;
  for (const m of ws.messages) {
    updates += m.updates.length;
    if (m.deleted) deleted += 1;
  }
  // A view changes with a new hash (the newest is the largest ts), errors shown on it, or a modal opened or closed.
  let newest = '';
  let errors = 0;
  for (const v of ws.views.values()) {
    if (v.hash > newest) newest = v.hash;
    if (v.errors) errors += JSON.stringify(v.errors).length;
  }
  let open = 0;
  for (const stack of ws.modalStacks.values()) open += stack.length;
  return [ws.messages.length, updates, deleted, ws.ephemerals.length, ws.uploads.length, ws.views.size, newest, errors, open].join('.');
}

export function consoleState(ws: SlackWorkspaceEmulator, user: string, known: readonly DemoChannel[]): ConsoleState {
  const channels = [...known];
  const seen = new Set(channels.map((c) => c.id));
  const remember = (id: string) => {
    // The bot may post elsewhere (an audit channel, an incident's channel): show those channels
    // too, the ones with a member list (channels the bot created) only to their members.
    const members = ws.conversations.get(id)?.members;
    if (seen.has(id) || id === '' || (members && !members.has(user))) return;
    seen.add(id);
    channels.push({ id, name: ws.channelName(id) });
  };
  const messages: ConsoleMessage[] = [];
  for (const m of ws.messages) {
    if (m.deleted) continue;
    remember(m.channel);
    messages.push({
      channel: m.channel,
      ts: m.ts,
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      user: m.user,
      text: m.text,
      ...(m.blocks ? { blocks: m.blocks } : {}),
      edited: m.updates.length > 0,
      ephemeral: false,
    });
  }
  for (const e of ws.ephemerals) {
    if (e.user !== user) continue;
    remember(e.channel);
    messages.push({
      channel: e.channel,
      ts: e.message_ts,
      ...(e.thread_ts ? { thread_ts: e.thread_ts } : {}),
      user: ws.botUserId,
      text: e.text,
      ...(e.blocks ? { blocks: e.blocks } : {}),
      edited: false,
      ephemeral: true,
    });
  }
  const uploads = ws.uploads.map((u, id): ConsoleUpload => {
    remember(u.channel);
    return {
      id,
      channel: u.channel,
      ...(u.thread_ts ? { thread_ts: u.thread_ts } : {}),
      filename: u.filename,
      title: u.title ?? u.filename,
      bytes: u.bytes.length,
      ...(u.initial_comment ? { comment: u.initial_comment } : {}),
      ...(isPng(u.bytes) ? { image: { alt: u.alt_txt ?? '' } } : {}),
    };
  });
  const home = viewOf(ws.homeOf(user));
  const modal = viewOf(ws.topModal(user));
  return { version: stateVersion(ws), channels, messages, uploads, ...(home ? { home } : {}), ...(modal ? { modal } : {}) };
}

