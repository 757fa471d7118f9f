// The emulator's Web API, driven by the real @slack/web-api WebClient.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebClient, WebAPIPlatformError, WebAPIRateLimitedError, WebClientEvent } from '@slack/web-api';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { commandTextAsSent, newResponseUrl } from '../../src/sandbox/slack/user.js';
import { DEFAULT_LIMITS } from '../../src/sandbox/slack/workspace.js';
import { captureLogger } from './slack-helpers.js';

let emu: SlackWorkspaceEmulator;
let client: WebClient;
const logger = captureLogger();
// The workspace clock: a second passes between any two calls, so method tests aren't held to
// the posting limit; the limit tests stop it (stepMs = 0) and move it by hand.
let clockMs = Date.now();
let stepMs = 1000;

beforeAll(async () => {
  emu = await SlackWorkspaceEmulator.start({ now: () => (clockMs += stepMs) });
  emu.addChannel('C1', 'vlinders-ops', { bot: true, members: ['U1', 'U2', 'U0PERSON1'] });
  emu.addChannel('C2', 'other', { bot: true });
  client = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, logger, retryConfig: { retries: 0 } });
});
afterAll(() => emu.close());
beforeEach(() => {
  clockMs += 60_000;
  stepMs = 1000;
  emu.messages = [];
  emu.ephemerals = [];
  emu.uploads = [];
  emu.calls = [];
});

/** The Slack error code of a failed call (WebClient throws WebAPIPlatformError with data.error). */
async function slackError(p: Promise<unknown>): Promise<WebAPIPlatformError['data'] & { errors?: string[] }> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error) || !('data' in err)) throw new Error(`expected a Slack platform error, got ${String(err)}`);
  return (err as WebAPIPlatformError).data;
}

const button = (text: string, action_id = 'approve') => ({
  type: 'button',
  text: { type: 'plain_text', text },
  action_id,
  value: 'pa-1',
});

describe('Web API methods', () => {
  it('auth.test names the bot', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({
      ok: true,
      team_id: 'T0EMULATOR',
      user_id: emu.botUserId,
      bot_id: emu.botId,
      is_enterprise_install: false,
    });
    expect(res.url).toMatch(/^https:\/\//);
  });

  it('chat.postMessage records messages with unique increasing ts, and threads', async () => {
    const root = await client.chat.postMessage({ channel: 'C1', text: 'root', blocks: [{ type: 'divider' }] });
    const reply = await client.chat.postMessage({ channel: 'C1', text: 'reply', thread_ts: root.ts });
    expect(root.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(reply.ts)).toBeGreaterThan(Number(root.ts));
    expect(root.message).toMatchObject({ text: 'root', user: emu.botUserId, bot_id: emu.botId });
    expect(emu.messages).toEqual([
      { channel: 'C1', ts: root.ts, text: 'root', blocks: [{ type: 'divider' }], user: emu.botUserId, updates: [] },
      { channel: 'C1', ts: reply.ts, thread_ts: root.ts, text: 'reply', user: emu.botUserId, updates: [] },
    ]);
    expect(emu.threadOf('C1', root.ts as string).map((m) => m.text)).toEqual(['reply']);
  });

  it('chat.postMessage refuses what Slack refuses', async () => {
    expect((await slackError(client.chat.postMessage({ channel: 'C1', text: '' }))).error).toBe('no_text');
    expect((await slackError(client.apiCall('chat.postMessage', { text: 'x' }))).error).toBe('channel_not_found');
    expect((await slackError(client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_001) }))).error).toBe('msg_too_long');
    expect((await slackError(client.apiCall('chat.postMessage', { channel: 'C1', blocks: '[{' }))).error).toBe('invalid_blocks_format');
    await client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_000) });
    expect(emu.messages).toHaveLength(1);
  });

  it('chat.postEphemeral records who sees it', async () => {
    const res = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'only you', thread_ts: '1.2' });
    expect(res.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(emu.ephemerals).toEqual([
      { channel: 'C1', user: 'U1', text: 'only you', thread_ts: '1.2', message_ts: res.message_ts },
    ]);
  });

  it('chat.update keeps each version and chat.delete marks the message', async () => {
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'v1', blocks: [{ type: 'divider' }] });
    const ts = posted.ts as string;
    const updated = await client.chat.update({ channel: 'C1', ts, text: 'v2', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'H' } }] });
    expect(updated).toMatchObject({ ok: true, channel: 'C1', ts, text: 'v2' });
    // Without `blocks` Slack keeps the message's blocks; an empty array removes them.
    await client.chat.update({ channel: 'C1', ts, text: 'v3' });
    const m = emu.messages[0];
    expect(m?.text).toBe('v3');
    expect(m?.blocks).toEqual([{ type: 'header', text: { type: 'plain_text', text: 'H' } }]);
    await client.chat.update({ channel: 'C1', ts, text: 'v4', blocks: [] });
    expect(m?.blocks).toBeUndefined();
    expect(m?.updates.map((u) => u.text)).toEqual(['v2', 'v3', 'v4']);
    expect((await slackError(client.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' }))).error).toBe('message_not_found');
    expect((await slackError(client.chat.update({ channel: 'C2', ts, text: 'x' }))).error).toBe('message_not_found');

    await client.chat.delete({ channel: 'C1', ts });
    expect(m?.deleted).toBe(true);
    expect((await slackError(client.chat.delete({ channel: 'C1', ts }))).error).toBe('message_not_found');
  });

  it('usergroups.users.list, users.info, conversations.info', async () => {
    emu.addUserGroup('S0OPS', ['U1', 'U2']);
    expect((await client.usergroups.users.list({ usergroup: 'S0OPS' })).users).toEqual(['U1', 'U2']);
    expect((await slackError(client.usergroups.users.list({ usergroup: 'S0NONE' }))).error).toBe('no_such_subteam');

    emu.addUser('U1', { name: 'ada', real_name: 'Ada Lovelace', tz: 'Europe/London' });
    expect((await client.users.info({ user: 'U1' })).user).toMatchObject({ id: 'U1', name: 'ada', real_name: 'Ada Lovelace', tz: 'Europe/London' });
    expect((await client.users.info({ user: 'U9' })).user).toMatchObject({ id: 'U9', name: 'u9' });
    expect((await slackError(client.users.info({ user: 'nobody' }))).error).toBe('user_not_found');

    expect((await client.conversations.info({ channel: 'C1' })).channel).toMatchObject({ id: 'C1', name: 'vlinders-ops' });
    expect((await slackError(client.conversations.info({ channel: 'x' }))).error).toBe('channel_not_found');
  });

  it('unknown methods answer unknown_method', async () => {
    expect((await slackError(client.apiCall('chat.teleport', {}))).error).toBe('unknown_method');
  });

  it('accepts JSON posts, authenticated by the header only', async () => {
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${emu.apiUrl}chat.postMessage`, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) }).then(
        (r) => r.json() as Promise<{ ok: boolean; error?: string }>,
      );
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*json*' } }];
    expect(await post({ Authorization: `Bearer ${emu.botToken}` }, { channel: 'C1', text: 'j', blocks })).toMatchObject({ ok: true });
    expect(emu.messages[0]?.blocks).toEqual(blocks);
    // A token in a JSON body is no token: Slack answers not_authed.
    expect(await post({}, { token: emu.botToken, channel: 'C1', text: 'j' })).toEqual({ ok: false, error: 'not_authed' });
  });
});

describe('auth', () => {
  it('answers invalid_auth (HTTP 200) to a wrong token and not_authed to a missing one, and logs the calls', async () => {
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: emu.apiUrl, logger, retryConfig: { retries: 0 } });
    expect((await slackError(wrong.chat.postMessage({ channel: 'C1', text: 'x' }))).error).toBe('invalid_auth');
    const none = new WebClient(undefined, { slackApiUrl: emu.apiUrl, logger, retryConfig: { retries: 0 } });
    expect((await slackError(none.auth.test())).error).toBe('not_authed');
    expect(emu.messages).toEqual([]);
    expect(emu.calls).toEqual([
      { method: 'chat.postMessage', args: { channel: 'C1', text: 'x' }, ok: false, error: 'invalid_auth', at: expect.any(Number) },
      { method: 'auth.test', args: {}, ok: false, error: 'not_authed', at: expect.any(Number) },
    ]);
  });

  it('accepts the token as a form argument too, and never logs it', async () => {
    const res = await fetch(`${emu.apiUrl}auth.test`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: emu.botToken }).toString(),
    });
    expect(await res.json()).toMatchObject({ ok: true });
    expect(emu.calls).toEqual([{ method: 'auth.test', args: {}, ok: true, at: expect.any(Number) }]);
  });

  it('apps.connections.open takes the app-level token only', async () => {
    const app = new WebClient(emu.appToken, { slackApiUrl: emu.apiUrl, logger });
    expect((await app.apps.connections.open()).url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/link/\\?ticket=`));
    expect((await slackError(client.apps.connections.open())).error).toBe('invalid_auth');
    expect((await slackError(app.auth.test())).error).toBe('invalid_auth');
  });
});

describe('Block Kit through chat.postMessage / postEphemeral / update', () => {
  const cases: Array<[string, unknown[], string]> = [
    ['51 blocks', Array.from({ length: 51 }, () => ({ type: 'divider' })), 'no more than 50 items allowed [json-pointer:/blocks]'],
    ['a 3001-char section', [{ type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(3001) } }], 'must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
    ['a 76-char button text', [{ type: 'actions', elements: [button('b'.repeat(76))] }], 'must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]'],
    ['duplicate action_id', [{ type: 'actions', elements: [button('Yes'), button('No')] }], '`action_id` "approve" already exists [json-pointer:/blocks/0/elements/1/action_id]'],
  ];

  it.each(cases)('refuses %s with invalid_blocks and records nothing', async (_what, blocks, expected) => {
    const posted = await slackError(client.chat.postMessage({ channel: 'C1', text: 'fallback', blocks: blocks as never }));
    expect(posted.error).toBe('invalid_blocks');
    expect(posted.errors).toContain(expected);
    expect(posted.response_metadata?.messages).toContain(`[ERROR] ${expected}`);
    const eph = await slackError(client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'f', blocks: blocks as never }));
    expect(eph.error).toBe('invalid_blocks');
    expect(emu.messages).toEqual([]);
    expect(emu.ephemerals).toEqual([]);
    expect(emu.calls.map((c) => c.error)).toEqual(['invalid_blocks', 'invalid_blocks']);
  });

  it('refuses blocks each within its limits but too long together (msg_blocks_too_long), on every message method', async () => {
    // Five sections of 2,900 characters: each is fine, together they pass 12,000 characters.
    const long = Array.from({ length: 5 }, () => ({ type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(2900) } }));
    const fits = long.slice(0, 4).map((b) => ({ ...b, text: { ...b.text, text: 's'.repeat(2800) } }));
    expect((await slackError(client.chat.postMessage({ channel: 'C1', text: 'f', blocks: long as never }))).error).toBe('msg_blocks_too_long');
    expect((await slackError(client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'f', blocks: long as never }))).error).toBe('msg_blocks_too_long');
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'f', blocks: fits as never });
    expect((await slackError(client.chat.update({ channel: 'C1', ts: ts as string, text: 'x', blocks: long as never }))).error).toBe('msg_blocks_too_long');
    expect(emu.messages).toHaveLength(1);
    expect(emu.messages[0]?.updates).toEqual([]);
    expect(emu.ephemerals).toEqual([]);
  });

  it('refuses an invalid chat.update and leaves the message as it was', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'ok' });
    const bad = [{ type: 'section', text: { type: 'mrkdwn', text: 's'.repeat(3001) } }];
    expect((await slackError(client.chat.update({ channel: 'C1', ts: ts as string, text: 'x', blocks: bad as never }))).error).toBe('invalid_blocks');
    expect(emu.messages[0]).toMatchObject({ text: 'ok', updates: [] });
  });
});

describe('files.uploadV2 (getUploadURLExternal, POST to the upload URL, completeUploadExternal)', () => {
  it('records the uploaded content where it was shared', async () => {
    const content = 'pg_dump: done\nnaïve ✓ 🦋\n';
    const res = await client.filesUploadV2({
      channel_id: 'C1',
      thread_ts: '1732560000.000100',
      filename: 'backup.log',
      title: 'Backup log',
      content,
      initial_comment: 'Backup finished',
    });
    expect(res.ok).toBe(true);
    expect(emu.uploads).toEqual([
      { channel: 'C1', thread_ts: '1732560000.000100', filename: 'backup.log', title: 'Backup log', content, bytes: Buffer.from(content), initial_comment: 'Backup finished' },
    ]);
    expect(emu.calls.map((c) => c.method)).toEqual(['files.getUploadURLExternal', 'files.completeUploadExternal']);
    expect(emu.calls[0]?.args).toMatchObject({ filename: 'backup.log', length: String(Buffer.byteLength(content)) });
  });

  it('takes a Buffer file too, and several files in one call', async () => {
    await client.filesUploadV2({
      channel_id: 'C1',
      file_uploads: [
        { file: Buffer.from('a,b\n1,2\n'), filename: 'rows.csv' },
        { content: 'second', filename: 'two.txt', title: 'Two' },
      ],
    });
    expect(emu.uploads.map((u) => [u.filename, u.content, u.title])).toEqual([
      ['rows.csv', 'a,b\n1,2\n', 'rows.csv'],
      ['two.txt', 'second', 'Two'],
    ]);
  });

  it('refuses to complete a file that was never uploaded', async () => {
    const url = await client.files.getUploadURLExternal({ filename: 'x.txt', length: 3 });
    expect(url.upload_url).toContain(emu.baseUrl);
    const err = await slackError(client.files.completeUploadExternal({ files: [{ id: url.file_id as string }], channel_id: 'C1' }));
    expect(err.error).toBe('file_not_found');
    expect(emu.uploads).toEqual([]);
  });
});

describe('injected faults', () => {
  it('429 with Retry-After is honoured by WebClient, which then succeeds', async () => {
    const retrying = new WebClient(emu.botToken, {
      slackApiUrl: emu.apiUrl,
      logger,
      // minTimeout 0 so that the wait we measure is the Retry-After alone, not p-retry's own backoff.
      retryConfig: { retries: 1, minTimeout: 0 },
    });
    const seen: number[] = [];
    retrying.on(WebClientEvent.RATE_LIMITED, (seconds: number) => seen.push(seconds));
    emu.rateLimitNext('chat.postMessage', 1);
    const started = Date.now();
    const res = await retrying.chat.postMessage({ channel: 'C1', text: 'after the wait' });
    expect(res.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(seen).toEqual([1]);
    expect(emu.calls.map((c) => c.error ?? 'ok')).toEqual(['ratelimited', 'ok']);
    expect(emu.messages).toHaveLength(1);
  });

  it('answers 429 the given number of times; rejectRateLimitedCalls surfaces Retry-After', async () => {
    const impatient = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, logger, rejectRateLimitedCalls: true });
    emu.rateLimitNext('chat.update', 7, 2);
    for (let i = 0; i < 2; i++) {
      const err: unknown = await impatient.chat.update({ channel: 'C1', ts: '1.1', text: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WebAPIRateLimitedError);
      expect((err as WebAPIRateLimitedError).retryAfter).toBe(7);
    }
    expect((await slackError(impatient.chat.update({ channel: 'C1', ts: '1.1', text: 'x' }))).error).toBe('message_not_found');
  });

  it('failNext answers the given error N times, then the method works again', async () => {
    emu.failNext('chat.postMessage', 'channel_not_found', 2);
    for (let i = 0; i < 2; i++) {
      expect((await slackError(client.chat.postMessage({ channel: 'C1', text: 'x' }))).error).toBe('channel_not_found');
    }
    await client.chat.postMessage({ channel: 'C1', text: 'x' });
    expect(emu.messages).toHaveLength(1);
    expect(emu.calls.map((c) => c.ok)).toEqual([false, false, true]);
  });
});

describe('waitFor', () => {
  it('resolves with the first truthy probe value', async () => {
    setTimeout(() => void client.chat.postMessage({ channel: 'C1', text: 'later' }), 30);
    const m = await emu.waitFor(() => emu.messages.find((x) => x.text === 'later'));
    expect(m.channel).toBe('C1');
  });

  it('times out with a message that says what the workspace saw', async () => {
    await client.chat.postMessage({ channel: 'C1', text: 'something else' });
    await expect(emu.waitFor(() => emu.messages.find((x) => x.text === 'never'), 50)).rejects.toThrow(
      /within 50ms[\s\S]*1 messages[\s\S]*chat\.postMessage\(ok\)/,
    );
  });
});

describe('conversations: who is in them, and where the bot may post', () => {
  const person = 'U0PERSON1';
  const other = 'U0OTHER01';
  beforeAll(() => {
    emu.addChannel('C0PUBNOBOT', 'lobby');
    emu.addChannel('G0PRIVATE1', 'secret', { private: true, members: [person] });
    emu.addChannel('G0PRIVBOT1', 'secret-ops', { private: true, members: [person], bot: true });
    emu.addDm('D0PEOPLE01', person, other);
    emu.addDm('D0WITHBOT1', person, emu.botUserId);
    emu.addGroupDm('G0MPIM0001', [person, other, 'U0THIRD01']);
  });
  const post = (channel: string) => slackError(client.chat.postMessage({ channel, text: 'hi' }));
  const ephemeral = (channel: string, user = person) => slackError(client.chat.postEphemeral({ channel, user, text: 'hi' }));

  it('chat.postMessage: not_in_channel in a public channel without the bot, channel_not_found where the bot cannot see', async () => {
    expect((await post('C0PUBNOBOT')).error).toBe('not_in_channel');
    expect((await post('G0PRIVATE1')).error).toBe('channel_not_found');
    expect((await post('D0PEOPLE01')).error).toBe('channel_not_found');
    expect((await post('G0MPIM0001')).error).toBe('channel_not_found');
    expect((await post('C0NOSUCH01')).error).toBe('channel_not_found');
    expect(emu.messages).toEqual([]);
    for (const where of ['G0PRIVBOT1', 'D0WITHBOT1', 'C1']) expect((await client.chat.postMessage({ channel: where, text: 'hi' })).ok).toBe(true);
  });

  it('a public channel holds only who joined it: an ephemeral to anyone else is user_not_in_channel; a user id as channel reaches the app’s DM with them', async () => {
    emu.addUser(other, { name: 'other' });
    expect((await ephemeral('C1', other)).error).toBe('user_not_in_channel');
    // A public channel nobody joined yet: nobody is in it, though anyone may join.
    emu.addChannel('C0NOBODY01', 'fresh', { bot: true });
    expect((await ephemeral('C0NOBODY01', person)).error).toBe('user_not_in_channel');
    expect(() => emu.userPosts('C0NOBODY01', person, 'hi')).toThrow(/not in/);
    expect((await client.chat.postEphemeral({ channel: 'C1', user: person, text: 'hi' })).ok).toBe(true);
    const dm = await client.chat.postMessage({ channel: other, text: 'in your DM' });
    const conversation = emu.conversations.get(dm.channel ?? '');
    expect(conversation).toMatchObject({ type: 'im', bot: true });
    expect(emu.isMember(conversation as never, other)).toBe(true);
    // The same DM next time; an unknown person has none.
    expect((await client.chat.postMessage({ channel: other, text: 'again' })).channel).toBe(dm.channel);
    expect((await slackError(client.chat.postMessage({ channel: 'U0NOBODY01', text: 'hi' }))).error).toBe('channel_not_found');
  });

  it('chat:write.public lets the bot post (and edit its post) in a public channel it is not in, nowhere else', async () => {
    const pub = await SlackWorkspaceEmulator.start({ scopes: ['chat:write', 'chat:write.public'] });
    try {
      pub.addChannel('C0PUBNOBOT', 'lobby');
      pub.addDm('D0PEOPLE01', person, other);
      const c = new WebClient(pub.botToken, { slackApiUrl: pub.apiUrl, logger, retryConfig: { retries: 0 } });
      const posted = await c.chat.postMessage({ channel: 'C0PUBNOBOT', text: 'hi' });
      expect((await c.chat.update({ channel: 'C0PUBNOBOT', ts: posted.ts as string, text: 'edited' })).ok).toBe(true);
      expect((await slackError(c.chat.postMessage({ channel: 'D0PEOPLE01', text: 'hi' }))).error).toBe('channel_not_found');
      // The scope covers messages, not ephemeral messages.
      expect((await slackError(c.chat.postEphemeral({ channel: 'C0PUBNOBOT', user: person, text: 'hi' }))).error).toBe('not_in_channel');
    } finally {
      await pub.close();
    }
  });

  it('chat.postEphemeral needs the bot and the person in the conversation', async () => {
    expect((await ephemeral('C0PUBNOBOT')).error).toBe('not_in_channel');
    expect((await ephemeral('G0PRIVATE1')).error).toBe('channel_not_found');
    expect((await ephemeral('D0PEOPLE01')).error).toBe('channel_not_found');
    expect((await ephemeral('G0PRIVBOT1', other)).error).toBe('user_not_in_channel');
    expect((await client.chat.postEphemeral({ channel: 'G0PRIVBOT1', user: person, text: 'hi' })).ok).toBe(true);
  });

  it('chat.update answers like chat.postMessage once the bot is out of the conversation', async () => {
    emu.addChannel('G0LEFT0001', 'left', { private: true, members: [person], bot: true });
    const posted = await client.chat.postMessage({ channel: 'G0LEFT0001', text: 'hi' });
    (emu.conversations.get('G0LEFT0001') as { bot: boolean }).bot = false;
    expect((await slackError(client.chat.update({ channel: 'G0LEFT0001', ts: posted.ts as string, text: 'x' }))).error).toBe('channel_not_found');
  });

  it('a method whose scope the token lacks answers missing_scope', async () => {
    const bare = await SlackWorkspaceEmulator.start({ scopes: ['commands'] });
    try {
      bare.addChannel('C1', 'ops', { bot: true });
      const c = new WebClient(bare.botToken, { slackApiUrl: bare.apiUrl, logger, retryConfig: { retries: 0 } });
      expect(await slackError(c.chat.postMessage({ channel: 'C1', text: 'hi' }))).toMatchObject({ error: 'missing_scope', needed: 'chat:write' });
    } finally {
      await bare.close();
    }
  });

  it('a person types a command only where they are', async () => {
    await expect(emu.sendSlashCommand('http://127.0.0.1:9/x', { user: 'U0THIRD01', channel: 'G0PRIVATE1', text: 'help' })).rejects.toThrow(/not in G0PRIVATE1/);
    await expect(emu.sendSlashCommand('http://127.0.0.1:9/x', { user: person, channel: 'C0NOSUCH01', text: 'help' })).rejects.toThrow(/no conversation C0NOSUCH01/);
  });
});

describe('what a Slack client sends for a typed command (should_escape on)', () => {
  it('escapes &, < and >, and turns a known @name or #channel into the mention picked from the list', () => {
    emu.addUser('U0GRACE01', { name: 'grace' });
    const sent = commandTextAsSent(emu, `incident open Kong & Redis <5xx> --commander @grace in #vlinders-ops, mail grace@example.com, @nobody #nowhere '@grace'`);
    expect(sent).toBe(`incident open Kong &amp; Redis &lt;5xx&gt; --commander <@U0GRACE01|grace> in <#C1|vlinders-ops>, mail grace@example.com, @nobody #nowhere '<@U0GRACE01|grace>'`);
  });
});

describe("Slack's limits, kept by default", () => {
  // Told about a 429 rather than waiting it out, as WebClient does by default.
  const limitedClient = () => new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, logger, rejectRateLimitedCalls: true });
  it('chat.postMessage: a burst, then about one a second per channel: HTTP 429 with Retry-After', async () => {
    stepMs = 0;
    const limited = await slackErrorOrLimit(Array.from({ length: DEFAULT_LIMITS.postMessageBurst + 1 }, (_, i) => i));
    expect(limited).toEqual({ ok: DEFAULT_LIMITS.postMessageBurst, retryAfter: 1 });
    // Another channel has its own allowance; a second later this one takes one more.
    const c = limitedClient();
    expect((await c.chat.postMessage({ channel: 'C2', text: 'elsewhere' })).ok).toBe(true);
    clockMs += 1000;
    expect((await c.chat.postMessage({ channel: 'C1', text: 'a second later' })).ok).toBe(true);
    await expect(c.chat.postMessage({ channel: 'C1', text: 'too soon' })).rejects.toBeInstanceOf(WebAPIRateLimitedError);
    expect(emu.calls.filter((c) => c.error === 'ratelimited')).toHaveLength(2);
  });

  it("every other method: its tier's calls in any 60 s, per method, then HTTP 429 until the oldest is a minute old", async () => {
    stepMs = 0;
    const c = limitedClient();
    // usergroups.users.list is Tier 2 (20 a minute); a call Slack refuses for its arguments still counts.
    const listGroup = () => c.usergroups.users.list({ usergroup: 'S0NOSUCH01' }).then(
      () => 'ok',
      (err: unknown) => (err instanceof WebAPIRateLimitedError ? `429 after ${err.retryAfter}s` : 'answered'),
    );
    const outcomes = [];
    for (let i = 0; i <= DEFAULT_LIMITS.callsPerMinuteByTier[2]; i++) outcomes.push(await listGroup());
    expect(outcomes.filter((o) => o.startsWith('429'))).toEqual(['429 after 60s']);
    // Another method has its own count (users.info, Tier 4); 30 s on, still none: at most 20 in any 60 s.
    expect((await c.users.info({ user: 'U0NOSUCH01' }).catch((e: unknown) => e)) instanceof WebAPIRateLimitedError).toBe(false);
    clockMs += 30_000;
    expect(await listGroup()).toBe('429 after 30s');
    clockMs += 30_000;
    expect(await listGroup()).not.toMatch(/^429/);
  });

  async function slackErrorOrLimit(posts: number[]): Promise<{ ok: number; retryAfter?: number }> {
    let ok = 0;
    const c = limitedClient();
    for (const i of posts) {
      try {
        await c.chat.postMessage({ channel: 'C1', text: `burst ${i}` });
        ok += 1;
      } catch (err) {
        if (err instanceof WebAPIRateLimitedError) return { ok, retryAfter: err.retryAfter };
        throw err;
      }
    }
    return { ok };
  }

  it('a response_url takes 5 posts, then answers used_url; after 30 minutes expired_url', async () => {
    const target = { channel: 'C1', user: 'U1' };
    const send = (url: string) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) }).then(async (r) => [r.status, await r.text()]);
    const url = newResponseUrl(emu, emu.baseUrl, 'commands', target);
    for (let i = 0; i < 5; i++) expect(await send(url)).toEqual([200, '{"ok":true}']);
    expect(await send(url)).toEqual([404, 'used_url']);
    expect(emu.ephemerals).toHaveLength(5);
    const late = newResponseUrl(emu, emu.baseUrl, 'commands', target);
    clockMs += 30 * 60_000 + 1;
    expect(await send(late)).toEqual([404, 'expired_url']);
  });

  it('files.getUploadURLExternal: no empty files, nothing over 1 GB, no more bytes than announced', async () => {
    const get = (length: number) => client.files.getUploadURLExternal({ filename: 'a.txt', length });
    expect((await slackError(get(0))).error).toBe('missing_argument');
    expect((await slackError(get(1024 ** 3 + 1))).error).toBe('file_upload_size_restricted');
    const ok = await get(3);
    const res = await fetch(ok.upload_url as string, { method: 'POST', body: 'four' });
    expect([res.status, await res.text()]).toEqual([413, 'file_too_large']);
  });
});
