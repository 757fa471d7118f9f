// /vlinders typed where the bot isn't: a public channel it never joined, a private channel
// without it, a DM between two people and a group DM. The emulator answers as Slack does
// (not_in_channel / channel_not_found), so every answer the person sees here came through a
// way that works there: the response_url, or chat:write.public in a public channel.
import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/sandbox/slack/index.js';
import { CHANNELS, USERS, testConfig } from '../fixtures/world.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

const PRIVATE = 'G0PRIVATE1';
const DM = 'D0ADMINAPP';
const GROUP_DM = 'G0MPIM0001';

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The bot with changes allowed in any channel, and the three conversations it is not in. */
async function start() {
  const config = testConfig();
  config.rbac.changeChannels = undefined;
  const bot = await startBot({ config });
  bot.emu.addChannel(PRIVATE, 'platform-private', { private: true, members: [USERS.admin, USERS.viewer, USERS.approver] });
  bot.emu.addDm(DM, USERS.admin, USERS.approver);
  bot.emu.addGroupDm(GROUP_DM, [USERS.admin, USERS.viewer, USERS.approver]);
  h = bot;
  return bot;
}

/** Everything shown in a conversation: its messages and the ephemeral ones `user` sees there. */
const shown = (bot: BotHarness, channel: string, user: string) => [
  ...bot.emu.messages.filter((m) => m.channel === channel),
  ...bot.emu.ephemerals.filter((e) => e.channel === channel && e.user === user),
];
const textOf = (items: Array<{ text: string; blocks?: unknown[] }>) => items.map((m) => `${m.text} ${blocksText(m.blocks)}`).join('\n');

const NOT_JOINED = [
  ['a public channel without the bot', CHANNELS.general],
  ['a private channel without the bot', PRIVATE],
  ['a DM between two people', DM],
  ['a group DM', GROUP_DM],
] as const;

describe('a command typed where the bot is not', () => {
  it.each(NOT_JOINED)('in %s, a report, an error and a preview each reach the person', async (_what, channel) => {
    const bot = await start();
    await bot.slash(USERS.admin, channel, 'whoami');
    const report = await bot.emu.waitFor(() => (textOf(shown(bot, channel, USERS.admin)).includes('Role here') ? true : undefined));
    expect(report).toBe(true);
    await bot.slash(USERS.admin, channel, 'scael-gpu 5');
    await bot.emu.waitFor(() => (textOf(shown(bot, channel, USERS.admin)).includes('Unknown command `scael-gpu`') ? true : undefined));
    await bot.slash(USERS.admin, channel, 'help');
    await bot.emu.waitFor(() => (textOf(shown(bot, channel, USERS.admin)).includes('scale-gpu') ? true : undefined));
    // Nothing the person asked for was lost to a refused call.
    await bot.bot.idle();
    expect(bot.log.text()).not.toContain('slack handler failed');
  });

  it('the public report goes to the channel itself: with chat:write.public where the bot never joined, through response_url elsewhere', async () => {
    const bot = await start();
    for (const [, channel] of NOT_JOINED) await bot.slash(USERS.admin, channel, 'whoami');
    await bot.emu.waitFor(() => (NOT_JOINED.every(([, c]) => bot.emu.messages.some((m) => m.channel === c)) ? true : undefined));
    const posted = bot.emu.calls.filter((c) => c.method === 'chat.postMessage' && c.ok).map((c) => c.args.channel);
    expect(posted).toContain(CHANNELS.general);
    for (const c of [PRIVATE, DM, GROUP_DM]) {
      expect(posted).not.toContain(c);
      expect(bot.emu.responses.some((r) => r.channel === c && r.response_type === 'in_channel')).toBe(true);
    }
  });

  it('a change in a public channel without the bot runs with its card and thread', async () => {
    const bot = await start();
    await bot.slash(USERS.admin, CHANNELS.general, 'test-change 4');
    const { message } = await bot.card(CHANNELS.general);
    await bot.click(USERS.admin, CHANNELS.general, message.ts, 'Approve');
    await bot.emu.waitFor(() => message.text.includes('Done'));
    const thread = bot.emu.threadOf(CHANNELS.general, message.ts);
    expect(thread.map((m) => m.text).join('\n')).toContain('step 2/2 for n=4');
    expect(thread.some((m) => blocksText(m.blocks).includes('n is 4'))).toBe(true);
    expect(bot.runLog.runs).toEqual([{ command: 'test-change', args: { n: 4 }, requester: USERS.admin }]);
  });

  it.each(NOT_JOINED.slice(1))('a change in %s does not start, and the person reads how to make it possible', async (_what, channel) => {
    const bot = await start();
    await bot.slash(USERS.admin, channel, 'test-change 4');
    const line = await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => e.channel === channel && e.user === USERS.admin));
    expect(line.text).toBe('`/vlinders test-change 4` did not start: invite me with `/invite @vlinders-ops` to run changes here.');
    await bot.bot.idle();
    // No card anywhere, nothing pending that a later click could approve, and the audit says why.
    expect(bot.emu.messages.filter((m) => blocksText(m.blocks).includes('vlinders_approve'))).toEqual([]);
    expect(bot.runLog.runs).toEqual([]);
    expect(bot.log.text()).toMatch(/"event":"cancel".*the bot cannot post the card and its thread in this conversation/);
    expect(bot.log.text()).not.toContain('slack handler failed');
    expect(bot.emu.calls.filter((c) => !c.ok).map((c) => c.error)).toEqual(['channel_not_found']);
  });

  it('after /invite, the same change in the private channel runs in its thread', async () => {
    const bot = await start();
    bot.emu.inviteBot(PRIVATE);
    await bot.slash(USERS.admin, PRIVATE, 'test-change 2');
    const { message } = await bot.card(PRIVATE);
    await bot.click(USERS.admin, PRIVATE, message.ts, 'vlinders_approve');
    await bot.emu.waitFor(() => message.text.includes('Done'));
    expect(bot.emu.threadOf(PRIVATE, message.ts).some((m) => blocksText(m.blocks).includes('n is 2'))).toBe(true);
  });
});

describe('the response_url budget', () => {
  it('a preview longer than 5 messages goes out in 5 posts, packed, the last saying what did not fit', async () => {
    const bot = await start();
    await bot.slash(USERS.admin, DM, 'test-lines 5000 --preview');
    await bot.emu.waitFor(() => (bot.emu.responses.length >= 5 ? true : undefined), 20_000);
    await bot.bot.idle();
    const replies = bot.emu.responses.filter((r) => r.channel === DM);
    expect(replies).toHaveLength(5);
    // Packed: each reply holds as many of the preview's blocks as one message takes (50 blocks, and their size together).
    for (const r of replies) expect(r.blocks?.length ?? 0).toBeGreaterThan(1);
    for (const r of replies) expect(JSON.stringify(r.blocks).length).toBeLessThanOrEqual(LIMITS.blocksJsonPerMessage);
    expect(replies[4]?.text).toMatch(/…\d+ more messages? did not fit in this reply\./);
    const text = blocksText(replies.map((r) => r.blocks));
    expect(text).toContain('line 000001 of 5000');
    // Every post was taken: none was refused with used_url.
    expect(bot.log.text()).not.toContain('used_url');
    expect(bot.emu.calls.some((c) => c.method === 'chat.postEphemeral')).toBe(false);
  }, 30_000);
});
