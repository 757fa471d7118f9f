// Channel management the way Slack answers it: conversations.create, conversations.invite,
// conversations.history and pins.add (docs.slack.dev/reference/methods/…). Errors are Slack's
// documented ones; where the docs leave a case open the emulator refuses rather than guesses.

import { str, type Args } from './args.js';
import type { ApiBody, Conversation, SlackWorkspace } from './workspace.js';

const fail = (error: string, extra: Record<string, unknown> = {}): ApiBody => ({ ok: false, error, ...extra });

/** Slack: "Channel names may only contain lowercase letters, numbers, hyphens, and underscores, and must be 80 characters or less." */
export const MAX_CHANNEL_NAME = 80;

/** The error conversations.create gives for a name, or undefined when Slack takes it. */
export function channelNameError(name: string | undefined): string | undefined {
  if (!name) return 'invalid_name_required';
  if (name.length > MAX_CHANNEL_NAME) return 'invalid_name_maxlength';
  if (/^[-_]+$/.test(name)) return 'invalid_name_punctuation';
  if (!/^[a-z0-9_-]+$/.test(name)) return 'invalid_name_specials';
  return undefined;
}

/** A boolean argument as Slack reads it: `true`/`1` in a form post, true in a JSON post. */
const flag = (args: Args, key: string): boolean => {
  const v = str(args, key);
  return v === 'true' || v === '1';
};

/** Public channels need channels:<verb>, private ones groups:<verb> (the bot scopes of these methods). */
const scopeFor = (c: Pick<Conversation, 'type'>, verb: 'manage' | 'history'): string =>
  c.type === 'public_channel' ? `channels:${verb}` : verb === 'manage' ? 'groups:write' : 'groups:history';

export function channelMethods(ws: SlackWorkspace): Record<string, (args: Args) => ApiBody> {
  const missingScope = (needed: string): ApiBody | undefined =>
    ws.scopes.has(needed) ? undefined : fail('missing_scope', { needed, provided: [...ws.scopes].join(',') });

  /** A channel the bot may act in: it must see it (public, or private and in it) and be in it. */
  const botChannel = (id: string | undefined): { c: Conversation } | { error: ApiBody } => {
    const c = id ? ws.conversations.get(id) : undefined;
    if (!c || c.type === 'im' || c.type === 'mpim' || (c.type === 'private_channel' && !c.bot)) return { error: fail('channel_not_found') };
    if (!c.bot) return { error: fail('not_in_channel') };
    return { c };
  };

  return {
    'conversations.create': (args) => {
      const isPrivate = flag(args, 'is_private');
      const denied = missingScope(isPrivate ? 'groups:write' : 'channels:manage');
      if (denied) return denied;
      const name = str(args, 'name');
      const invalid = channelNameError(name);
      if (invalid || !name) return fail(invalid ?? 'invalid_name_required');
      // Names are unique in a workspace, archived channels included.
      if ([...ws.conversations.values()].some((c) => c.name === name)) return fail('name_taken');
      const c = ws.addChannel(ws.nextId('C'), name, isPrivate ? { private: true, members: [], bot: true } : { members: [], bot: true });
      c.created = Math.floor(ws.now() / 1000);
      c.creator = ws.botUserId;
      return { ok: true, channel: ws.channelJson(c) };
    },

    'conversations.invite': (args) => {
      const target = botChannel(str(args, 'channel'));
      if ('error' in target) return target.error;
      const { c } = target;
      if (c.archived) return fail('is_archived');
      const denied = missingScope(scopeFor(c, 'manage'));
      if (denied) return denied;
      const users = (str(args, 'users') ?? '').split(',').map((u) => u.trim()).filter(Boolean);
      if (users.length === 0) return fail('no_user');
      if (users.length > 1000) return fail('too_many_users');
      const problems: Array<{ user: string; ok: false; error: string }> = [];
      for (const user of users) {
        const error = user === ws.botUserId ? 'cant_invite_self' : !ws.knowsUser(user) ? 'user_not_found' : ws.isMember(c, user) ? 'already_in_channel' : undefined;
        if (error) problems.push({ user, ok: false, error });
      }
      // Slack: if any invite fails, nobody new is invited and the call answers that error (force lets the valid ones through).
      const first = problems[0];
      if (first && !flag(args, 'force')) return fail(first.error, { errors: problems });
      const members = (c.members ??= new Set());
      for (const user of users) if (!problems.some((p) => p.user === user)) members.add(user);
      return { ok: true, channel: ws.channelJson(c), ...(problems.length ? { errors: problems } : {}) };
    },

    'conversations.history': (args) => {
      const target = botChannel(str(args, 'channel'));
      if ('error' in target) return target.error;
      const denied = missingScope(scopeFor(target.c, 'history'));
      if (denied) return denied;
      const inclusive = flag(args, 'inclusive');
      const latest = str(args, 'latest');
      const oldest = str(args, 'oldest');
      const limit = Math.min(999, Math.max(1, Number(str(args, 'limit') ?? 100) || 100));
      const after = (a: string, b: string) => Number(a) > Number(b) || (inclusive && a === b);
      // The channel's own messages, newest first; thread replies live in conversations.replies.
      const found = ws.messages
        .filter((m) => m.channel === target.c.id && !m.deleted && (!m.thread_ts || m.thread_ts === m.ts))
        .filter((m) => (latest ? after(latest, m.ts) : true) && (oldest ? after(m.ts, oldest) : true))
        .sort((a, b) => Number(b.ts) - Number(a.ts));
      return { ok: true, messages: found.slice(0, limit).map((m) => ws.messageJson(m)), has_more: found.length > limit };
    },

    // No scope needed: the bot may link any message it can see (a public channel, or one it is in).
    'chat.getPermalink': (args) => {
      const channel = str(args, 'channel');
      const c = channel ? ws.conversations.get(channel) : undefined;
      if (!c || (c.type !== 'public_channel' && !c.bot)) return fail('channel_not_found');
      const ts = str(args, 'message_ts') ?? '';
      const message = ws.findMessage(c.id, ts);
      if (!message) return fail('message_not_found');
      const reply = message.thread_ts && message.thread_ts !== ts ? `?thread_ts=${message.thread_ts}&cid=${c.id}` : '';
      return { ok: true, channel: c.id, permalink: `https://${ws.teamDomain}.slack.com/archives/${c.id}/p${ts.replace('.', '')}${reply}` };
    },

    // pins:write is checked with the other fixed scopes (SCOPE_OF_METHOD).
    'pins.add': (args) => {
      const target = botChannel(str(args, 'channel'));
      if ('error' in target) return target.error;
      // Not in pins.add's documented errors: refused here all the same, as nothing else changes in an archived channel.
      if (target.c.archived) return fail('is_archived');
      const ts = str(args, 'timestamp');
      if (!ts) return fail('no_item_specified');
      if (!/^\d+\.\d+$/.test(ts)) return fail('bad_timestamp');
      if (!ws.findMessage(target.c.id, ts)) return fail('message_not_found');
      const pins = (target.c.pins ??= new Set());
      if (pins.has(ts)) return fail('already_pinned');
      pins.add(ts);
      return { ok: true };
    },
  };
}
