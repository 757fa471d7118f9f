// The real Alertmanager (Debian's prometheus-alertmanager) delivering to the bot's real
// POST /alertmanager, with alerts pushed into its API v2 the way Prometheus delivers them;
// and the alert thread's silences, created and expired in that Alertmanager.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { MemoryStore } from '../../src/core/store.js';
import { AlertThreads, alertGroupId } from '../../src/incidents/alert-threads.js';
import { AlertSilences, pinOf } from '../../src/incidents/silences.js';
import { AlertmanagerClient } from '../../src/prometheus/alertmanager-api.js';
import { parseWebhook } from '../../src/prometheus/alertmanager.js';
import { startAlertmanager, type RunningAlertmanager } from '../../src/sandbox/alertmanager/server.js';
import { SlackWorkspaceEmulator, freePort, type RecordedMessage } from '../../src/sandbox/slack/index.js';
import { CHANNELS, MANIFEST_SCOPES, USERS, seedConversations, testConfig } from '../fixtures/world.js';
import { ALERT_TOKEN, alertBody, postAlert, serveAlerts } from './alert-server.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

const NS = 'vlinders-inference';
/** Durations short enough that a repeat shows within seconds. */
const REPEAT_MS = 1000;

let am: RunningAlertmanager;
let bot: BotHarness;
let emu: SlackWorkspaceEmulator;
let alerts: Awaited<ReturnType<typeof serveAlerts>>;
/** The engine's clock is ours: a test moves it to make buttons stale. */
let clockOffsetMs = 0;

const OPERATOR_NAME = 'olivia.operator';

beforeAll(async () => {
  const amPort = await freePort();
  const config: Config = testConfig();
  config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
  config.prometheus = { ...config.prometheus, alertmanagerUrl: `http://127.0.0.1:${amPort}`, timeoutSeconds: 5 };
  // The operator may change things in the incidents channel too (the world's operator is bound to #ops only).
  config.rbac.roles.operator = { ...config.rbac.roles.operator!, channels: [CHANNELS.ops, CHANNELS.incidents] };
  // Dozens of posts to one channel: these tests are about Alertmanager and the threads, not Slack's pace
  // (test/slack/busy-channel.test.ts holds the bot to that), so the post limit is lifted, as in bounded-growth.
  emu = await SlackWorkspaceEmulator.start({ scopes: MANIFEST_SCOPES, limits: { postMessagesPerSecond: 1000, postMessageBurst: 1000 } });
  seedConversations(emu);
  bot = await startBot({ config, emu, now: () => Date.now() + clockOffsetMs });
  bot.emu.addUser(USERS.operator, { name: OPERATOR_NAME });
  alerts = await serveAlerts(bot, config);
  am = await startAlertmanager({
    webhookUrl: alerts.url,
    token: ALERT_TOKEN,
    port: amPort,
    groupBy: ['alertname', 'namespace'],
    groupWait: '100ms',
    groupInterval: '500ms',
    repeatInterval: `${REPEAT_MS}ms`,
    // The storage team's alerts go to their own receiver: a silence on our labels that reaches them is wider than our group.
    otherRoutes: [{ matchers: ['team="storage"'], receiver: 'storage' }],
  });
}, 30_000);

afterAll(async () => {
  await am?.stop();
  await alerts?.close();
  await bot?.close();
  await emu?.close();
});

interface PushedAlert {
  labels: Record<string, string>;
  resolved?: boolean;
}

/** POST /api/v2/alerts, as Prometheus sends them: a resolved alert carries an endsAt in the past. */
async function push(...list: PushedAlert[]): Promise<void> {
  const body = list.map((a) => ({
    labels: a.labels,
    annotations: { summary: `${a.labels.alertname} on ${a.labels.gpu ?? a.labels.pvc ?? 'the platform'}` },
    generatorURL: 'http://prometheus.vlinders-monitoring:9090/graph',
    ...(a.resolved ? { endsAt: new Date(Date.now() - 1000).toISOString() } : {}),
  }));
  const res = await fetch(`${am.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

const gpuAlert = (alertname: string, gpu: string, extra: Record<string, string> = {}): PushedAlert => ({ labels: { alertname, namespace: NS, severity: 'warning', gpu, ...extra } });

const roots = (alertname: string) => bot.emu.messages.filter((m) => m.channel === CHANNELS.incidents && !m.thread_ts && m.text.includes(alertname));
const thread = (root: RecordedMessage) => bot.emu.threadOf(CHANNELS.incidents, root.ts);
/** The Status field of every form chat.update gave the root, oldest first. */
const statusField = (blocksJson: string) => /\*Status\*\\n([^"]+)"/.exec(blocksJson)?.[1];
const rootStatuses = (root: RecordedMessage) => root.updates.map((u) => statusField(blocksText(u.blocks)));
/** The root's "Notifications" field: how many deliveries of the group the bot took (absent: one). */
const notifications = (root: RecordedMessage) => Number(/\*Notifications\*\\n(\d+)/.exec(blocksText(root.blocks))?.[1] ?? 1);

async function rootOf(alertname: string): Promise<RecordedMessage> {
  return bot.emu.waitFor(() => roots(alertname)[0], 10_000);
}

/** The thread message holding a button with this label. */
async function buttonMessage(root: RecordedMessage, label: string): Promise<RecordedMessage> {
  return bot.emu.waitFor(() => [...thread(root)].reverse().find((m) => blocksText(m.blocks).includes(`"text":"${label}"`)), 10_000);
}

/** Clicks a button in the thread; returns the confirmation card it led to. */
async function clickForCard(user: string, root: RecordedMessage, label: string): Promise<{ message: RecordedMessage; id: string }> {
  const before = thread(root).length;
  await bot.click(user, CHANNELS.incidents, (await buttonMessage(root, label)).ts, label);
  const message = await bot.emu.waitFor(() => thread(root).slice(before).find((m) => blocksText(m.blocks).includes('vlinders_approve')), 10_000);
  const actions = (message.blocks ?? []).find((b) => (b as { type: string }).type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
  return { message, id: actions.elements.find((e) => e.action_id === 'vlinders_approve')?.value ?? '' };
}

async function approve(user: string, card: RecordedMessage): Promise<void> {
  await bot.click(user, CHANNELS.incidents, card.ts, 'vlinders_approve');
}

async function ephemeralFor(user: string, after: number): Promise<string> {
  return (await bot.emu.waitFor(() => bot.emu.ephemerals.slice(after).find((e) => e.user === user), 10_000)).text;
}

interface AmSilence {
  id: string;
  status: { state: string };
  createdBy: string;
  comment: string;
  endsAt: string;
  matchers: Array<{ name: string; value: string; isEqual: boolean; isRegex: boolean }>;
}

async function amSilences(): Promise<AmSilence[]> {
  return (await (await fetch(`${am.url}/api/v2/silences`)).json()) as AmSilence[];
}

async function activeSilenceOn(alertname: string): Promise<AmSilence | undefined> {
  return (await amSilences()).find((s) => s.status.state === 'active' && s.matchers.some((m) => m.name === 'alertname' && m.value === alertname));
}

async function waitUntil<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${probe.toString().slice(0, 160)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the real Alertmanager delivers to the bot', () => {
  it('one thread per group: firing, a second alert joining, a repeat and resolved, with the root updated in place and nothing posted twice', async () => {
    await push(gpuAlert('GpuTooHot', '0'));
    const root = await rootOf('GpuTooHot');
    expect(root.text).toContain('FIRING: GpuTooHot');
    expect(blocksText(root.blocks)).toContain('firing (1/1)');

    // A second alert joins the group: one reply in the thread, the root updated in place.
    await push(gpuAlert('GpuTooHot', '0'), gpuAlert('GpuTooHot', '1'));
    await bot.emu.waitFor(() => blocksText(root.blocks).includes('firing (2/2)'), 10_000);
    // The reply is the notification without the root's status fields: the title and both alerts.
    const joined = await bot.emu.waitFor(() => thread(root).filter((m) => m.text.includes('FIRING: GpuTooHot')));
    expect(joined).toHaveLength(1);
    expect(blocksText(joined[0]?.blocks)).toMatch(/gpu=0.*gpu=1/);

    // repeat_interval passes: Alertmanager sends the same group again; the root counts it, nothing is posted.
    const repliesBefore = thread(root).length;
    const seen = notifications(root);
    await bot.emu.waitFor(() => notifications(root) > seen, 10_000);
    expect(thread(root)).toHaveLength(repliesBefore);
    expect(blocksText(root.blocks)).toContain('firing (2/2)');

    // Both resolve: one "resolved" reply, the root says RESOLVED.
    await push({ ...gpuAlert('GpuTooHot', '0'), resolved: true }, { ...gpuAlert('GpuTooHot', '1'), resolved: true });
    await bot.emu.waitFor(() => root.text.includes('RESOLVED: GpuTooHot'), 10_000);
    expect(thread(root).filter((m) => m.text.includes('RESOLVED: GpuTooHot'))).toHaveLength(1);

    // One root for the group, ever; the root went through firing → joined → resolved in place.
    expect(roots('GpuTooHot')).toHaveLength(1);
    const statuses = rootStatuses(root);
    const firstJoined = statuses.indexOf('firing (2/2)');
    expect(firstJoined).toBeGreaterThanOrEqual(0);
    expect(statuses.slice(firstJoined)).toEqual([...statuses.slice(firstJoined, -1).map(() => 'firing (2/2)'), 'resolved']);
    // Nothing in the thread twice.
    const texts = thread(root).map((m) => blocksText(m.blocks));
    expect(new Set(texts).size).toBe(texts.length);
  }, 30_000);
});

describe('silences from the alert thread', () => {
  it('Silence 1 h: the operator asks, approves, and the real Alertmanager stops delivering the group until the silence is expired', async () => {
    // A control group keeps being delivered: its repeats show time passing in Alertmanager.
    await push(gpuAlert('KvCacheFull', '0'), gpuAlert('QueueBuildingUp', '0'));
    const root = await rootOf('KvCacheFull');
    const control = await rootOf('QueueBuildingUp');

    const card = await clickForCard(USERS.operator, root, 'Silence 1 h');
    const plan = blocksText(card.message.blocks);
    expect(plan).toContain(`alertname=\\"KvCacheFull\\", namespace=\\"${NS}\\"`);
    expect(plan).not.toContain('Destructive');
    expect(await activeSilenceOn('KvCacheFull')).toBeUndefined();
    await approve(USERS.operator, card.message);

    // The thread says who silenced it and until when, with an Expire button; Alertmanager has it as the clicker.
    const status = await buttonMessage(root, 'Expire silence');
    expect(status.text).toMatch(new RegExp(`Silenced by ${OPERATOR_NAME} \\(<@${USERS.operator}>\\) until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC`));
    const silence = await waitUntil(() => activeSilenceOn('KvCacheFull'));
    expect(silence.createdBy).toBe(OPERATOR_NAME);
    expect(silence.comment).toContain('KvCacheFull');
    expect(silence.matchers.map((m) => `${m.name}=${m.value}`)).toEqual(['alertname=KvCacheFull', `namespace=${NS}`]);
    expect(Date.parse(silence.endsAt) - Date.now()).toBeGreaterThan(3_500_000);
    expect(status.text).toContain(silence.id);

    // Two repeat intervals pass (the control group is delivered twice more): the silenced group is not.
    const updates = root.updates.length;
    const replies = thread(root).length;
    const controlSeen = control.updates.length;
    await bot.emu.waitFor(() => control.updates.length >= controlSeen + 2, 15_000);
    expect(root.updates.length).toBe(updates);
    expect(thread(root)).toHaveLength(replies);

    // Expire silence: through its own confirmation; the status line says so, and Alertmanager delivers again.
    const expireCard = await clickForCard(USERS.operator, root, 'Expire silence');
    await approve(USERS.operator, expireCard.message);
    await bot.emu.waitFor(() => status.text.includes(`ended`) && status.text.includes('expired by'), 10_000);
    expect(blocksText(status.blocks)).not.toContain('Expire silence');
    expect((await amSilences()).find((s) => s.id === silence.id)?.status.state).toBe('expired');
    await bot.emu.waitFor(() => root.updates.length > updates, 10_000);
  }, 40_000);

  it('a silence whose matchers reach alerts outside the group needs a second person, and a plan that grew before approval runs nothing', async () => {
    const ours = { labels: { alertname: 'PvcAlmostFull', namespace: 'vlinders-platform', severity: 'warning', pvc: 'data-postgres-0' } };
    const storage = (pvc: string) => ({ labels: { alertname: 'PvcAlmostFull', namespace: 'vlinders-platform', severity: 'warning', pvc, team: 'storage' } });
    await push(ours, storage('qdrant-storage-0'));
    const root = await rootOf('PvcAlmostFull');
    // The storage team's alert went to their receiver: our thread has one alert.
    expect(blocksText(root.blocks)).toContain('firing (1/1)');

    const card = await clickForCard(USERS.operator, root, 'Silence 4 h');
    const plan = blocksText(card.message.blocks);
    expect(plan).toContain('Destructive: a second person');
    expect(plan).toContain('*Other alerts it silences*\\n1');
    expect(plan).toContain('pvc=qdrant-storage-0');

    // The requester can't approve it alone.
    const seen = bot.emu.ephemerals.length;
    await approve(USERS.operator, card.message);
    expect(await ephemeralFor(USERS.operator, seen)).toContain('a second person with the approver role must approve');
    expect(await activeSilenceOn('PvcAlmostFull')).toBeUndefined();

    // Another storage alert appears before the approver clicks: the approved plan no longer says what the silence reaches.
    await push(ours, storage('qdrant-storage-0'), storage('qdrant-storage-1'));
    await waitUntil(async () => ((await (await fetch(`${am.url}/api/v2/alerts?filter=alertname%3D%22PvcAlmostFull%22`)).json()) as unknown[]).length === 3 || undefined);
    await approve(USERS.approver, card.message);
    await bot.emu.waitFor(() => (bot.emu.findMessage(CHANNELS.incidents, card.message.ts)?.text ?? '').includes('Failed'), 10_000);
    expect(bot.emu.messages.some((m) => m.text.includes('changed after the plan was shown'))).toBe(true);
    expect(await activeSilenceOn('PvcAlmostFull')).toBeUndefined();

    // Asked again, the plan shows both; the approver's Approve creates it.
    const again = await clickForCard(USERS.operator, root, 'Silence 4 h');
    expect(blocksText(again.message.blocks)).toContain('*Other alerts it silences*\\n2');
    await approve(USERS.approver, again.message);
    const silence = await waitUntil(() => activeSilenceOn('PvcAlmostFull'));
    expect(silence.createdBy).toBe(OPERATOR_NAME);
    expect(Date.parse(silence.endsAt) - Date.now()).toBeGreaterThan(4 * 3_600_000 - 60_000);

    // Expired outside the bot (amtool, Alertmanager's UI): the thread's line says so at the next click, which may silence anew.
    const status = await buttonMessage(root, 'Expire silence');
    expect((await fetch(`${am.url}/api/v2/silence/${silence.id}`, { method: 'DELETE' })).status).toBe(200);
    const anew = await clickForCard(USERS.operator, root, 'Silence 1 h');
    expect(blocksText(anew.message.blocks)).toContain('silence PvcAlmostFull for 1 h');
    expect(status.text).toContain('expired in Alertmanager');
  }, 40_000);

  it('Silence until resolved: bounded to a day, kept while the group fires, expired by the bot once the group resolved unnotified; meanwhile a viewer, a stale button and a second silence are refused', async () => {
    await push(gpuAlert('PreemptionsHigh', '3'));
    const root = await rootOf('PreemptionsHigh');
    const buttons = await buttonMessage(root, 'Silence 1 h');

    // A viewer may not silence; a day later the thread's buttons have expired. Neither reaches Alertmanager.
    let seen = bot.emu.ephemerals.length;
    await bot.click(USERS.viewer, CHANNELS.incidents, buttons.ts, 'Silence until resolved');
    expect(await ephemeralFor(USERS.viewer, seen)).toContain('needs the operator role');
    seen = bot.emu.ephemerals.length;
    clockOffsetMs = 25 * 3_600_000;
    try {
      await bot.click(USERS.operator, CHANNELS.incidents, buttons.ts, 'Silence until resolved');
      expect(await ephemeralFor(USERS.operator, seen)).toContain('This suggestion has expired');
    } finally {
      clockOffsetMs = 0;
    }
    expect(thread(root).some((m) => blocksText(m.blocks).includes('vlinders_approve'))).toBe(false);
    expect(await activeSilenceOn('PreemptionsHigh')).toBeUndefined();

    const card = await clickForCard(USERS.operator, root, 'Silence until resolved');
    await approve(USERS.operator, card.message);
    const status = await buttonMessage(root, 'Expire silence');
    expect(status.text).toContain('until the group resolves (at the latest');
    const silence = await waitUntil(() => activeSilenceOn('PreemptionsHigh'));
    expect(Math.abs(Date.parse(silence.endsAt) - Date.now() - 24 * 3_600_000)).toBeLessThan(60_000);

    // Silenced, a second silence is refused at the click.
    seen = bot.emu.ephemerals.length;
    await bot.click(USERS.operator, CHANNELS.incidents, buttons.ts, 'Silence 4 h');
    expect(await ephemeralFor(USERS.operator, seen)).toContain(`is already silenced by ${OPERATOR_NAME}`);

    // Still firing (silenced): the check keeps it.
    expect(await alerts.expireResolvedSilences()).toBe(0);
    expect((await activeSilenceOn('PreemptionsHigh'))?.id).toBe(silence.id);

    // It resolves: Alertmanager sends nothing for a silenced group, so the bot's check is what sees it.
    await push({ ...gpuAlert('PreemptionsHigh', '3'), resolved: true });
    await waitUntil(async () => ((await (await fetch(`${am.url}/api/v2/alerts?filter=alertname%3D%22PreemptionsHigh%22`)).json()) as unknown[]).length === 0 || undefined);
    expect(await alerts.expireResolvedSilences()).toBe(1);
    expect((await amSilences()).filter((s) => s.status.state === 'active' && s.matchers.some((m) => m.value === 'PreemptionsHigh'))).toEqual([]);
    await bot.emu.waitFor(() => status.text.includes('the group resolved'), 10_000);
    await bot.emu.waitFor(() => thread(root).some((m) => m.text.includes('resolved while it was silenced')), 10_000);
    expect(await alerts.expireResolvedSilences()).toBe(0);
  }, 30_000);
});

describe('a timed silence reaching its end', () => {
  it('loses its Expire button at the bot\'s next check, and no longer counts as in force', async () => {
    let now = Date.now();
    const store = new MemoryStore();
    const said: Array<{ ts: string; text: string; blocks?: unknown[] }> = [];
    const poster = {
      report: async () => String(said.push({ ts: `root.${said.length}`, text: 'root' }) - 1),
      updateReport: async () => undefined,
      post: async (_where: unknown, text: string, blocks?: unknown[]) => `m.${said.push({ ts: `m.${said.length}`, text, blocks }) - 1}`,
      update: async (_channel: string, ts: string, text: string, blocks?: unknown[]) => void Object.assign(said.find((m) => m.ts === ts) ?? {}, { text, blocks }),
    };
    const threads = new AlertThreads(store, poster, CHANNELS.incidents, () => now);
    const silences = new AlertSilences({ store, alertmanager: new AlertmanagerClient(am.url), poster, offer: async (words) => words.join(' '), now: () => now });
    const labels = { alertname: 'ModelLoadSlow', namespace: NS, severity: 'warning', model: 'llama' };
    await push({ labels });
    const parsed = parseWebhook(alertBody(labels, '{}:{alertname="ModelLoadSlow"}'));
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    await threads.handle({ ...parsed.payload, receiver: 'vlinders-ops' });
    const id = alertGroupId('{}:{alertname="ModelLoadSlow"}');

    const plan = await waitUntil(async () => {
      const p = await silences.plan(id, '1h');
      return p.inGroup.length > 0 ? p : undefined;
    });
    expect(plan.outside).toEqual([]);
    const record = await silences.create(id, '1h', pinOf(plan, 'nina.night-shift'), { userId: USERS.operator, name: 'nina.night-shift' });
    const status = said.find((m) => m.ts === record.statusTs);
    expect(JSON.stringify(status?.blocks)).toContain('Expire silence');
    expect(await silences.sweep()).toBe(0);

    now += 3_600_000 + 1000;
    expect(await silences.sweep()).toBe(1);
    expect(status?.text).toContain('it reached its end');
    expect(JSON.stringify(status?.blocks)).not.toContain('Expire silence');
    expect(await silences.sweep()).toBe(0);
    expect(await silences.current(id)).toBeUndefined();
  });
});

describe('the Alertmanager client against the real API', () => {
  it('filters on label values holding quotes, backslashes and newlines exactly', async () => {
    const hostile = 'a"b\\c\nd';
    await push({ labels: { alertname: 'OddLabels', namespace: 'x', pod: hostile } }, { labels: { alertname: 'OddLabels', namespace: 'x', pod: 'a"b' } });
    const client = new AlertmanagerClient(am.url);
    const found = await waitUntil(async () => {
      const list = await client.alerts({ filter: [{ name: 'alertname', value: 'OddLabels' }, { name: 'pod', value: hostile }] });
      return list.length > 0 ? list : undefined;
    });
    expect(found.map((a) => a.labels.pod)).toEqual([hostile]);
  });
});

describe('silences without a reachable Alertmanager', () => {
  it('say so in one line and post no card', async () => {
    const config: Config = testConfig();
    config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
    config.prometheus = { ...config.prometheus, alertmanagerUrl: `http://127.0.0.1:${await freePort()}`, timeoutSeconds: 2 };
    const down = await startBot({ config });
    const route = await serveAlerts(down, config);
    try {
      const res = await postAlert(route.url, alertBody({ alertname: 'KubePodCrashLooping', namespace: 'vlinders-platform', pod: 'api-0', severity: 'critical' }, '{}:{alertname="KubePodCrashLooping"}'));
      expect(res.status).toBe(200);
      const root = await down.emu.waitFor(() => down.emu.messages.find((m) => m.channel === CHANNELS.incidents && !m.thread_ts));
      const buttons = await down.emu.waitFor(() => down.emu.threadOf(CHANNELS.incidents, root.ts).find((m) => blocksText(m.blocks).includes('Silence 1 h')));
      await down.click(USERS.admin, CHANNELS.incidents, buttons.ts, 'Silence 1 h');
      const answer = await down.emu.waitFor(() => down.emu.threadOf(CHANNELS.incidents, root.ts).find((m) => m.text.includes('Could not reach Alertmanager')));
      expect(answer.text).toMatch(/Could not reach Alertmanager \(GET http:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts\): ECONNREFUSED/);
      expect(down.emu.threadOf(CHANNELS.incidents, root.ts).some((m) => blocksText(m.blocks).includes('vlinders_approve'))).toBe(false);
    } finally {
      await route.close();
      await down.close();
    }
  }, 20_000);
});
