// The emulator's channel management (conversations.create/invite/history, pins.add) driven by
// the real @slack/web-api WebClient, and reaction_added delivered to a real Bolt app.
import { App, LogLevel as BoltLogLevel } from '@slack/bolt';
import { WebClient, type WebAPIPlatformError } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { channelNameError } from '../../src/sandbox/slack/channels.js';
import { captureLogger } from './slack-helpers.js';

const SCOPES = ['chat:write', 'channels:manage', 'channels:history', 'pins:write', 'reactions:read'];
let emu: SlackWorkspaceEmulator;
let client: WebClient;

beforeAll(async () => {
  emu = await SlackWorkspaceEmulator.start({ scopes: SCOPES, botEvents: ['reaction_added'] });
  emu.addUser('U1', { name: 'ann' });
  emu.addUser('U2', { name: 'bob' });
  emu.addChannel('COPEN', 'open-to-all');
  emu.addChannel('CPRIV', 'secret', { private: true, members: ['U1'] });
  client = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, logger: captureLogger(), retryConfig: { retries: 0 } });
});
afterAll(() => emu.close());

async function slackError(p: Promise<unknown>): Promise<WebAPIPlatformError['data']> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error) || !('data' in err)) throw new Error(`expected a Slack platform error, got ${String(err)}`);
  return (err as WebAPIPlatformError).data;
}

/** A channel the bot creates, with U1 invited and a message U1 wrote there. */
async function channelWithPost(name: string, text: string) {
  const { channel } = await client.conversations.create({ name });
  const id = channel?.id ?? '';
  await client.conversations.invite({ channel: id, users: 'U1' });
  return { id, said: emu.userPosts(id, 'U1', text) };
}

describe('conversations.create', () => {
  it('creates a public channel the bot is in, shaped as documented', async () => {
    const res = await client.conversations.create({ name: 'inc-20260101-1-db' });
    expect(res.channel).toMatchObject({ name: 'inc-20260101-1-db', is_channel: true, is_private: false, is_member: true, creator: emu.botUserId });
    const c = emu.conversations.get(res.channel?.id ?? '');
    expect(c?.bot).toBe(true);
    // Nobody else is in it until invited.
    expect(c && emu.isMember(c, 'U1')).toBe(false);
  });

  it("holds names to Slack's rules", async () => {
    expect((await slackError(client.conversations.create({ name: 'inc-20260101-1-db' }))).error).toBe('name_taken');
    expect((await slackError(client.conversations.create({ name: 'Inc-Upper' }))).error).toBe('invalid_name_specials');
    expect((await slackError(client.conversations.create({ name: 'has space' }))).error).toBe('invalid_name_specials');
    expect((await slackError(client.conversations.create({ name: 'a'.repeat(81) }))).error).toBe('invalid_name_maxlength');
    expect((await slackError(client.conversations.create({ name: '--' }))).error).toBe('invalid_name_punctuation');
    expect((await slackError(client.conversations.create({ name: '' }))).error).toBe('invalid_name_required');
    expect(channelNameError('a'.repeat(80))).toBeUndefined();
    expect(channelNameError('inc_1-x')).toBeUndefined();
  });

  it('a private channel needs groups:write, which this install lacks', async () => {
    const data = await slackError(client.conversations.create({ name: 'private-one', is_private: true }));
    expect(data).toMatchObject({ error: 'missing_scope', needed: 'groups:write' });
  });

  it('without channels:manage it is missing_scope', async () => {
    const narrow = await SlackWorkspaceEmulator.start({ scopes: ['chat:write'] });
    try {
      const c = new WebClient(narrow.botToken, { slackApiUrl: narrow.apiUrl, logger: captureLogger(), retryConfig: { retries: 0 } });
      expect(await slackError(c.conversations.create({ name: 'x' }))).toMatchObject({ error: 'missing_scope', needed: 'channels:manage' });
    } finally {
      await narrow.close();
    }
  });
});

describe('conversations.invite', () => {
  it('invites people, and refuses the documented cases', async () => {
    const { channel } = await client.conversations.create({ name: 'invite-test' });
    const id = channel?.id ?? '';
    const res = await client.conversations.invite({ channel: id, users: 'U1,U2' });
    expect(res.channel?.id).toBe(id);
    const c = emu.conversations.get(id);
    expect(c && emu.isMember(c, 'U1') && emu.isMember(c, 'U2')).toBe(true);

    expect((await slackError(client.conversations.invite({ channel: id, users: 'U1' }))).error).toBe('already_in_channel');
    expect((await slackError(client.conversations.invite({ channel: id, users: emu.botUserId }))).error).toBe('cant_invite_self');
    expect((await slackError(client.conversations.invite({ channel: id, users: 'U0NOBODY' }))).error).toBe('user_not_found');
    expect((await slackError(client.conversations.invite({ channel: 'CNOPE', users: 'U1' }))).error).toBe('channel_not_found');
    // A public channel the bot never joined: it can see it, but not invite into it.
    expect((await slackError(client.conversations.invite({ channel: 'COPEN', users: 'U1' }))).error).toBe('not_in_channel');
    // A private channel it isn't in does not exist for it.
    expect((await slackError(client.conversations.invite({ channel: 'CPRIV', users: 'U2' }))).error).toBe('channel_not_found');
  });

  it('one bad user in the list invites nobody', async () => {
    const { channel } = await client.conversations.create({ name: 'all-or-nothing' });
    const id = channel?.id ?? '';
    const data = await slackError(client.conversations.invite({ channel: id, users: 'U1,U0NOBODY' }));
    expect(data.error).toBe('user_not_found');
    const c = emu.conversations.get(id);
    expect(c && emu.isMember(c, 'U1')).toBe(false);
  });
});

describe('pins.add and conversations.history', () => {
  it('pins a message once; unknown messages and channels are refused', async () => {
    const { channel } = await client.conversations.create({ name: 'pin-test' });
    const id = channel?.id ?? '';
    const posted = await client.chat.postMessage({ channel: id, text: 'summary' });
    await client.pins.add({ channel: id, timestamp: posted.ts ?? '' });
    expect(emu.conversations.get(id)?.pins?.has(posted.ts ?? '')).toBe(true);
    expect((await slackError(client.pins.add({ channel: id, timestamp: posted.ts ?? '' }))).error).toBe('already_pinned');
    expect((await slackError(client.pins.add({ channel: id, timestamp: '1.000001' }))).error).toBe('message_not_found');
    expect((await slackError(client.pins.add({ channel: 'COPEN', timestamp: posted.ts ?? '' }))).error).toBe('not_in_channel');
    expect((await slackError(client.pins.add({ channel: 'CNOPE', timestamp: posted.ts ?? '' }))).error).toBe('channel_not_found');
  });

  it('reads one message back by its ts (latest + inclusive + limit 1)', async () => {
    const { id, said: mine } = await channelWithPost('history-test', 'db failover started');
    await client.chat.postMessage({ channel: id, text: 'later' });
    const res = await client.conversations.history({ channel: id, latest: mine.ts, inclusive: true, limit: 1 });
    expect(res.messages).toEqual([expect.objectContaining({ ts: mine.ts, text: 'db failover started', user: 'U1' })]);
    expect(res.messages?.[0]).not.toHaveProperty('bot_id');
    expect((await slackError(client.conversations.history({ channel: 'COPEN' }))).error).toBe('not_in_channel');
  });
});

describe('an archived channel', () => {
  it('is read, never written: posts, ephemerals and invites are is_archived, edits is_inactive; people can neither type nor react there', async () => {
    const { id, said } = await channelWithPost('archived-later', 'all clear');
    const posted = await client.chat.postMessage({ channel: id, text: 'summary' });
    emu.archive(id);
    expect((await slackError(client.chat.postMessage({ channel: id, text: 'late' }))).error).toBe('is_archived');
    expect((await slackError(client.chat.postEphemeral({ channel: id, user: 'U1', text: 'late' }))).error).toBe('is_archived');
    expect((await slackError(client.chat.update({ channel: id, ts: posted.ts ?? '', text: 'edited' }))).error).toBe('is_inactive');
    expect((await slackError(client.conversations.invite({ channel: id, users: 'U2' }))).error).toBe('is_archived');
    expect((await client.conversations.history({ channel: id, latest: said.ts, inclusive: true, limit: 1 })).messages?.[0]?.text).toBe('all clear');
    expect((await client.conversations.info({ channel: id })).channel?.is_archived).toBe(true);
    expect(() => emu.userPosts(id, 'U1', 'one more')).toThrow(/archived/);
    await expect(emu.addReaction('http://127.0.0.1:9/slack/events', { user: 'U1', channel: id, ts: said.ts, reaction: 'pushpin' })).rejects.toThrow(/archived/);
    await expect(emu.sendSlashCommand('http://127.0.0.1:9/slack/events', { user: 'U1', channel: id, text: 'status' })).rejects.toThrow(/archived/);
    expect(emu.messages.filter((m) => m.channel === id).map((m) => m.text)).toEqual(['all clear', 'summary']);
  });
});

describe('reaction_added', () => {
  it('reaches a Bolt app over HTTP, signed, as an event_callback', async () => {
    const { id, said: message } = await channelWithPost('reaction-test', 'look here');
    const seen: unknown[] = [];
    const app = new App({ token: emu.botToken, signingSecret: emu.signingSecret, logLevel: BoltLogLevel.ERROR, clientOptions: { slackApiUrl: emu.apiUrl } });
    app.event('reaction_added', async ({ event }) => void seen.push(event));
    const server = (await app.start(0)) as import('node:http').Server;
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      const url = `http://127.0.0.1:${port}/slack/events`;
      const res = await emu.addReaction(url, { user: 'U1', channel: id, ts: message.ts, reaction: 'pushpin' });
      expect(res).toMatchObject({ status: 200 });
      expect(seen).toEqual([expect.objectContaining({ type: 'reaction_added', user: 'U1', reaction: 'pushpin', item: { type: 'message', channel: id, ts: message.ts }, item_user: 'U1' })]);
      // A forged one (wrong secret) is refused by Bolt.
      expect(await emu.addReaction(url, { user: 'U1', channel: id, ts: message.ts, reaction: 'eyes' }, { signature: 'bad' })).toMatchObject({ status: 401 });
      expect(seen).toHaveLength(1);
    } finally {
      await app.stop();
    }
  });

  it('is not sent without the subscription, the scope, or the bot in the channel', async () => {
    const bare = await SlackWorkspaceEmulator.start({ scopes: ['chat:write', 'reactions:read'] });
    try {
      bare.addChannel('C9', 'c9', { bot: true, members: ['U1'] });
      bare.addUser('U1', {});
      const m = bare.userPosts('C9', 'U1', 'x');
      expect(await bare.addReaction('http://127.0.0.1:9/', { user: 'U1', channel: 'C9', ts: m.ts, reaction: 'pushpin' })).toEqual({ notSent: 'the app does not subscribe to reaction_added' });
    } finally {
      await bare.close();
    }
    emu.addChannel('CNOBOT', 'nobot', { members: ['U1'] });
    const m = emu.userPosts('CNOBOT', 'U1', 'y');
    expect(await emu.addReaction('http://127.0.0.1:9/', { user: 'U1', channel: 'CNOBOT', ts: m.ts, reaction: 'pushpin' })).toEqual({ notSent: 'the bot is not in the conversation' });
  });
});
