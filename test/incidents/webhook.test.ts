// POST /alertmanager with the real captured payloads, posting through the real WebClient
// to the Slack workspace emulator.
import { createServer, type Server } from 'node:http';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { MemoryStore } from '../../src/core/store.js';
import { AlertThreads } from '../../src/incidents/alert-threads.js';
import { alertmanagerWebhook } from '../../src/incidents/webhook.js';
import { parseWebhook } from '../../src/prometheus/alertmanager.js';
import { MANIFEST_SCOPES, seedConversations } from '../fixtures/world.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { SlackPoster } from '../../src/slack/poster.js';
import { readCaptured } from '../fixtures/captured.js';

const TOKEN = 'alertmanager-test-token';
const CHANNEL = 'C0INCIDNT';
const firing = readCaptured('alertmanager/alertmanager_webhook_v4_firing_cloudeon.json');
const msteams = readCaptured('alertmanager/alertmanager_webhook_v4_firing_prometheus-msteams.json');

/** Derived from the captured firing payload: the same group, all resolved. */
function resolvedVariant(text: string): string {
  const p = JSON.parse(text) as { status: string; alerts: Array<{ status: string; endsAt: string }> };
  p.status = 'resolved';
  for (const a of p.alerts) {
    a.status = 'resolved';
    a.endsAt = '2023-03-25T15:00:00Z';
  }
  return JSON.stringify(p);
}

let emu: SlackWorkspaceEmulator;
let server: Server;
let url: string;

beforeAll(async () => {
  emu = await SlackWorkspaceEmulator.start({ scopes: MANIFEST_SCOPES });
  seedConversations(emu);
  const poster = new SlackPoster(new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl }));
  const threads = new AlertThreads(new MemoryStore(), poster, CHANNEL);
  const handler = alertmanagerWebhook({ token: TOKEN, threads, log: createLogger('silent') });
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/alertmanager`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await emu.close();
});

const post = (body: string, token = TOKEN) =>
  fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });

describe('Alertmanager webhook', () => {
  it('both captured payloads parse', () => {
    expect(parseWebhook(firing)).toMatchObject({ ok: true, payload: { status: 'firing', alerts: expect.any(Array) } });
    expect(parseWebhook(msteams)).toMatchObject({ ok: true, payload: { groupKey: '{}:{alertname="high_memory_load"}' } });
  });

  it('firing, repeated, then resolved: one thread, a root updated twice, no duplicates', async () => {
    expect(await (await post(firing)).json()).toEqual({ outcome: 'opened' });
    expect(await (await post(firing)).json()).toEqual({ outcome: 'repeated' });
    expect(await (await post(resolvedVariant(firing))).json()).toEqual({ outcome: 'resolved' });

    const roots = emu.messages.filter((m) => m.channel === CHANNEL && !m.thread_ts);
    expect(roots).toHaveLength(1);
    const root = roots[0];
    if (!root) return;
    expect(root.updates).toHaveLength(2);
    expect(root.updates[0]?.text).toContain('FIRING: 主机CPU使用率');
    expect(JSON.stringify(root.updates[0]?.blocks)).toContain('Notifications');
    expect(root.text).toContain('RESOLVED: 主机CPU使用率');
    // Only the change to resolved is a reply; the repeat posted nothing.
    const replies = emu.threadOf(CHANNEL, root.ts);
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies[0]?.blocks)).toContain('RESOLVED');
    expect(emu.messages.filter((m) => m.channel === CHANNEL)).toHaveLength(2);
  });

  it('a change within the group (a new alert firing) replies and updates the root again', async () => {
    const before = emu.messages.length;
    const p = JSON.parse(msteams) as { alerts: Array<{ labels: Record<string, string> }> };
    expect(await (await post(msteams)).json()).toEqual({ outcome: 'opened' });
    p.alerts.push({ ...p.alerts[0], labels: { ...p.alerts[0]?.labels, instance: 'gpu-node-7:9100' } } as { labels: Record<string, string> });
    expect(await (await post(JSON.stringify(p))).json()).toEqual({ outcome: 'updated' });
    const root = emu.messages[before];
    expect(root?.updates).toHaveLength(1);
    expect(emu.messages.length).toBe(before + 2);
    expect(root?.text).toContain('FIRING: high_memory_load');
    expect(emu.threadOf(CHANNEL, root?.ts ?? '')).toHaveLength(1);
  });

  it('a bad bearer token gets 401 and posts nothing', async () => {
    const before = emu.messages.length;
    expect((await post(firing, 'wrong')).status).toBe(401);
    expect((await fetch(url, { method: 'POST', body: firing })).status).toBe(401);
    expect(emu.messages.length).toBe(before);
  });

  it('a malformed body gets 400 with the problems, and posts nothing', async () => {
    const before = emu.messages.length;
    const notJson = await post('{"version":');
    expect(notJson.status).toBe(400);
    const wrong = await post(JSON.stringify({ ...(JSON.parse(firing) as object), version: '3', alerts: [] }));
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(await wrong.json())).toContain('version');
    expect(emu.messages.length).toBe(before);
  });
});
