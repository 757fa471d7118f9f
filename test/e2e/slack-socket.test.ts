// The same flows through Bolt's SocketModeReceiver: envelopes over the emulator's WebSocket.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { createSlackBot } from '../../src/slack/app.js';
import { buildEngine } from '../../src/wiring.js';
import { CHANNELS, USERS, testConfig } from '../fixtures/world.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('Socket Mode', () => {
  it('a /vlinders help envelope is acked at once and answered', async () => {
    h = await startBot({ mode: 'socket' });
    const ack = await h.slash(USERS.viewer, CHANNELS.general, 'help');
    expect(ack.ms).toBeLessThan(3000);
    const reply = await h.emu.waitFor(() => h?.emu.ephemerals.find((m) => m.channel === CHANNELS.general && m.user === USERS.viewer));
    expect(blocksText(reply.blocks)).toContain('vlinders-ops commands');
  });

  it('denies and confirms exactly as over HTTP, and runs an approved change once', async () => {
    h = await startBot({ mode: 'socket' });
    const emu = h.emu;
    await h.slash(USERS.stranger, CHANNELS.ops, 'help');
    const denial = await emu.waitFor(() => emu.ephemerals[0]);
    expect(denial.text).toContain('needs the viewer role');

    await h.slash(USERS.operator, CHANNELS.ops, 'test-change 4');
    const { message } = await h.card(CHANNELS.ops);
    await Promise.all([h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve'), h.click(USERS.operator, CHANNELS.ops, message.ts, 'vlinders_approve')]);
    await emu.waitFor(() => message.text.includes('Done'));
    expect(h.runLog.runs).toHaveLength(1);
  });

  it('an app token Slack rejects never connects, so no envelope can arrive', async () => {
    const emu = await SlackWorkspaceEmulator.start();
    const config = testConfig();
    const log = createLogger('silent');
    const bot = createSlackBot({
      config,
      log,
      credentials: { botToken: emu.botToken, appToken: 'xapp-1-forged-token', apiUrl: emu.apiUrl },
      makeEngine: (hooks) => buildEngine({ config, commands: [], log, groupMembers: hooks.groupMembers }),
    });
    await expect(bot.start()).rejects.toThrow(/invalid_auth/);
    expect(emu.calls.filter((c) => c.method === 'apps.connections.open').every((c) => !c.ok)).toBe(true);
    await bot.stop().catch(() => undefined);
    await emu.close();
  });
});
