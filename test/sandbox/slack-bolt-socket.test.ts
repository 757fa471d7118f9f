// The real Bolt app with its real SocketModeReceiver (@slack/socket-mode over undici's WebSocket),
// connected to the emulator's Socket Mode endpoint.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App, LogLevel, SocketModeReceiver, type BlockAction } from '@slack/bolt';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { captureLogger } from './slack-helpers.js';

let emu: SlackWorkspaceEmulator;
let app: App;
const logger = captureLogger();

beforeAll(async () => {
  emu = await SlackWorkspaceEmulator.start();
  emu.addChannel('C0OPS', 'vlinders-ops', { bot: true, members: ['U0ADA', 'U0BOB'] });
  const receiver = new SocketModeReceiver({
    appToken: emu.appToken,
    logger,
    logLevel: LogLevel.ERROR,
    // Short ping timing so the test below sees many ping/pong rounds: the client pings every 200ms and
    // gives up on the socket if no pong came within 600ms.
    clientPingTimeout: 600,
    // The SocketModeClient makes its own WebClient (for apps.connections.open) from these options only;
    // the App's clientOptions do not reach a receiver you construct yourself.
    installerOptions: { clientOptions: { slackApiUrl: emu.apiUrl } },
  });
  app = new App({ receiver, token: emu.botToken, clientOptions: { slackApiUrl: emu.apiUrl }, logger, logLevel: LogLevel.ERROR });
  app.command('/vlinders', async ({ ack, command, client }) => {
    await ack({ response_type: 'ephemeral', text: `on it: ${command.text}` });
    await client.chat.postMessage({
      channel: command.channel_id,
      text: 'card',
      blocks: [
        {
          type: 'actions',
          block_id: 'pa-9',
          elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'pa-9' }],
        },
      ],
    });
  });
  app.action<BlockAction>('approve', async ({ ack, client, body }) => {
    await ack();
    if (body.channel && body.message) {
      await client.chat.update({ channel: body.channel.id, ts: body.message.ts, text: 'approved' });
    }
  });
  await app.start();
  await emu.socketConnected();
});

afterAll(async () => {
  // Stop the app first: SocketModeReceiver.stop() resolves before the close handshake ends, so wait
  // for the emulator to see the socket go; closing the emulator first would make the client reconnect.
  await app.stop();
  await emu.waitFor(() => emu.socketConnections === 0);
  await emu.close();
});

beforeEach(() => {
  emu.messages = [];
});

describe('Bolt SocketModeReceiver against the emulator', () => {
  it('connected with the app token through apps.connections.open', () => {
    expect(emu.socketConnections).toBe(1);
    const open = emu.calls.find((c) => c.method === 'apps.connections.open');
    expect(open).toMatchObject({ ok: true });
  });

  it('a slash_commands envelope is acked with the ack() body', async () => {
    const ack = await emu.sendSlashCommandSocket({ user: 'U0ADA', channel: 'C0OPS', text: 'gpu-status' });
    expect(ack.envelope_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ack.payload).toEqual({ response_type: 'ephemeral', text: 'on it: gpu-status' });
    expect(emu.ephemerals.at(-1)).toMatchObject({ channel: 'C0OPS', user: 'U0ADA', text: 'on it: gpu-status' });
    await emu.waitFor(() => emu.messages[0]);
  });

  it('an interactive block_actions envelope is acked and the listener runs', async () => {
    await emu.sendSlashCommandSocket({ user: 'U0ADA', channel: 'C0OPS', text: 'scale' });
    const card = await emu.waitFor(() => emu.messages[0]);
    const ack = await emu.clickButtonSocket({ user: 'U0BOB', channel: 'C0OPS', messageTs: card.ts, button: 'approve' });
    expect(ack.payload).toEqual({});
    await emu.waitFor(() => card.updates.length === 1);
    expect(card.text).toBe('approved');
  });

  it('an envelope nobody acks rejects after the timeout', async () => {
    const posted = await app.client.chat.postMessage({
      channel: 'C0OPS',
      text: 'orphan',
      blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'nobody-listens', text: { type: 'plain_text', text: 'Nobody' } }] }],
    });
    await expect(emu.clickButtonSocket({ user: 'U0BOB', channel: 'C0OPS', messageTs: posted.ts ?? '', button: 'nobody-listens' }, 300)).rejects.toThrow(
      /no ack for interactive envelope .* within 300ms/,
    );
  });

  it('the connection stays up across many client pings (the emulator answers pongs)', async () => {
    await new Promise((r) => setTimeout(r, 1500));
    expect(emu.socketConnections).toBe(1);
    expect(emu.calls.filter((c) => c.method === 'apps.connections.open')).toHaveLength(1);
    expect(logger.lines.filter((l) => /pong|reconnect/i.test(l))).toEqual([]);
  });
});
