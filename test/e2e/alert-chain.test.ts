// The whole alert chain, every link real: the world's metrics exporter → the real Prometheus
// (scraping it, evaluating the chart's own rules file) → the real Alertmanager (webhook = the
// bot's POST /alertmanager with its bearer token) → the real bot through Bolt → the Slack
// emulator. alertmanager-real.test.ts pushes alerts into Alertmanager by hand and
// alert-rules.test.ts stops at Prometheus's alerts; this file proves the rules' own alerts,
// with the labels and groupKey Prometheus and Alertmanager give them, open and resolve a thread.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { startAlertmanager, type RunningAlertmanager } from '../../src/sandbox/alertmanager/server.js';
import { Store } from '../../src/sandbox/kube/store.js';
import { seedVlindersCluster } from '../../src/sandbox/kube/world/index.js';
import { FactsTimeline, brokenFacts, healthyFacts, type WorldFacts } from '../../src/sandbox/metrics/facts.js';
import { MetricsExporter, WorldMetrics } from '../../src/sandbox/metrics/exporter.js';
import { startPrometheus, type RealPrometheus } from '../../src/sandbox/prometheus/real.js';
import { SlackWorkspaceEmulator, freePort, type RecordedMessage } from '../../src/sandbox/slack/index.js';
import { escapeMrkdwn } from '../../src/slack/mrkdwn.js';
import { CHART_DIR } from '../chart/helm.js';
import { CHANNELS, MANIFEST_SCOPES, seedConversations, testConfig } from '../fixtures/world.js';
import { ALERT_TOKEN, serveAlerts } from './alert-server.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

const RULES_FILE = join(CHART_DIR, 'rules', 'vlinders-alerts.yaml');
const XID_ALERT = 'VlindersGpuXidDrain';

let timeline: FactsTimeline;
let exporter: MetricsExporter;
let prometheus: RealPrometheus;
let am: RunningAlertmanager;
let emu: SlackWorkspaceEmulator;
let bot: BotHarness;
let alerts: Awaited<ReturnType<typeof serveAlerts>>;
let failingNode: string;
let broken: WorldFacts;
let brokenGpu: { node: string; gpu: number; code: number };

const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  const state = new Store();
  const cluster = seedVlindersCluster(state, { gpuNodes: 4 });
  broken = brokenFacts(cluster.nodes.gpu);
  brokenGpu = broken.gpus.xids[0]!;
  failingNode = brokenGpu.node;
  timeline = new FactsTimeline(nowS() - 3600, healthyFacts());

  const [amPort, promPort] = await Promise.all([freePort(), freePort()]);
  const config: Config = testConfig();
  config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
  // Alertmanager's URL configured: the thread offers silences. Prometheus's: the thread charts the rule's expression.
  config.prometheus = { ...config.prometheus, url: `http://127.0.0.1:${promPort}`, alertmanagerUrl: `http://127.0.0.1:${amPort}`, timeoutSeconds: 5 };
  emu = await SlackWorkspaceEmulator.start({ scopes: MANIFEST_SCOPES });
  seedConversations(emu);
  bot = await startBot({ config, emu });
  alerts = await serveAlerts(bot, config);
  [exporter, am] = await Promise.all([
    MetricsExporter.start(new WorldMetrics({ state, timeline })),
    // The defaults' grouping (alertname, namespace); short waits so each step shows within a second or two.
    startAlertmanager({ webhookUrl: alerts.url, token: ALERT_TOKEN, port: amPort, groupWait: '100ms', groupInterval: '500ms', repeatInterval: '1s' }),
  ]);
  // Only the exporter is scraped: the backup rule has no series and stays quiet, the rules with `for` wait minutes.
  prometheus = await startPrometheus({ targets: exporter.targets, ruleFiles: [RULES_FILE], alertmanagers: [new URL(am.url).host], port: promPort });
  await prometheus.waitForTargets();
}, 40_000);

afterAll(async () => {
  await prometheus?.stop();
  await am?.stop();
  await Promise.all([exporter?.close(), alerts?.close()]);
  await bot?.close();
  await emu?.close();
});

const roots = () => bot.emu.messages.filter((m) => m.channel === CHANNELS.incidents && !m.thread_ts);
const thread = (root: RecordedMessage) => bot.emu.threadOf(CHANNELS.incidents, root.ts);
const statusField = (blocks: unknown) => /\*Status\*\\n([^"]+)"/.exec(blocksText(blocks))?.[1];
/** The root's "Notifications" field: how many deliveries of the group the bot took (absent: one). */
const notifications = (root: RecordedMessage) => Number(/\*Notifications\*\\n(\d+)/.exec(blocksText(root.blocks))?.[1] ?? 1);

describe('exporter → real Prometheus with the chart\'s rules → real Alertmanager → the bot', () => {
  it('the XID 79 opens one thread naming the alert and the node, with the follow-up; healthy again, the root resolves in place and nothing is posted twice', async () => {
    // Healthy world: nothing reaches the channel.
    expect(roots()).toEqual([]);

    timeline.set(nowS(), broken);
    const root = await bot.emu.waitFor(() => roots()[0], 20_000);
    expect(root.text).toContain(`FIRING: ${XID_ALERT}`);
    const rootBlocks = blocksText(root.blocks);
    // The rule's summary, filled in by Prometheus from the DCGM series' labels, escaped for Slack.
    expect(rootBlocks).toContain(escapeMrkdwn(`XID ${brokenGpu.code} on GPU ${brokenGpu.gpu} of ${failingNode}: drain the node, then reset the GPU or service the node.`));
    expect(statusField(root.blocks)).toBe('firing (1/1)');
    expect(rootBlocks).toContain('*Severity*\\ncritical');

    // The follow-up: the rule's expression (from the generatorURL Prometheus gave the alert) charted by that Prometheus,
    const chart = await bot.emu.waitFor(() => bot.emu.uploads.find((u) => u.thread_ts === root.ts), 10_000);
    expect(chart.bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(blocksText(thread(root).find((m) => m.text.includes('Alert expression, last hour'))?.blocks)).toContain('DCGM_FI_DEV_XID_ERRORS == 79');
    // the offer to declare an incident, and the silence buttons (Alertmanager's URL is configured).
    const declare = await bot.emu.waitFor(() => thread(root).find((m) => blocksText(m.blocks).includes('"text":"Declare incident"')), 10_000);
    expect(declare.text).toContain('Is this an incident?');
    const silences = await bot.emu.waitFor(() => thread(root).find((m) => blocksText(m.blocks).includes('"text":"Silence 1 h"')), 10_000);
    for (const label of ['Silence 4 h', 'Silence until resolved']) expect(blocksText(silences.blocks)).toContain(`"text":"${label}"`);

    // Alertmanager repeats the group: the root counts it, nothing new is posted.
    const replies = thread(root).length;
    await bot.emu.waitFor(() => notifications(root) > 1, 10_000);
    expect(thread(root)).toHaveLength(replies);

    // The world heals: Prometheus resolves the alert, Alertmanager sends the resolved group, the root says so in place.
    timeline.set(nowS(), healthyFacts());
    await bot.emu.waitFor(() => root.text.includes(`RESOLVED: ${XID_ALERT}`), 20_000);
    expect(statusField(root.blocks)).toBe('resolved');
    expect(thread(root).filter((m) => m.text.includes(`RESOLVED: ${XID_ALERT}`))).toHaveLength(1);

    // One root, ever; the root went firing → resolved only, by updates; nothing in the thread twice.
    expect(roots()).toHaveLength(1);
    const statuses = root.updates.map((u) => statusField(u.blocks));
    expect(statuses.at(-1)).toBe('resolved');
    expect(statuses.slice(0, -1).every((s) => s === 'firing (1/1)')).toBe(true);
    const texts = thread(root).map((m) => `${m.text}${blocksText(m.blocks)}`);
    expect(new Set(texts).size).toBe(texts.length);
  }, 60_000);
});
