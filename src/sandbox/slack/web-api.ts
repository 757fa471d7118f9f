// The Web API methods the bot calls, answered the way Slack answers them (ok:false errors with
// HTTP 200). Arguments may come from a form post (strings) or a JSON post (values): see args.ts.

import { jsonArg, str, type Args } from './args.js';
import { LIMITS, validateBlocks } from './block-kit.js';
import { channelMethods } from './channels.js';
import type { ApiBody, PendingFile, SlackWorkspace } from './workspace.js';
import type { RecordedMessage } from './types.js';
import { viewMethods } from './views.js';

/** Slack rejects longer message text outright on chat.postMessage. */
export const MAX_TEXT = 40_000;

export interface EmulatorUrls {
  /** Where files.getUploadURLExternal tells the client to POST the bytes. */
  upload(fileId: string): string;
  /** A fresh single-use Socket Mode URL, as apps.connections.open hands out. */
  socket(): string;
}

/** files.getUploadURLExternal: alt_txt_too_large past this many characters. */
const MAX_ALT_TXT = 1000;
const fail = (error: string, extra: Record<string, unknown> = {}): ApiBody => ({ ok: false, error, ...extra });

type Blocks = { blocks: unknown[] | undefined } | { error: ApiBody };

/** Reads and validates `blocks`; an invalid set is refused whole, as Slack does. */
export function readBlocks(args: Args): Blocks {
  const parsed = jsonArg(args, 'blocks');
  if (!parsed.ok) return { error: fail('invalid_blocks_format') };
  const value = parsed.value;
  if (value === undefined || value === null || value === '') return { blocks: undefined };
  if (!Array.isArray(value)) return { error: fail('invalid_blocks_format') };
  const errors = validateBlocks(value);
  if (errors.length > 0) {
    return {
      error: fail('invalid_blocks', {
        errors,
        response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
      }),
    };
  }
  if (JSON.stringify(value).length > LIMITS.blocksJsonPerMessage) return { error: fail('msg_blocks_too_long') };
  return { blocks: value };
}

export function webApiMethods(ws: SlackWorkspace, urls: EmulatorUrls): Record<string, (args: Args) => ApiBody> {
  /**
   * Shared checks of postMessage/postEphemeral/update: text length, blocks. chat.update passes the
   * message's blocks: without a `blocks` argument Slack keeps them (an empty array removes them).
   */
  const readContent = (args: Args, keptBlocks?: unknown[]): { text: string; blocks: unknown[] | undefined } | { error: ApiBody } => {
    const text = str(args, 'text') ?? '';
    if (text.length > MAX_TEXT) return { error: fail('msg_too_long') };
    const given = args.blocks !== undefined;
    const b = readBlocks(args);
    if ('error' in b) return b;
    const blocks = given ? b.blocks : keptBlocks;
    if (text === '' && !blocks?.length) return { error: fail('no_text') };
    return { text, blocks };
  };

  return {
    ...channelMethods(ws),
    ...viewMethods(ws),

    'auth.test': () => ({
      ok: true,
      url: `https://${ws.teamDomain}.slack.com/`,
      team: ws.teamName,
      user: 'vlinders-ops',
      team_id: ws.teamId,
      user_id: ws.botUserId,
      bot_id: ws.botId,
      is_enterprise_install: false,
      ...(ws.enterprise ? { enterprise_id: ws.enterprise.id } : {}),
    }),

    'apps.connections.open': () => ({ ok: true, url: urls.socket() }),

    'chat.postMessage': (args) => {
      // A user id as the channel posts in the app's DM with that person (its Messages tab).
      const given = str(args, 'channel');
      const channel = given?.startsWith('U') || given?.startsWith('W') ? ws.appDmWith(given)?.id : given;
      const denied = ws.postAccess(channel);
      if (denied || !channel) return fail(denied ?? 'channel_not_found');
      const content = readContent(args);
      if ('error' in content) return content.error;
      const threadTs = str(args, 'thread_ts');
      const message: RecordedMessage = {
        channel,
        ts: ws.nextTs(),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        text: content.text,
        ...(content.blocks ? { blocks: content.blocks } : {}),
        user: ws.botUserId,
        updates: [],
      };
      ws.messages.push(message);
      return { ok: true, channel, ts: message.ts, message: ws.messageJson(message) };
    },

    'chat.postEphemeral': (args) => {
      const channel = str(args, 'channel');
      // chat:write.public covers chat.postMessage only: an ephemeral message needs the bot in the conversation.
      const denied = ws.postAccess(channel, { publicScope: false });
      if (denied || !channel) return fail(denied ?? 'channel_not_found');
      const user = str(args, 'user');
      if (!user) return fail('user_not_found');
      const conversation = ws.conversations.get(channel);
      if (conversation && !ws.isMember(conversation, user)) return fail('user_not_in_channel');
      const content = readContent(args);
      if ('error' in content) return content.error;
      const threadTs = str(args, 'thread_ts');
      const messageTs = ws.nextTs();
      ws.ephemerals.push({
        channel,
        user,
        text: content.text,
        ...(content.blocks ? { blocks: content.blocks } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        message_ts: messageTs,
      });
      return { ok: true, message_ts: messageTs };
    },

    'chat.update': (args) => {
      const channel = str(args, 'channel');
      const ts = str(args, 'ts');
      const denied = ws.postAccess(channel);
      if (denied || !channel) return fail(denied === 'is_archived' ? 'is_inactive' : (denied ?? 'channel_not_found'));
      const message = ts ? ws.findMessage(channel, ts) : undefined;
      if (!message) return fail('message_not_found');
      if (message.user !== ws.botUserId) return fail('cant_update_message');
      const content = readContent(args, message.blocks);
      if ('error' in content) return content.error;
      message.updates.push({ text: content.text, ...(content.blocks ? { blocks: content.blocks } : {}) });
      message.text = content.text;
      if (content.blocks?.length) message.blocks = content.blocks;
      else delete message.blocks;
      return { ok: true, channel, ts: message.ts, text: message.text, message: ws.messageJson(message) };
    },

    'chat.delete': (args) => {
      const channel = str(args, 'channel');
      const ts = str(args, 'ts');
      const denied = ws.postAccess(channel);
      if (denied || !channel) return fail(denied ?? 'channel_not_found');
      const message = ts ? ws.findMessage(channel, ts) : undefined;
      if (!message) return fail('message_not_found');
      message.deleted = true;
      return { ok: true, channel, ts: message.ts };
    },

    'usergroups.users.list': (args) => {
      const users = ws.userGroups.get(str(args, 'usergroup') ?? '');
      return users ? { ok: true, users: [...users] } : fail('no_such_subteam');
    },

    'users.info': (args) => {
      const id = str(args, 'user');
      if (!id || !/^[UW]/.test(id)) return fail('user_not_found');
      const isBot = id === ws.botUserId;
      const p = isBot ? { name: 'vlinders-ops', real_name: 'vlinders-ops', tz: 'Europe/Amsterdam' } : ws.userProfile(id);
      return {
        ok: true,
        user: {
          id,
          team_id: ws.teamId,
          name: p.name,
          real_name: p.real_name,
          tz: p.tz,
          deleted: false,
          is_bot: isBot,
          profile: { real_name: p.real_name, display_name: p.name },
        },
      };
    },

    'conversations.info': (args) => {
      const id = str(args, 'channel');
      const c = id ? ws.conversations.get(id) : undefined;
      // The bot sees public channels, and the private ones it is in.
      if (!c || (c.type !== 'public_channel' && !c.bot)) return fail('channel_not_found');
      return {
        ok: true,
        channel: {
          id: c.id,
          name: c.name,
          is_channel: c.type === 'public_channel' || c.type === 'private_channel',
          is_group: c.type === 'private_channel',
          is_im: c.type === 'im',
          is_mpim: c.type === 'mpim',
          is_private: c.type !== 'public_channel',
          is_member: c.bot,
          is_archived: c.archived === true,
        },
      };
    },

    'files.getUploadURLExternal': (args) => {
      const filename = str(args, 'filename');
      const length = Number(str(args, 'length'));
      if (!filename || !Number.isInteger(length) || length < 0) return fail('invalid_arguments');
      // Slack: "Typically only occurs when the `length` provided is 0."
      if (length === 0) return fail('missing_argument');
      if (length > ws.limits.maxUploadBytes) return fail('file_upload_size_restricted');
      // Documented as alt_txt (not alt_text): "Description for the image is longer than the limit of 1000 character".
      const altTxt = str(args, 'alt_txt');
      if (altTxt !== undefined && altTxt.length > MAX_ALT_TXT) return fail('alt_txt_too_large');
      const fileId = ws.nextId('F');
      ws.files.set(fileId, { filename, length, ...(altTxt !== undefined ? { altTxt } : {}) });
      return { ok: true, upload_url: urls.upload(fileId), file_id: fileId };
    },

    'files.completeUploadExternal': (args) => {
      const parsed = jsonArg(args, 'files');
      if (!parsed.ok || !Array.isArray(parsed.value) || parsed.value.length === 0) return fail('invalid_arguments');
      const entries = parsed.value as Array<{ id?: unknown; title?: unknown }>;
      // Check all first, so a bad id leaves nothing half-shared.
      for (const entry of entries) {
        const file = typeof entry.id === 'string' ? ws.files.get(entry.id) : undefined;
        if (!file?.content) return fail('file_not_found');
      }
      const channel = str(args, 'channel_id') ?? '';
      // Sharing a file is posting it: the bot must be in the conversation (chat:write.public is for messages).
      if (channel) {
        const denied = ws.postAccess(channel, { publicScope: false });
        if (denied) return fail(denied);
      }
      const threadTs = str(args, 'thread_ts');
      const comment = str(args, 'initial_comment');
      const files = entries.map((entry) => {
        const id = entry.id as string;
        const file = ws.files.get(id) as PendingFile & { content: Buffer };
        const title = typeof entry.title === 'string' ? entry.title : undefined;
        ws.uploads.push({
          channel,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          filename: file.filename,
          ...(title !== undefined ? { title } : {}),
          content: file.content.toString('utf8'),
          bytes: file.content,
          ...(file.altTxt !== undefined ? { alt_txt: file.altTxt } : {}),
          ...(comment !== undefined ? { initial_comment: comment } : {}),
        });
        return { id, name: file.filename, title: title ?? file.filename, size: file.content.length };
      });
      return { ok: true, files };
    },
  };
}
