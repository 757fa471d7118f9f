// Charts in Slack end to end, through real Bolt and WebClient against the workspace emulator:
// the daily digest's two charts uploaded into its thread through the v2 flow with alt text, one
// line instead of a chart Prometheus can't give, and an alert thread charting its expression,
// read from the alert's generatorURL and asked of the configured Prometheus only.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PNG } from 'pngjs';
import { WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusStub } from '../../src/sandbox/prometheus/server.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { CHANNELS, MANIFEST_SCOPES, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { alertBody, postAlert, serveAlerts } from '../e2e/alert-server.js';
import { blocksText, startBot } from '../e2e/harness.js';

let prometheus: PrometheusStub;
beforeAll(async () => {
  prometheus = await PrometheusStub.start();
});
afterAll(() => prometheus.close());
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup() {
  const cluster = await startCluster({ gpuNodes: 2, workers: 1, readyDelayMs: 20 });
  closers.push(() => cluster.close());
  const config = clusterConfig();
  config.prometheus.url = prometheus.url;
  config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
  const q = config.prometheus.queries;
  prometheus.setRange(q.gpuUtilizationPercent, ['gpu-a', 'gpu-b', 'gpu-c'].map((Hostname, k) => ({ metric: { Hostname }, at: (t: number) => 50 + 10 * k + 20 * Math.sin(t / 7200) })));
  prometheus.setRange(q.p95Latency, [{ metric: {}, at: (t: number) => 0.35 + 0.2 * Math.sin(t / 3600) }]);
  const bot = await startBot({ config, services: cluster.services });
  closers.push(() => bot.close());
  return { cluster, bot, config };
}

const isPng = (bytes: Buffer) => {
  const png = PNG.sync.read(bytes);
  return png.width > 0 && png.height > 0;
};

describe('charts in Slack', () => {
  it('the daily digest uploads its two charts into its thread, each with alt text that says it in words', async () => {
    const { bot } = await setup();
    await bot.slash(USERS.admin, CHANNELS.ops, 'digest daily --post');
    const root = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.ops && !m.thread_ts && blocksText(m.blocks).includes('daily digest')), 30_000);
    const uploads = await bot.emu.waitFor(() => (bot.emu.uploads.length >= 2 ? bot.emu.uploads : undefined), 30_000);
    expect(uploads.map((u) => u.filename).sort()).toEqual(['gpu-utilization-24h.png', 'p95-latency-24h.png']);
    for (const u of uploads) {
      expect(u).toMatchObject({ channel: CHANNELS.ops, thread_ts: root.ts });
      expect(isPng(u.bytes)).toBe(true);
    }
    const p95 = uploads.find((u) => u.filename === 'p95-latency-24h.png');
    expect(p95?.title).toBe('P95 latency, last 24 h');
    expect(p95?.alt_txt).toMatch(/^Line chart: P95 latency, last 24 h, .* Target 500 ms \(target\)\. P95: min \d+ ms, max \d+ ms at \d\d:\d\d UTC, last \d+ ms, crossed the target \d+ times/);
    const gpu = uploads.find((u) => u.filename === 'gpu-utilization-24h.png');
    for (const node of ['gpu-a', 'gpu-b', 'gpu-c']) expect(gpu?.alt_txt).toContain(`${node}: min`);
    // Through the three documented calls, alt text under its documented name.
    const calls = bot.emu.calls.filter((c) => c.method.startsWith('files.'));
    expect(calls.map((c) => c.method)).toEqual(['files.getUploadURLExternal', 'files.completeUploadExternal', 'files.getUploadURLExternal', 'files.completeUploadExternal']);
    expect(calls.filter((c) => c.method === 'files.getUploadURLExternal').every((c) => typeof c.args.alt_txt === 'string')).toBe(true);
  }, 60_000);

  it('a chart Prometheus can’t give is one line in the thread instead', async () => {
    const { bot, config } = await setup();
    // Its own query text, so the failure stays in this test.
    config.prometheus.queries.p95Latency = 'histogram_quantile(0.95, sum by (le) (rate(slow_bucket[5m])))';
    prometheus.setError(config.prometheus.queries.p95Latency, 'execution', 'query timed out in expression evaluation', 503);
    await bot.slash(USERS.admin, CHANNELS.ops, 'digest daily --post');
    const root = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.ops && !m.thread_ts && blocksText(m.blocks).includes('daily digest')), 30_000);
    const line = await bot.emu.waitFor(() => bot.emu.threadOf(CHANNELS.ops, root.ts).find((m) => blocksText(m.blocks).includes('chart not drawn')), 30_000);
    expect(blocksText(line.blocks)).toContain('P95 latency, last 24 h: chart not drawn: ⚠️ Prometheus could not be read: Prometheus refused');
    await bot.emu.waitFor(() => (bot.emu.uploads.length >= 1 ? true : undefined), 30_000);
    expect(bot.emu.uploads.map((u) => u.filename)).toEqual(['gpu-utilization-24h.png']);
  }, 60_000);

  it('where the bot may post but not share files (a public channel it is not in), one line names the charts and how to get them', async () => {
    const { bot } = await setup();
    await bot.slash(USERS.admin, CHANNELS.general, 'digest daily --post');
    const root = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.general && !m.thread_ts && blocksText(m.blocks).includes('daily digest')), 30_000);
    const line = await bot.emu.waitFor(() => bot.emu.threadOf(CHANNELS.general, root.ts).find((m) => m.text.includes("I can't share")), 30_000);
    expect(line.text).toBe("📎 I can't share *gpu-utilization-24h.png* and *p95-latency-24h.png* here: invite me with `/invite @vlinders-ops` to get them in this channel.");
    // The first refusal stops the rest: one refused upload, not one a chart.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bot.emu.threadOf(CHANNELS.general, root.ts).filter((m) => m.text.includes("I can't share"))).toHaveLength(1);
    expect(bot.emu.calls.filter((c) => c.method === 'files.getUploadURLExternal')).toHaveLength(1);
    expect(bot.emu.uploads).toEqual([]);
  }, 60_000);

  it('an alert thread charts its expression from generatorURL, asked of the configured Prometheus, never of the link’s host', async () => {
    const { bot, config } = await setup();
    // The link's host: anything sent there would be the bot following outside text.
    let linkHits = 0;
    const linkHost = createServer((_req, res) => {
      linkHits++;
      res.end('{}');
    });
    await new Promise<void>((r) => linkHost.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => linkHost.close(() => r())));
    const expr = 'sum by (pod) (rate(http_requests_total{code=~"5.."}[5m])) > 1';
    prometheus.setRange(expr, [{ metric: { pod: 'vlinders-api-0' }, at: (t) => 2 + Math.cos(t / 600) }]);
    const alerts = await serveAlerts(bot, config);
    closers.push(() => alerts.close());
    const body = JSON.parse(alertBody({ alertname: 'ApiErrors', severity: 'warning' }, '{}:{alertname="ApiErrors"}')) as { alerts: Array<{ generatorURL?: string }> };
    for (const a of body.alerts) a.generatorURL = `http://127.0.0.1:${(linkHost.address() as AddressInfo).port}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`;
    expect(await (await postAlert(alerts.url, JSON.stringify(body))).json()).toEqual({ outcome: 'opened' });

    const root = await bot.emu.waitFor(() => bot.emu.messages.find((m) => m.channel === CHANNELS.incidents && !m.thread_ts));
    const upload = await bot.emu.waitFor(() => bot.emu.uploads.find((u) => u.filename === 'alert-expression-1h.png'), 30_000);
    expect(upload).toMatchObject({ channel: CHANNELS.incidents, thread_ts: root.ts, title: 'ApiErrors: its expression, last hour' });
    expect(isPng(upload.bytes)).toBe(true);
    expect(upload.alt_txt).toMatch(/pod=vlinders-api-0: min 1, max 3 at \d\d:\d\d UTC, last [\d.]+\.$/);
    expect(prometheus.asked).toContain(expr);
    expect(linkHits).toBe(0);
  }, 60_000);
});

describe('the emulator holds the upload flow to Slack’s documented contract', () => {
  it('refuses alt_txt over 1000 characters, an upload larger than its declared length, and sharing where the bot is not a member', async () => {
    const emu = await SlackWorkspaceEmulator.start({ scopes: MANIFEST_SCOPES });
    closers.push(() => emu.close());
    emu.addChannel(CHANNELS.general, 'general');
    const client = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } });
    await expect(client.apiCall('files.getUploadURLExternal', { filename: 'a.png', length: 10, alt_txt: 'x'.repeat(1001) })).rejects.toMatchObject({ data: { error: 'alt_txt_too_large' } });
    const ok = (await client.apiCall('files.getUploadURLExternal', { filename: 'a.png', length: 4, alt_txt: 'x'.repeat(1000) })) as unknown as { upload_url: string; file_id: string };
    expect((await fetch(ok.upload_url, { method: 'POST', body: new Uint8Array(5) })).status).toBe(413);
    expect((await fetch(ok.upload_url, { method: 'POST', body: new Uint8Array([137, 80, 78, 71]) })).status).toBe(200);
    await expect(client.files.completeUploadExternal({ files: [{ id: ok.file_id }], channel_id: CHANNELS.general })).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
  });
});
