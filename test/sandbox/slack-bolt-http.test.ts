// The real Bolt app with its real HTTPReceiver, against the emulator playing Slack and the user.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App, HTTPReceiver, LogLevel, type BlockAction, type ButtonAction } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { captureLogger } from './slack-helpers.js';

let emu: SlackWorkspaceEmulator;
let app: App;
let url: string;
const logger = captureLogger();
const seen: Array<{ text: string; retryNum: number | undefined }> = [];

beforeAll(async () => {
  // The emulator must be up before the App: Bolt calls auth.test from the App constructor.
  emu = await SlackWorkspaceEmulator.start();
  emu.addChannel('C0OPS', 'vlinders-ops', { bot: true, members: ['U0ADA', 'U0BOB'] });
  emu.addUser('U0ADA', { name: 'ada' });
  app = new App({
    receiver: new HTTPReceiver({ signingSecret: emu.signingSecret, logger }),
    token: emu.botToken,
    clientOptions: { slackApiUrl: emu.apiUrl },
    logger,
    logLevel: LogLevel.ERROR,
  });
  app.command('/vlinders', async ({ ack, command, client, respond, context }) => {
    if (command.text === 'bad-arg') {
      await ack({ response_type: 'ephemeral', text: 'usage: /vlinders scale-gpu <replicas>' });
      return;
    }
    await ack();
    seen.push({ text: command.text, retryNum: context.retryNum });
    if (command.text === 'help') {
      await respond({ text: `usage for <@${command.user_id}> in #${command.channel_name}` });
      return;
    }
    await client.chat.postMessage({
      channel: command.channel_id,
      text: `Plan: ${command.text}`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*Plan* ${command.text}` } },
        {
          type: 'actions',
          block_id: 'pa-1',
          elements: [
            { type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value: 'pa-1' },
            { type: 'button', action_id: 'cancel', text: { type: 'plain_text', text: 'Cancel' }, value: 'pa-1' },
          ],
        },
      ],
    });
  });
  app.action<BlockAction<ButtonAction>>('approve', async ({ ack, body, action, respond }) => {
    await ack();
    const blocks = (body.message?.blocks as unknown[] | undefined)?.length;
    await respond({
      replace_original: true,
      text: `Approved ${action.value} by <@${body.user.id}> (block ${action.block_id}, style ${(action as ButtonAction & { style?: string }).style}, ${blocks} blocks)`,
    });
  });
  app.action('cancel', async ({ ack, respond }) => {
    await ack();
    await respond({ delete_original: true });
    await respond({ response_type: 'in_channel', text: 'Cancelled' });
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
});

afterAll(async () => {
  await app.stop();
  await emu.close();
});

beforeEach(() => {
  seen.length = 0;
  emu.messages = [];
  emu.ephemerals = [];
  emu.responses = [];
});

describe('Bolt HTTPReceiver against the emulator', () => {
  it('a signed slash command is acked with 200 and the listener posts a message', async () => {
    const res = await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'scale-gpu 4' });
    expect(res.status).toBe(200);
    // Slack shows the user "operation_timeout" unless the command is acknowledged within 3 seconds.
    expect(res.ms).toBeLessThan(3000);
    const m = await emu.waitFor(() => emu.messages[0]);
    expect(m).toMatchObject({ channel: 'C0OPS', text: 'Plan: scale-gpu 4', user: emu.botUserId });
    expect(seen).toEqual([{ text: 'scale-gpu 4', retryNum: undefined }]);
  });

  it('refuses a bad signature with 401 and never runs the listener', async () => {
    const res = await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'x' }, { signature: 'bad' });
    expect(res.status).toBe(401);
    const none = await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'x' }, { signature: 'none' });
    expect(none.status).toBe(401);
    expect(seen).toEqual([]);
  });

  it('refuses a 6-minute-old request with 401, though its signature is valid', async () => {
    const res = await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'x' }, { timestampSkewSeconds: -360 });
    expect(res.status).toBe(401);
    const fresh = await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'y' }, { timestampSkewSeconds: -240 });
    expect(fresh.status).toBe(200);
    await emu.waitFor(() => seen.length === 1);
    expect(seen.map((s) => s.text)).toEqual(['y']);
    expect(logger.lines.some((l) => l.includes('stale'))).toBe(true);
  });

  it('a redelivery carries X-Slack-Retry-Num through to the listener context', async () => {
    const res = await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'again' }, { retryNum: 1 });
    expect(res.status).toBe(200);
    await emu.waitFor(() => seen.length === 1);
    expect(seen[0]?.retryNum).toBe(1);
  });

  it('respond() from a slash command lands as an ephemeral to the user', async () => {
    await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'help' });
    const e = await emu.waitFor(() => emu.ephemerals[0]);
    expect(e).toMatchObject({ channel: 'C0OPS', user: 'U0ADA', text: 'usage for <@U0ADA> in #vlinders-ops' });
  });

  it('an ack body is shown to the user as an ephemeral, as Slack does', async () => {
    const res = await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'bad-arg' });
    expect(JSON.parse(res.body)).toEqual({ response_type: 'ephemeral', text: 'usage: /vlinders scale-gpu <replicas>' });
    expect(emu.ephemerals).toEqual([
      { channel: 'C0OPS', user: 'U0ADA', text: 'usage: /vlinders scale-gpu <replicas>', message_ts: expect.any(String) },
    ]);
    expect(seen).toEqual([]);
  });

  it('a button click carries the recorded message and its button; respond() replaces the card', async () => {
    await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'scale-gpu 4' });
    const card = await emu.waitFor(() => emu.messages[0]);
    const res = await emu.clickButton(url, { user: 'U0BOB', channel: 'C0OPS', messageTs: card.ts, button: 'approve' });
    expect(res.status).toBe(200);
    await emu.waitFor(() => card.updates.length === 1);
    expect(card.text).toBe('Approved pa-1 by <@U0BOB> (block pa-1, style primary, 2 blocks)');
    expect(card.blocks).toBeUndefined();
  });

  it('respond() can delete the original and post in the channel', async () => {
    await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'scale-gpu 2' });
    const card = await emu.waitFor(() => emu.messages[0]);
    await emu.clickButton(url, { user: 'U0ADA', channel: 'C0OPS', messageTs: card.ts, button: 'cancel' });
    const note = await emu.waitFor(() => emu.messages.find((m) => m.text === 'Cancelled'));
    expect(card.deleted).toBe(true);
    expect(note).toMatchObject({ channel: 'C0OPS', user: emu.botUserId });
    expect(emu.responses.map((r) => [r.delete_original ?? false, r.response_type])).toEqual([
      [true, undefined],
      [false, 'in_channel'],
    ]);
  });

  it('a click with a bad signature is refused', async () => {
    await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'scale-gpu 3' });
    const card = await emu.waitFor(() => emu.messages[0]);
    const res = await emu.clickButton(url, { user: 'U0BOB', channel: 'C0OPS', messageTs: card.ts, button: 'Approve' }, { signature: 'bad' });
    expect(res.status).toBe(401);
  });

  it("a test user clicks only a button the workspace holds, and sends that button's own fields", async () => {
    await emu.sendSlashCommand(url, { user: 'U0ADA', channel: 'C0OPS', text: 'scale-gpu 5' });
    const card = await emu.waitFor(() => emu.messages[0]);
    expect(emu.holdsButton({ user: 'U0BOB', channel: 'C0OPS', messageTs: card.ts, button: 'Retry' })).toBe(false);
    await expect(emu.clickButton(url, { user: 'U0BOB', channel: 'C0OPS', messageTs: card.ts, button: 'Retry' })).rejects.toThrow(/no button "Retry".*approve "Approve", cancel "Cancel"/);
    await expect(emu.clickButton(url, { user: 'U0BOB', channel: 'C0OPS', messageTs: '1.000100', button: 'approve' })).rejects.toThrow(/no message 1.000100/);
    // By label: the Approve button's own action_id, value and block_id go out.
    await emu.clickButton(url, { user: 'U0BOB', channel: 'C0OPS', messageTs: card.ts, button: 'Approve' });
    await emu.waitFor(() => card.updates.length === 1);
    expect(card.text).toBe('Approved pa-1 by <@U0BOB> (block pa-1, style primary, 2 blocks)');
  });
});
