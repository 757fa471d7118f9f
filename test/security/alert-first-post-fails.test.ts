// Issue 13, item 2: a Slack outage on an alert's first delivery must not lose the alert group.
// The real Bolt app and @slack/web-api post to the Slack workspace emulator, which fails the
// first delivery each way Slack can: HTTP 5xx past the client's own retries, 429 with
// Retry-After past them, and an ok:false answer. Alertmanager's retry, a second alert and the
// resolution must then end in one root, updated in place, with the whole timeline.
import { afterEach, describe, expect, it } from 'vitest';
import type { RetryOptions } from '@slack/web-api';
import { createHash } from 'node:crypto';
import { MemoryStore } from '../../src/core/store.js';
import { digestOf } from '../../src/incidents/alert-threads.js';
import { webhookSchema } from '../../src/prometheus/alertmanager.js';
import type { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { CHANNELS, testConfig } from '../fixtures/world.js';
import { alertBody, postAlert, serveAlerts } from '../e2e/alert-server.js';
import { blocksText, startBot } from '../e2e/harness.js';

/** A short back-off so the client's retries run out quickly; the fault counts below follow from it. */
const RETRY: RetryOptions = { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 };
const CALLS_PER_POST = (RETRY.retries ?? 0) + 1;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const GROUP = '{}:{alertname="high_memory_load"}';
const labels = (instance: string) => ({ alertname: 'high_memory_load', monitor: 'master', severity: 'warning', instance });

/** The captured Alertmanager payload as one alert, then a second alert of the same group, then all resolved. */
function deliveries() {
  const first = alertBody(labels('gpu-node-1:9100'), GROUP);
  const two = JSON.parse(first) as { status: string; commonLabels: Record<string, string>; alerts: Array<{ status?: string; labels: Record<string, string>; endsAt?: string }> };
  const { instance: _drop, ...common } = labels('');
  two.commonLabels = common;
  two.alerts.push({ ...two.alerts[0], labels: labels('gpu-node-2:9100') } as (typeof two.alerts)[number]);
  const second = JSON.stringify(two);
  const resolvedPayload = { ...two, status: 'resolved', alerts: two.alerts.map((a) => ({ ...a, status: 'resolved', endsAt: '2018-03-07T07:10:00Z' })) };
  return { first, second, resolved: JSON.stringify(resolvedPayload) };
}

const FAULTS: Array<{ name: string; inject: (emu: SlackWorkspaceEmulator) => void }> = [
  { name: 'HTTP 503 beyond the client retries', inject: (emu) => emu.serverErrorNext('chat.postMessage', 503, CALLS_PER_POST) },
  { name: 'HTTP 500 beyond the client retries', inject: (emu) => emu.serverErrorNext('chat.postMessage', 500, CALLS_PER_POST) },
  { name: '429 with Retry-After beyond the client retries', inject: (emu) => emu.rateLimitNext('chat.postMessage', 1, CALLS_PER_POST) },
  { name: 'ok:false fatal_error', inject: (emu) => emu.failNext('chat.postMessage', 'fatal_error') },
  { name: 'ok:false internal_error', inject: (emu) => emu.failNext('chat.postMessage', 'internal_error') },
];

async function start() {
  const config = testConfig();
  config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
  const bot = await startBot({ config, slackRetry: RETRY });
  closers.push(() => bot.close());
  const alerts = await serveAlerts(bot, config);
  closers.push(() => alerts.close());
  const roots = () => bot.emu.messages.filter((m) => m.channel === CHANNELS.incidents && !m.thread_ts);
  return { bot, alerts, roots };
}

const outcome = async (res: Response) => ({ status: res.status, body: (await res.json()) as unknown });

/** The root's final text and blocks hold every change of the group, in order. */
function expectCompleteTimeline(blocks: unknown) {
  const text = blocksText(blocks);
  expect(text).toContain('Timeline');
  const at = ['firing (1/1)', 'firing (2/2)', 'resolved'].map((change) => text.indexOf(change, text.indexOf('Timeline')));
  expect(at.every((i) => i > 0)).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
}

describe('an alert whose first post fails', () => {
  it.each(FAULTS)('$name: the retry, a second alert and the resolution end in one root, updated in place', async ({ inject }) => {
    const { bot, alerts, roots } = await start();
    const { first, second, resolved } = deliveries();
    inject(bot.emu);

    // Slack is down: the webhook answers 5xx so Alertmanager retries; nothing reached the channel.
    const failed = await outcome(await postAlert(alerts.url, first));
    expect(failed.status).toBe(502);
    expect(roots()).toHaveLength(0);

    // Alertmanager's retry of the same notification posts the root.
    expect(await outcome(await postAlert(alerts.url, first))).toEqual({ status: 200, body: { outcome: 'opened' } });
    expect(roots()).toHaveLength(1);
    expect(await outcome(await postAlert(alerts.url, second))).toEqual({ status: 200, body: { outcome: 'updated' } });
    expect(await outcome(await postAlert(alerts.url, resolved))).toEqual({ status: 200, body: { outcome: 'resolved' } });

    expect(roots()).toHaveLength(1);
    const root = roots()[0];
    if (!root) throw new Error('no root');
    expect(root.text).toContain('RESOLVED: high_memory_load');
    expect(root.updates.length).toBeGreaterThanOrEqual(2);
    expectCompleteTimeline(root.blocks);
    // The changes are replies in its thread (beside the offer to declare an incident).
    const replies = bot.emu.threadOf(CHANNELS.incidents, root.ts).filter((m) => !JSON.stringify(m.blocks ?? []).includes('vlinders_suggest'));
    expect(replies.map((m) => m.text)).toEqual([expect.stringContaining('FIRING'), expect.stringContaining('RESOLVED')]);
  });

  it('the change that arrives first after the outage (not a retry) posts the root, with the failed one in its timeline', async () => {
    const { bot, alerts, roots } = await start();
    const { first, second, resolved } = deliveries();
    bot.emu.failNext('chat.postMessage', 'fatal_error');
    expect((await postAlert(alerts.url, first)).status).toBe(502);
    // No retry: the next notification is already a change.
    expect(await outcome(await postAlert(alerts.url, second))).toEqual({ status: 200, body: { outcome: 'opened' } });
    expect(await outcome(await postAlert(alerts.url, resolved))).toEqual({ status: 200, body: { outcome: 'resolved' } });
    expect(roots()).toHaveLength(1);
    expectCompleteTimeline(roots()[0]?.blocks);
  });

  it('with no later delivery, the periodic sweep posts the root once', async () => {
    const { bot, alerts, roots } = await start();
    const { first, resolved } = deliveries();
    bot.emu.serverErrorNext('chat.postMessage', 503, CALLS_PER_POST);
    expect((await postAlert(alerts.url, first)).status).toBe(502);
    expect(roots()).toHaveLength(0);
    expect(await alerts.sweep()).toBe(1);
    expect(await alerts.sweep()).toBe(0);
    expect(roots()).toHaveLength(1);
    expect(await outcome(await postAlert(alerts.url, resolved))).toEqual({ status: 200, body: { outcome: 'resolved' } });
    expect(roots()).toHaveLength(1);
    expect(roots()[0]?.text).toContain('RESOLVED');
  });

  it('a group an earlier version recorded but never posted (no root, no timeline stored) is posted by its next delivery', async () => {
    const config = testConfig();
    config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
    const bot = await startBot({ config, slackRetry: RETRY });
    closers.push(() => bot.close());
    const store = new MemoryStore();
    const alerts = await serveAlerts(bot, config, store);
    closers.push(() => alerts.close());
    const { first, resolved } = deliveries();
    // What the previous version left when Slack refused the first post.
    const legacy = { channel: CHANNELS.incidents, status: 'firing', name: 'high_memory_load', severity: 'warning', digest: digestOf(webhookSchema.parse(JSON.parse(first))), openedAt: Date.now(), notifications: 1 };
    await store.create('incident-thread', createHash('sha256').update(GROUP).digest('hex').slice(0, 40), legacy);
    expect(await outcome(await postAlert(alerts.url, first))).toEqual({ status: 200, body: { outcome: 'opened' } });
    expect(await outcome(await postAlert(alerts.url, resolved))).toEqual({ status: 200, body: { outcome: 'resolved' } });
    const roots = bot.emu.messages.filter((m) => m.channel === CHANNELS.incidents && !m.thread_ts);
    expect(roots).toHaveLength(1);
    expect(roots[0]?.text).toContain('RESOLVED: high_memory_load');
  });

  it('a retry and a change racing after the outage still make one root, with both in it', async () => {
    const { bot, alerts, roots } = await start();
    const { first, second, resolved } = deliveries();
    bot.emu.failNext('chat.postMessage', 'internal_error');
    expect((await postAlert(alerts.url, first)).status).toBe(502);
    // Slack is slow now: whichever posts the root is still waiting for its answer when the others arrive.
    bot.emu.slowNext('chat.postMessage', 300, 3);
    const raced = await Promise.all([postAlert(alerts.url, first), postAlert(alerts.url, second), alerts.sweep()]);
    for (const res of raced.slice(0, 2)) expect((res as Response).status).toBe(200);
    expect(roots()).toHaveLength(1);
    expect(blocksText(roots()[0]?.blocks)).toContain('firing (2/2)');
    expect(await outcome(await postAlert(alerts.url, resolved))).toEqual({ status: 200, body: { outcome: 'resolved' } });
    expect(roots()).toHaveLength(1);
    expectCompleteTimeline(roots()[0]?.blocks);
  });
});
