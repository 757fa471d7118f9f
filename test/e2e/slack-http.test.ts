// Slash commands and buttons through the real Bolt HTTPReceiver: signatures, acks,
// confirmations, long output, rate limits, the real captured request bodies.
import { afterEach, describe, expect, it } from 'vitest';
import { postSigned } from '../../src/sandbox/slack/index.js';
import { newResponseUrl } from '../../src/sandbox/slack/user.js';
import { readCaptured } from '../fixtures/captured.js';
import { CHANNELS, USERS, testConfig } from '../fixtures/world.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

const fixture = (name: string) => readCaptured(`slack/${name}`).trim();

let h: BotHarness;
afterEach(async () => {
  await h?.close();
});

describe('slash commands over HTTP', () => {
  it('a signed /vlinders help is acked at once and answered', async () => {
    h = await startBot();
    const res = await h.slash(USERS.viewer, CHANNELS.general, 'help');
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(3000);
    // To the asker alone: what they may run is theirs, and the channel isn't told each time.
    const reply = await h.emu.waitFor(() => h.emu.ephemerals.find((m) => m.channel === CHANNELS.general && m.user === USERS.viewer));
    expect(blocksText(reply.blocks)).toContain('vlinders-ops commands');
    expect(blocksText(reply.blocks)).toContain('You are viewer here');
    expect(h.emu.messages).toHaveLength(0);
  });

  it.each([
    ['a bad signature', { signature: 'bad' as const }],
    ['no signature', { signature: 'none' as const }],
    ['a timestamp 6 minutes old', { timestampSkewSeconds: -360 }],
  ])('%s gets 401 and runs nothing', async (_name, signOpts) => {
    h = await startBot();
    const res = await h.slash(USERS.admin, CHANNELS.ops, 'test-change 1', signOpts);
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.emu.messages).toHaveLength(0);
    expect(h.emu.ephemerals).toHaveLength(0);
    expect(h.log.audit()).toHaveLength(0);
  });

  it('bad input gets a clear ephemeral message and does nothing', async () => {
    h = await startBot();
    await h.slash(USERS.operator, CHANNELS.ops, 'test-change eleven');
    await h.slash(USERS.operator, CHANNELS.ops, 'scael-gpu 5');
    await h.slash(USERS.viewer, CHANNELS.ops, 'test-change 3');
    await h.slash(USERS.stranger, CHANNELS.ops, 'help');
    await h.slash(USERS.operator, CHANNELS.ops, 'test-change "3');
    const texts = await h.emu.waitFor(() => (h.emu.ephemerals.length >= 5 ? h.emu.ephemerals.map((e) => e.text) : undefined));
    expect(texts).toEqual(
      expect.arrayContaining([
        // Slack shows &lt; as <: the text is escaped, as everything the bot sends is.
        expect.stringContaining('Usage: `test-change &lt;n&gt; [--note TEXT]`'),
        expect.stringContaining('Unknown command `scael-gpu`'),
        expect.stringContaining('`test-change` needs the operator role; you are viewer here.'),
        expect.stringContaining('`help` needs the viewer role, and you hold no vlinders-ops role in this channel.'),
        expect.stringContaining('unclosed double quote'),
      ]),
    );
    expect(h.emu.messages).toHaveLength(0);
    expect(h.runLog.runs).toHaveLength(0);
  });

  it('a command’s text arrives with &, < and > as entities, as Slack sends it: the bot reads what was typed', async () => {
    h = await startBot();
    // Typed: /vlinders a<b&c — sent by Slack as a&lt;b&amp;c.
    await h.slash(USERS.operator, CHANNELS.ops, 'a&lt;b&amp;c');
    const answer = await h.emu.waitFor(() => h.emu.ephemerals.find((e) => e.user === USERS.operator));
    // The bot's own answer escapes what it shows again: one level, not two.
    expect(answer.text).toContain('Unknown command `a&lt;b&amp;c`');
    expect(answer.text).not.toContain('&amp;lt;');
  });

  it('a report is rendered and sent on a later turn than the one that made it: work already waiting goes first', async () => {
    h = await startBot();
    const marks: string[] = [];
    // The report's chat.postMessage, marked as it is called.
    const chat = h.bot.app.client.chat;
    const postMessage = chat.postMessage.bind(chat);
    chat.postMessage = ((args: Parameters<typeof postMessage>[0]) => {
      marks.push('answer sent');
      return postMessage(args);
    }) as typeof chat.postMessage;
    try {
      await h.slash(USERS.viewer, CHANNELS.general, 'test-hold turn');
      await h.emu.waitFor(() => h.runLog.runs.some((r) => r.command === 'test-hold') || undefined);
      // The report is made in the microtasks after this; an ack waiting on the event loop is this immediate.
      h.gates.open('turn');
      setImmediate(() => marks.push('waiting work'));
      await h.emu.waitFor(() => marks.includes('answer sent') || undefined);
      expect(marks).toEqual(['waiting work', 'answer sent']);
    } finally {
      chat.postMessage = postMessage;
    }
  });

  it('the real captured slash-command body parses (its command renamed to /vlinders)', async () => {
    h = await startBot();
    // Derived from the fixture: only `command` changes, so Bolt routes it to our listener.
    // Its response_url is the real Slack's: the answer goes to one this workspace handed out instead.
    const form = new URLSearchParams(fixture('slash_command_body_bolt-python.txt').trim());
    form.set('command', '/vlinders');
    form.set('response_url', newResponseUrl(h.emu, h.emu.baseUrl, 'commands', { channel: String(form.get('channel_id')), user: String(form.get('user_id')) }));
    const body = form.toString();
    expect((await postSigned(h.url, body, h.emu.signingSecret)).status).toBe(200);
    // W111 holds no role: a clear denial for the fixture's user, in the fixture's channel.
    const denial = await h.emu.waitFor(() => h.emu.ephemerals.find((e) => e.user === 'W111'));
    expect(denial).toMatchObject({ channel: 'C111', text: expect.stringContaining('Unknown command `Hi`') });
  });

  it('the real captured block_actions body parses (its action id renamed), and an unknown id is refused', async () => {
    h = await startBot();
    const raw = fixture('block_actions_request_body_bolt-python.txt');
    const payload = JSON.parse(decodeURIComponent(raw.slice('payload='.length))) as { actions: Array<{ action_id: string }>; response_url: string; channel: { id: string }; user: { id: string } };
    const action = payload.actions[0];
    if (action) action.action_id = 'vlinders_approve';
    payload.response_url = newResponseUrl(h.emu, h.emu.baseUrl, 'actions', { channel: payload.channel.id, user: payload.user.id });
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    expect((await postSigned(h.url, body, h.emu.signingSecret)).status).toBe(200);
    const refusal = await h.emu.waitFor(() => h.emu.ephemerals.find((e) => e.user === 'W111'));
    expect(refusal.text).toContain('This confirmation is unknown here');
  });
});

describe('confirmations through buttons', () => {
  it('the requester approves a change: the card loses its buttons, progress and the report go to the thread, it runs once', async () => {
    h = await startBot();
    await h.slash(USERS.operator, CHANNELS.ops, 'test-change 3 --note "from slack"');
    const { message, id } = await h.card(CHANNELS.ops);
    expect(blocksText(message.blocks)).toContain('Will set n to 3');
    // The button carries only an opaque id: no command, no arguments.
    expect(id).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(blocksText(message.blocks)).not.toMatch(/"value":"[^"]*test-change/);
    expect(h.runLog.runs).toHaveLength(0);

    const res = await h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve');
    expect(res.status).toBe(200);
    const done = await h.emu.waitFor(() => (message.text.includes('Done') ? message : undefined));
    expect(blocksText(done.blocks)).not.toContain('vlinders_approve');
    expect(blocksText(done.blocks)).toContain(`approved by <@${USERS.operator}>`);
    expect(message.updates.map((u) => u.text)[0]).toContain(`Approved by <@${USERS.operator}>; running`);
    const thread = h.emu.threadOf(CHANNELS.ops, message.ts);
    expect(thread.map((m) => m.text).join('\n')).toContain('step 2/2 for n=3');
    expect(thread.some((m) => blocksText(m.blocks).includes('n is 3'))).toBe(true);
    expect(h.runLog.runs).toEqual([{ command: 'test-change', args: { n: 3, note: 'from slack' }, requester: USERS.operator }]);
  });

  it('an approved change starts while its card’s edit still waits on Slack, and the card still ends with the outcome', async () => {
    h = await startBot();
    await h.slash(USERS.operator, CHANNELS.ops, 'test-change 4');
    const { message } = await h.card(CHANNELS.ops);
    // Edits take turns across the workspace (chat.update's tier): this one is slow to come back.
    h.emu.slowNext('chat.update', 5000);
    await h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve');
    await h.emu.waitFor(() => h.runLog.runs.length === 1 || undefined, 4000);
    expect(message.updates).toHaveLength(0);
    const done = await h.emu.waitFor(() => (message.text.includes('Done') ? message : undefined), 12_000);
    expect(done.updates.map((u) => u.text)[0]).toContain('running');
  }, 20_000);

  it('a Web API call Slack never answers is given up at the deadline: the message’s next edit still goes', async () => {
    h = await startBot({ slackCallTimeoutMs: 500, slackRetry: { retries: 0 } });
    await h.slash(USERS.operator, CHANNELS.ops, 'test-change 5');
    const { message } = await h.card(CHANNELS.ops);
    // The "running…" edit hangs far past the deadline; the outcome's edit of the same card follows it.
    h.emu.slowNext('chat.update', 60_000);
    await h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve');
    await h.emu.waitFor(() => (message.text.includes('Done') ? message : undefined), 8000);
  });

  it('a double click and a retried delivery still run it once', async () => {
    h = await startBot();
    await h.slash(USERS.operator, CHANNELS.ops, 'test-change 5');
    const { message } = await h.card(CHANNELS.ops);
    const clicks = await Promise.all([
      h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve'),
      h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve'),
      h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve', { retryNum: 1 }),
    ]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200, 200]);
    await h.emu.waitFor(() => message.text.includes('Done'));
    await h.emu.waitFor(() => (h.emu.ephemerals.length >= 2 ? true : undefined));
    expect(h.runLog.runs).toHaveLength(1);
    expect(h.emu.ephemerals.map((e) => e.text)).toEqual(['This confirmation was already handled.', 'This confirmation was already handled.']);
  });

  it('an expired confirmation is refused', async () => {
    let now = Date.now();
    h = await startBot({ now: () => now });
    await h.slash(USERS.operator, CHANNELS.ops, 'test-change 1');
    const { message } = await h.card(CHANNELS.ops);
    now += 11 * 60_000;
    await h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve');
    const refusal = await h.emu.waitFor(() => h.emu.ephemerals[0]);
    expect(refusal).toMatchObject({ user: USERS.operator, text: expect.stringContaining('expired') });
    expect(h.runLog.runs).toHaveLength(0);
    expect(message.updates).toHaveLength(0);
  });

  it('a destructive command approved by its requester is refused; by a second approver, it runs', async () => {
    h = await startBot();
    await h.slash(USERS.admin, CHANNELS.ops, 'test-destroy db-1');
    const { message } = await h.card(CHANNELS.ops);
    expect(blocksText(message.blocks)).toContain('a second person with the approver role must approve');
    await h.click(USERS.admin, CHANNELS.ops, message.ts, 'vlinders_approve');
    const refusal = await h.emu.waitFor(() => h.emu.ephemerals[0]);
    expect(refusal.text).toMatch(/second person/);
    expect(h.runLog.runs).toHaveLength(0);
    await h.click(USERS.approver, CHANNELS.ops, message.ts, 'vlinders_approve');
    await h.emu.waitFor(() => message.text.includes('Done'));
    expect(h.runLog.runs).toEqual([{ command: 'test-destroy', args: { target: 'db-1' }, requester: USERS.admin }]);
    expect(message.text).toContain(`approved by <@${USERS.approver}>`);
  });

  it('cancel removes the buttons and runs nothing', async () => {
    h = await startBot();
    await h.slash(USERS.operator, CHANNELS.ops, 'test-change 2');
    const { message } = await h.card(CHANNELS.ops);
    await h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_cancel');
    await h.emu.waitFor(() => message.text.includes('Cancelled'));
    expect(blocksText(message.blocks)).not.toContain('vlinders_approve');
    expect(h.runLog.runs).toHaveLength(0);
  });
});

describe('output within Slack limits', () => {
  it('output longer than one message is split, and arrives whole', async () => {
    h = await startBot();
    // 600 lines of 20 characters: within 50 blocks, but past the size Slack takes in one message's blocks together.
    await h.slash(USERS.viewer, CHANNELS.general, 'test-lines 600');
    const messages = await h.emu.waitFor(() => (h.emu.messages.length >= 2 && h.emu.calls.filter((c) => c.method === 'chat.postMessage').length === h.emu.messages.length ? h.emu.messages : undefined));
    await new Promise((r) => setTimeout(r, 100));
    const text = h.emu.messages.map((m) => blocksText(m.blocks)).join('');
    const all = [...text.matchAll(/line (\d{6}) of 600/g)].map((m) => Number(m[1]));
    expect(all).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    expect(messages.length).toBeGreaterThan(1);
    expect(h.emu.calls.every((c) => c.ok)).toBe(true);
  });

  it('output far beyond a few messages arrives whole as a file', async () => {
    h = await startBot();
    await h.slash(USERS.viewer, CHANNELS.ops, 'test-lines 50000');
    const upload = await h.emu.waitFor(() => h.emu.uploads[0], 10_000);
    const lines = upload.content.split('\n').filter((l) => l.startsWith('line '));
    expect(lines).toHaveLength(50_000);
    expect(lines[49_999]).toBe('line 050000 of 50000');
    expect(h.emu.calls.filter((c) => !c.ok)).toEqual([]);
    expect(blocksText(h.emu.messages[0]?.blocks)).toContain('the whole report is in the file');
  });

  it('in a public channel the bot never joined, the report arrives and the file it cannot share is named, with how to get it', async () => {
    h = await startBot();
    await h.slash(USERS.viewer, CHANNELS.general, 'test-lines 50000');
    const note = await h.emu.waitFor(() => h.emu.messages.find((m) => m.text.includes('📎')), 10_000);
    expect(note.text).toMatch(/can't share \*test-lines[^*]*\.txt\* here: invite me with `\/invite @vlinders-ops`/);
    expect(note.thread_ts).toBe(h.emu.messages[0]?.ts);
    expect(blocksText(h.emu.messages[0]?.blocks)).toContain('the whole report is in the file');
    expect(h.emu.uploads).toEqual([]);
    expect(h.emu.calls.filter((c) => !c.ok).map((c) => `${c.method}:${c.error}`)).toEqual(['files.completeUploadExternal:not_in_channel']);
  });

  it('a 429 from Slack is retried after Retry-After, and the reply still arrives', async () => {
    h = await startBot();
    h.emu.rateLimitNext('chat.postMessage', 1);
    await h.slash(USERS.viewer, CHANNELS.general, 'whoami');
    const reply = await h.emu.waitFor(() => h.emu.messages[0], 8000);
    expect(blocksText(reply.blocks)).toContain('Role here');
    expect(h.emu.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.ok)).toEqual([false, true]);
  });
});

describe('audit', () => {
  it('is mirrored to the audit channel, redacted', async () => {
    const config = testConfig();
    config.audit.channel = 'C0AUDIT01';
    h = await startBot({ config });
    h.emu.addChannel('C0AUDIT01', 'audit', { private: true, members: [USERS.admin], bot: true });
    await h.slash(USERS.operator, CHANNELS.ops, 'test-change 1 --note "token=abc123secret"');
    await h.card(CHANNELS.ops);
    const lines = await h.emu.waitFor(() => {
      const inAudit = h.emu.messages.filter((m) => m.channel === 'C0AUDIT01');
      return inAudit.length >= 2 ? inAudit : undefined;
    });
    expect(lines.map((l) => l.text).join('\n')).toContain('confirm_requested');
    expect(JSON.stringify(h.emu.messages)).not.toContain('abc123secret');
    expect(h.log.text()).not.toContain('abc123secret');
  });
});
