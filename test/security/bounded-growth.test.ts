// Issue 13, item 11: nothing the bot keeps or reads grows without bound. An incident with
// hundreds of long updates stays well under a ConfigMap's 1 MiB (the kube emulator refuses
// more, as the apiserver does); an alert storm posts one "N more alert groups" message past
// alerts.rootsPerMinute; expired suggestions and old alert groups are swept; log reads ask
// for limitBytes and cut a line with no newline.
import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Incidents, MAX_INCIDENT_BYTES } from '../../src/incidents/incidents.js';
import { AlertThreads, RESOLVED_KEPT_MS, recordedAlertThreads } from '../../src/incidents/alert-threads.js';
import { boundedLines, MAX_LOG_LINE } from '../../src/kube/client.js';
import { ConfigMapStore } from '../../src/kube/store.js';
import { MemoryStore } from '../../src/core/store.js';
import { webhookSchema } from '../../src/prometheus/alertmanager.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { RatePacer, SLACK_EDITS_PER_MINUTE } from '../../src/slack/pacer.js';
import { SlackPoster } from '../../src/slack/poster.js';
import { CHANNELS, USERS, testConfig, seedConversations } from '../fixtures/world.js';
import { noIO, slackCaller, testEngine } from '../fixtures/engine.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { alertBody, postAlert, serveAlerts } from '../e2e/alert-server.js';
import { startBot } from '../e2e/harness.js';

/** A pacer to match the emulators here, whose post (and, where said, edit) limits are lifted. */
const liftedPace = () => new RatePacer(1000, 1000);

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('an incident with many long updates', () => {
  it('520 updates of 2,000 characters: the ConfigMap stays well under 1 MiB, the newest updates kept, the dropped ones counted', { timeout: 60_000 }, async () => {
    const cluster = await startCluster({});
    closers.push(() => cluster.close());
    cluster.kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vlinders-ops' } });
    // Hundreds of posts to one channel and as many edits of its root, one after another: this
    // test counts stored bytes, not Slack's pace (test/slack/busy-channel.test.ts holds the bot to
    // that), so the post and edit limits are lifted here.
    const emu = await SlackWorkspaceEmulator.start({ limits: { postMessagesPerSecond: 1000, postMessageBurst: 1000, callsPerMinuteByTier: { 1: 1000, 2: 1000, 3: 60_000, 4: 1000 } } });
    seedConversations(emu);
    closers.push(() => emu.close());
    // The updates go through a memory store (520 round trips to the apiserver are slow here); the
    // incident they leave is then written where the bot keeps it, a ConfigMap.
    const memory = new MemoryStore();
    const incidents = new Incidents(memory, new SlackPoster(new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl }), liftedPace(), liftedPace()), CHANNELS.incidents);
    const commander = { userId: USERS.operator, channelId: CHANNELS.incidents, surface: 'slack' as const };
    const opened = await incidents.open(commander, 'API 5xx after deploy', 2);
    // Multi-byte text: what counts against the limit is bytes.
    const text = (i: number) => `update ${i}: ${'überlastet ✓ '.repeat(154)}`.slice(0, 2000);
    for (let i = 1; i <= 520; i++) await incidents.update(commander, opened.number, text(i));
    const configMaps = new ConfigMapStore(cluster.client, 'vlinders-ops');
    expect(await configMaps.create('incident', String(opened.number), (await memory.get('incident', String(opened.number)))?.value)).toBe(true);

    const stored = cluster.kube.list('v1', 'ConfigMap', 'vlinders-ops').find((cm) => cm.metadata.labels?.['vlinders-ops/kind'] === 'incident') as { data: { value: string } } | undefined;
    const bytes = Buffer.byteLength(stored?.data.value ?? '');
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
    expect(bytes).toBeLessThan(1024 * 1024 / 2);
    const [incident] = await incidents.list();
    expect(incident?.timeline.at(-1)?.text).toMatch(/^update: update 520: /);
    expect((incident?.dropped ?? 0) + (incident?.timeline.length ?? 0)).toBe(521);
    // The root says how many earlier entries there are; the thread has every update in full.
    const root = emu.messages.find((m) => m.channel === CHANNELS.incidents && !m.thread_ts);
    expect(JSON.stringify(root?.blocks)).toContain(`… ${521 - 15} earlier entries`);
    // What the cap prevents: the apiserver refuses a ConfigMap past 1 MiB.
    const unbounded = { ...incident, timeline: Array.from({ length: 521 }, (_, i) => ({ at: 0, user: USERS.operator, text: text(i) })) };
    await expect(configMaps.create('incident', 'unbounded', unbounded)).rejects.toThrow(/Too long: may not be more than 1048576 bytes/);
    expect(emu.threadOf(CHANNELS.incidents, root?.ts ?? '').filter((m) => JSON.stringify(m.blocks).includes(text(1).slice(-40)))).not.toHaveLength(0);
  });
});

describe('an alert storm', () => {
  // The summary's edits past chat.update's burst go at its pace (one every 2.2 s): about 18 s.
  it('200 new groups within a minute: rootsPerMinute roots, then one "N more alert groups" message', { timeout: 60_000 }, async () => {
    const config = testConfig();
    config.alerts = { ...config.alerts, channel: CHANNELS.incidents, rootsPerMinute: 20 };
    // 20 roots and a summary kept up to date in one channel: Slack's pace (about a post a second)
    // is held elsewhere (test/slack/busy-channel.test.ts); here the storm's bound is counted.
    // chat.update keeps its tier (50 a minute for the workspace): the summary's edits must fit.
    const emu = await SlackWorkspaceEmulator.start({ limits: { postMessagesPerSecond: 1000, postMessageBurst: 1000 } });
    seedConversations(emu);
    closers.push(() => emu.close());
    const bot = await startBot({ config, emu });
    closers.push(() => bot.close());
    const alerts = await serveAlerts(bot, config);
    closers.push(() => alerts.close());
    const bodies = Array.from({ length: 200 }, (_, i) => alertBody({ alertname: `Storm${i}`, severity: 'warning' }, `{}:{alertname="Storm${i}"}`));
    const outcomes: string[] = [];
    // The storm starts at the top of a minute (the clock runs on from there), so its window is
    // one minute however slow the machine: from the wall clock it could straddle two.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Math.ceil(Date.now() / 60_000) * 60_000);
    try {
      for (let i = 0; i < bodies.length; i += 25) {
        const batch = await Promise.all(bodies.slice(i, i + 25).map(async (b) => ((await (await postAlert(alerts.url, b)).json()) as { outcome: string }).outcome));
        outcomes.push(...batch);
      }
    } finally {
      vi.useRealTimers();
    }
    expect(outcomes.filter((o) => o === 'opened')).toHaveLength(20);
    expect(outcomes.filter((o) => o === 'summarized')).toHaveLength(180);
    const top = bot.emu.messages.filter((m) => m.channel === CHANNELS.incidents && !m.thread_ts);
    expect(top.filter((m) => m.text.includes('FIRING'))).toHaveLength(20);
    const summaries = top.filter((m) => m.text.includes('more alert group'));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.text).toContain('180 more alert groups');
    expect(JSON.stringify(summaries[0]?.blocks)).toContain('and 150 more');
    // The summary was asked to change 179 times; edits asked for while one was on its way went
    // as one, inside chat.update's tier (Tier 3: 50 a minute), and nothing drew a 429.
    expect(bot.emu.calls.filter((c) => c.method === 'chat.update').length).toBeLessThan(SLACK_EDITS_PER_MINUTE);
    expect(bot.emu.calls.filter((c) => c.error === 'ratelimited')).toEqual([]);
  });

  it('a summarized group still firing gets its own thread on a later notification, once a minute has room', async () => {
    let clock = Date.parse('2026-03-01T10:00:00Z');
    // Hundreds of posts to one channel: this test counts stored bytes and roots, not Slack's pace
    // (test/slack/busy-channel.test.ts holds the bot to that), so the post limit is lifted here.
    const emu = await SlackWorkspaceEmulator.start({ limits: { postMessagesPerSecond: 1000, postMessageBurst: 1000 } });
    seedConversations(emu);
    closers.push(() => emu.close());
    const threads = new AlertThreads(new MemoryStore(), new SlackPoster(new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl }), liftedPace()), CHANNELS.incidents, () => clock, { rootsPerMinute: 1 });
    const group = (name: string, status: 'firing' | 'resolved' = 'firing') => webhookSchema.parse({ ...JSON.parse(alertBody({ alertname: name }, `{}:{alertname="${name}"}`)), status });
    expect(await threads.handle(group('First'))).toBe('opened');
    expect(await threads.handle(group('Second'))).toBe('summarized');
    expect(await threads.handle(group('Third'))).toBe('summarized');
    // Still the same minute: no room yet.
    expect(await threads.handle(group('Second'))).toBe('summarized');
    clock += 60_000;
    expect(await threads.handle(group('Second'))).toBe('opened');
    // A summarized group that resolved needs no thread any more.
    expect(await threads.handle(group('Third', 'resolved'))).toBe('summarized');
    const roots = emu.messages.filter((m) => !m.thread_ts).map((m) => m.text);
    expect(roots.filter((t) => t.includes('FIRING'))).toEqual([expect.stringContaining('First'), expect.stringContaining('Second')]);
    expect(roots.filter((t) => t.includes('more alert group'))).toHaveLength(1);
    expect(await threads.sweep()).toBe(0);
  });
});

describe('sweeps', () => {
  it('suggestions past their day are swept with expired confirmations', async () => {
    let clock = Date.parse('2026-03-01T00:00:00Z');
    const { engine } = testEngine({ now: () => clock });
    const where = { channel: CHANNELS.incidents };
    const old = await engine.offer(['whoami'], where);
    clock += 20 * 3_600_000;
    const fresh = await engine.offer(['whoami'], where);
    clock += 5 * 3_600_000 + 60 * 60_000;
    expect(await engine.sweepExpired()).toBe(1);
    const viewer = slackCaller(USERS.viewer, CHANNELS.incidents);
    expect(await engine.invokeSuggestion(old, viewer, noIO())).toMatchObject({ kind: 'error', message: expect.stringContaining('unknown') });
    expect((await engine.invokeSuggestion(fresh, viewer, noIO())).kind).toBe('report');
  });

  it('alert groups resolved long ago and past burst windows are swept; recent ones stay', async () => {
    let clock = Date.parse('2026-03-01T00:00:00Z');
    const store = new MemoryStore();
    const quiet = { report: async () => 'ts', updateReport: async () => undefined };
    const threads = new AlertThreads(store, quiet, CHANNELS.incidents, () => clock, { rootsPerMinute: 5 });
    const group = (name: string, status: 'firing' | 'resolved') => webhookSchema.parse({ ...JSON.parse(alertBody({ alertname: name }, `{}:{alertname="${name}"}`)), status });
    await threads.handle(group('Old', 'firing'));
    await threads.handle(group('Old', 'resolved'));
    clock += RESOLVED_KEPT_MS - 60_000;
    await threads.handle(group('Recent', 'firing'));
    await threads.handle(group('Recent', 'resolved'));
    await threads.handle(group('StillFiring', 'firing'));
    clock += 2 * 60_000;
    expect(await threads.prune()).toBe(3);
    expect((await recordedAlertThreads(store)).map((t) => t.name).sort()).toEqual(['Recent', 'StillFiring']);
    expect(await store.list('alert-burst')).toEqual([]);
  });
});

describe('log reads', () => {
  it('every pod log read asks the apiserver for limitBytes', async () => {
    const cluster = await startCluster({ crashLoopApiPod: true });
    closers.push(() => cluster.close());
    const { engine } = testEngine({ config: clusterConfig(), services: cluster.services });
    const pod = cluster.world.cluster.broken.crashLoopPod as string;
    const out = await engine.invoke(slackCaller(USERS.viewer, CHANNELS.general), `diagnose pod ${pod}`, noIO());
    expect(out.kind).toBe('report');
    const reads = cluster.kube.requests.filter((r) => r.path.endsWith('/log'));
    expect(reads.length).toBeGreaterThan(0);
    for (const r of reads) expect(new URLSearchParams(r.query).get('limitBytes')).toMatch(/^[1-9]\d*$/);
  });

  it('a 256 MiB line with no newline comes out cut to MAX_LOG_LINE, saying how much was left out', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    async function* endless() {
      yield Buffer.from('first line\r\n');
      for (let i = 0; i < 256; i++) yield chunk;
    }
    const lines: string[] = [];
    for await (const line of boundedLines(endless(), MAX_LOG_LINE)) lines.push(line);
    expect(lines[0]).toBe('first line');
    expect(lines).toHaveLength(2);
    expect(lines[1]?.length).toBeLessThan(MAX_LOG_LINE + 100);
    expect(lines[1]).toContain(`… (${256 * 1024 * 1024 - MAX_LOG_LINE} more bytes of this line left out)`);
  });
});
