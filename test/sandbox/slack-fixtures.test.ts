// Holds what the emulator sends to the app to real Slack bodies: every field of the captured
// bolt-python request bodies and python-slack-sdk Socket Mode envelopes must be there, and no field
// may be one that java-slack-sdk's full payload types don't know (the emulator invents nothing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { isValidSlackRequest } from '@slack/bolt';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { fixture } from './slack-helpers.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Paths of keys present in `expected` but missing from `actual`, following nested objects and first array items. */
function missingKeys(expected: unknown, actual: unknown, path = ''): string[] {
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length ? missingKeys(expected[0], actual[0], `${path}[0]`) : expected.length ? [path] : [];
  if (!isObject(expected)) return [];
  if (!isObject(actual)) return [path || '(root)'];
  return Object.keys(expected).flatMap((k) => (k in actual ? missingKeys(expected[k], actual[k], `${path}.${k}`) : [`${path}.${k}`]));
}

const slashFixture = Object.fromEntries(new URLSearchParams(fixture('slash_command_body_bolt-python.txt').trim()));
const actionsBodyFixture = new URLSearchParams(fixture('block_actions_request_body_bolt-python.txt').trim());
const actionsFixture = JSON.parse(fixture('block_actions_payload_bolt-python.json')) as Json;
const envelopes = fixture('socket_mode_envelopes_python-slack-sdk.jsonl').trim().split('\n').map((l) => JSON.parse(l) as Json);
const slashEnvelope = envelopes.find((e) => e.type === 'slash_commands') as Json;
const actionsEnvelope = envelopes.find((e) => e.type === 'interactive' && isObject(e.payload) && e.payload.type === 'block_actions') as Json;
const javaSlash = JSON.parse(fixture('java-slack-sdk_SlashCommandPayload_shape.json')) as Json;
const javaActions = JSON.parse(fixture('java-slack-sdk_BlockActionPayload_shape.json')) as Json;

// A plain server standing in for the app's request URL, keeping what arrives.
let sink: Server;
let sinkUrl: string;
const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
let emu: SlackWorkspaceEmulator;
let grid: SlackWorkspaceEmulator;

beforeAll(async () => {
  sink = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/slack/events`;
  emu = await SlackWorkspaceEmulator.start();
  // The captured bodies come from an Enterprise Grid workspace; this one reproduces that.
  grid = await SlackWorkspaceEmulator.start({ enterprise: { id: 'E0EMULATOR', name: 'Vlinders Org' } });
  for (const ws of [emu, grid]) ws.addChannel('C111', 'general', { bot: true, members: ['W111', 'W222'] });
});
afterAll(async () => {
  await emu.close();
  await grid.close();
  await new Promise((r) => sink.close(r));
});

async function capture(send: () => Promise<unknown>): Promise<{ headers: IncomingMessage['headers']; body: string }> {
  received.length = 0;
  await send();
  const got = received[0];
  if (!got) throw new Error('nothing arrived at the sink');
  return got;
}

const cmd = { user: 'W111', channel: 'C111', text: 'Hi there' };
const buttonBlocks = [{ type: 'actions', block_id: 'pa', elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'Go' }, value: 'click_me_123', style: 'danger' }] }];
const post = (ws: SlackWorkspaceEmulator, method: string, args: Json) =>
  fetch(`${ws.apiUrl}${method}`, { method: 'POST', headers: { Authorization: `Bearer ${ws.botToken}`, 'Content-Type': 'application/json' }, body: JSON.stringify(args) }).then((r) => r.json() as Promise<Json>);
/** A click on the button of a card the bot posted: a click needs a button the workspace holds. */
async function clickOnCard(ws: SlackWorkspaceEmulator) {
  const posted = await post(ws, 'chat.postMessage', { channel: 'C111', text: 'card', blocks: buttonBlocks });
  return { user: 'W111', channel: 'C111', messageTs: String(posted.ts), button: 'a' };
}

describe('HTTP request bodies', () => {
  it('slash command: every captured field, form-encoded, validly signed', async () => {
    const got = await capture(() => grid.sendSlashCommand(sinkUrl, cmd));
    expect(got.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const fields = Object.fromEntries(new URLSearchParams(got.body));
    expect(missingKeys(slashFixture, fields)).toEqual([]);
    expect(Object.keys(fields).filter((k) => !(k in javaSlash))).toEqual([]);
    expect(fields).toMatchObject({ command: '/vlinders', text: 'Hi there', user_id: 'W111', channel_id: 'C111', team_id: 'T0EMULATOR' });
    const headers = { 'x-slack-signature': String(got.headers['x-slack-signature']), 'x-slack-request-timestamp': Number(got.headers['x-slack-request-timestamp']) };
    expect(isValidSlackRequest({ signingSecret: grid.signingSecret, body: got.body, headers })).toBe(true);
    expect(isValidSlackRequest({ signingSecret: 'other', body: got.body, headers })).toBe(false);
  });

  it('slash command outside a Grid org: every captured field except the enterprise ones', async () => {
    const fields = Object.fromEntries(new URLSearchParams((await capture(() => emu.sendSlashCommand(sinkUrl, cmd))).body));
    expect(missingKeys(slashFixture, fields)).toEqual(['.enterprise_id', '.enterprise_name']);
  });

  it('block_actions: a single payload= field holding every captured field', async () => {
    const click = await clickOnCard(grid);
    const got = await capture(() => grid.clickButton(sinkUrl, click));
    const form = new URLSearchParams(got.body);
    expect([...form.keys()]).toEqual([...actionsBodyFixture.keys()]);
    const payload = JSON.parse(form.get('payload') ?? '') as Json;
    expect(missingKeys(JSON.parse(actionsBodyFixture.get('payload') ?? '') as Json, payload)).toEqual([]);
    expect(missingKeys(actionsFixture, payload)).toEqual([]);
    // Nothing the real payload type lacks, at the top and one level down (`state` is a free-form map there).
    const invented = missingKeys(payload, javaActions).filter((p) => p.split('.').length <= 3 && !p.startsWith('.state.'));
    expect(invented).toEqual([]);
  });

  it('block_actions carries the recorded message, and is_ephemeral for an ephemeral one', async () => {
    const blocks = buttonBlocks;
    const posted = await post(emu, 'chat.postMessage', { channel: 'C111', text: 'card', blocks, thread_ts: '100.000001' });
    const eph = await post(emu, 'chat.postEphemeral', { channel: 'C111', user: 'W111', text: 'eph', blocks });
    const click = { user: 'W111', channel: 'C111', messageTs: String(posted.ts), button: 'Go' };

    const onMessage = JSON.parse(new URLSearchParams((await capture(() => emu.clickButton(sinkUrl, click))).body).get('payload') ?? '') as Json;
    expect(onMessage.container).toEqual({ type: 'message', message_ts: posted.ts, channel_id: 'C111', is_ephemeral: false, thread_ts: '100.000001' });
    expect(onMessage.message).toMatchObject({ ts: posted.ts, text: 'card', blocks, thread_ts: '100.000001' });
    expect(onMessage.actions).toEqual([
      { action_id: 'a', block_id: 'pa', text: { type: 'plain_text', text: 'Go', emoji: true }, value: 'click_me_123', style: 'danger', type: 'button', action_ts: expect.stringMatching(/^\d+\.\d{6}$/) },
    ]);

    const onEphemeral = JSON.parse(new URLSearchParams((await capture(() => emu.clickButton(sinkUrl, { ...click, messageTs: String(eph.message_ts) }))).body).get('payload') ?? '') as Json;
    expect(onEphemeral.container).toMatchObject({ is_ephemeral: true });
    // An ephemeral message is there only for its person: nobody else can click on it.
    await expect(emu.clickButton(sinkUrl, { ...click, user: 'W222', messageTs: String(eph.message_ts) })).rejects.toThrow(/no message .* that W222 can see/);
    expect('message' in onEphemeral).toBe(false);
  });

  it('timestamp skew and redelivery headers', async () => {
    const now = Math.floor(Date.now() / 1000);
    const got = await capture(() => emu.sendSlashCommand(sinkUrl, cmd, { timestampSkewSeconds: -360, retryNum: 2 }));
    expect(Math.abs(Number(got.headers['x-slack-request-timestamp']) - (now - 360))).toBeLessThanOrEqual(1);
    expect(got.headers['x-slack-retry-num']).toBe('2');
    expect(got.headers['x-slack-retry-reason']).toBe('http_timeout');
    const none = await capture(() => emu.sendSlashCommand(sinkUrl, cmd, { signature: 'none' }));
    expect(none.headers['x-slack-signature']).toBeUndefined();
  });
});

describe('Socket Mode frames', () => {
  /** Connects a bare `ws` client the way SocketModeClient does: apps.connections.open, then the URL. */
  async function connect(): Promise<{ ws: WebSocket; url: string; frames: Json[] }> {
    const res = (await fetch(`${grid.apiUrl}apps.connections.open`, { method: 'POST', headers: { Authorization: `Bearer ${grid.appToken}` } }).then((r) => r.json())) as { url: string };
    const ws = new WebSocket(res.url);
    const frames: Json[] = [];
    ws.on('message', (d) => {
      const frame = JSON.parse(String(d)) as Json;
      frames.push(frame);
      // Ack like SocketModeClient: the envelope_id and a payload object.
      if (typeof frame.envelope_id === 'string') ws.send(JSON.stringify({ envelope_id: frame.envelope_id, payload: { seen: frame.type } }));
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, url: res.url, frames };
  }

  it('hello, then envelopes shaped like the captured ones, acked by envelope_id', async () => {
    const { ws, url, frames } = await connect();
    await grid.socketConnected();
    await grid.waitFor(() => frames.length === 1);
    expect(frames[0]).toEqual({
      type: 'hello',
      num_connections: 1,
      debug_info: { host: expect.any(String), build_number: expect.any(Number), approximate_connection_time: expect.any(Number) },
      connection_info: { app_id: grid.appId },
    });

    const slashAck = await grid.sendSlashCommandSocket(cmd);
    const slash = frames[1] as Json;
    expect(Object.keys(slash).sort()).toEqual(Object.keys(slashEnvelope).sort());
    expect(slash.accepts_response_payload).toBe(slashEnvelope.accepts_response_payload);
    expect(missingKeys(slashEnvelope.payload, slash.payload)).toEqual([]);
    expect(slashAck).toEqual({ envelope_id: slash.envelope_id, payload: { seen: 'slash_commands' } });

    const clickAck = await grid.clickButtonSocket(await clickOnCard(grid));
    const interactive = frames[2] as Json;
    expect(Object.keys(interactive).sort()).toEqual(Object.keys(actionsEnvelope).sort());
    expect(interactive.accepts_response_payload).toBe(actionsEnvelope.accepts_response_payload);
    // The captured click was on a select in a modal: compare its top-level fields only, less `view`
    // (modal clicks only). Nested fields are held to the message-click capture in the HTTP tests.
    const { view: _view, ...captured } = actionsEnvelope.payload as Json;
    expect(Object.keys(captured).filter((k) => !(k in (interactive.payload as Json)))).toEqual([]);
    expect(clickAck.envelope_id).toBe(interactive.envelope_id);

    // Connection URLs are single-use, like Slack's tickets.
    const again = new WebSocket(url);
    const status = await new Promise<number>((resolve) => again.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(401);
    ws.close();
    await grid.waitFor(() => grid.socketConnections === 0);
  });
});
