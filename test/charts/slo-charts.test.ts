// The charts of `slo` and `diagnose latency` in Slack, end to end: through real Bolt against the
// workspace emulator, read from the real Prometheus scraping the world's metrics exporter (the
// broken world: time to first token 1.9 s, 40 requests waiting, the KV cache at 97 %, the API's
// P95 1.4 s, for the last hour). Each chart is uploaded into the report's thread through the v2
// flow with alt text that says the world's figures; a chart Prometheus can't give is one line.
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedUpload } from '../../src/sandbox/slack/types.js';
import { FactsTimeline, brokenFacts, type WorldFacts } from '../../src/sandbox/metrics/facts.js';
import { MetricsExporter, WorldMetrics } from '../../src/sandbox/metrics/exporter.js';
import { PrometheusStub } from '../../src/sandbox/prometheus/server.js';
import { RayDashboardStub } from '../../src/sandbox/ray/dashboard-stub.js';
import { PrometheusClient } from '../../src/prometheus/client.js';
import { sloChartSpecs } from '../../src/slo/charts.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { blocksText, startBot } from '../e2e/harness.js';
import { startPrometheus, type RealPrometheus } from '../tools/prometheus.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
let cluster: Awaited<ReturnType<typeof startCluster>>;
let exporter: MetricsExporter;
let prometheus: RealPrometheus;
let dashboard: RayDashboardStub;
let stub: PrometheusStub;
let bot: Awaited<ReturnType<typeof startBot>>;
let facts: WorldFacts;
const config = clusterConfig();

beforeAll(async () => {
  cluster = await startCluster({ gpuNodes: 4, workers: 2, readyDelayMs: 0 });
  facts = brokenFacts(cluster.world.cluster.nodes.gpu);
  // The broken world has held for the last hour, and Prometheus has that hour (a scrape a minute).
  const now = Math.floor(Date.now() / 1000);
  exporter = await MetricsExporter.start(new WorldMetrics({ state: cluster.kube, timeline: new FactsTimeline(now - 3700, facts) }));
  exporter.serveHistory([{ start: now - 3600, end: now - 30, stepSeconds: 60, jobs: ['vllm', 'vlinders-api'] }]);
  [prometheus, dashboard, stub] = await Promise.all([startPrometheus({ targets: exporter.targets }), RayDashboardStub.start(), PrometheusStub.start()]);
  await prometheus.waitForTargets();
  config.prometheus.url = prometheus.url;
  config.ray.dashboardUrl = dashboard.url;
  // Until the live scrapes make a rate: the P95 is there.
  const client = new PrometheusClient(prometheus.url);
  for (let i = 0; i < 100 && !(await client.query(config.prometheus.queries.p95Latency)).length; i++) await new Promise((r) => setTimeout(r, 200));
  bot = await startBot({ config, services: cluster.services });
}, 60_000);
afterAll(async () => {
  await bot?.close();
  await prometheus?.stop();
  await Promise.all([exporter?.close(), dashboard?.close(), stub?.close(), cluster?.close()]);
});

/** The report's first message in #ops, and the charts uploaded into its thread (at least `count`). */
async function askWithCharts(text: string, title: string, count: number) {
  const before = bot.emu.messages.length;
  await bot.slash(USERS.viewer, CHANNELS.ops, text);
  const root = await bot.emu.waitFor(() => bot.emu.messages.slice(before).find((m) => m.channel === CHANNELS.ops && !m.thread_ts && blocksText(m.blocks).includes(title)), 30_000);
  const uploads = count ? await bot.emu.waitFor(() => {
    const mine = bot.emu.uploads.filter((u) => u.thread_ts === root.ts);
    return mine.length >= count ? mine : undefined;
  }, 30_000) : [];
  return { root, uploads };
}

const byFile = (uploads: RecordedUpload[], filename: string) => {
  const u = uploads.find((x) => x.filename === filename);
  if (!u) throw new Error(`no ${filename} among ${uploads.map((x) => x.filename).join(', ')}`);
  expect(u.channel).toBe(CHANNELS.ops);
  expect(PNG.sync.read(u.bytes).width).toBeGreaterThan(0);
  return u;
};
/** The value after `last` in a series' words: "last 1.90 s", "last 97%", "last 40". */
const last = (alt: string | undefined, unit: 's' | '%' | '') => Number(new RegExp(`${MODEL.replace(/[./]/g, '\\$&')}: .*?last ([\\d.]+)${unit === 's' ? ' s' : unit}[,.]`).exec(alt ?? '')?.[1] ?? NaN);
const within5 = (shown: number, set: number) => expect(Math.abs(shown - set) / set).toBeLessThan(0.05);

describe('slo and diagnose latency charts in Slack', { timeout: 60_000 }, () => {
  it('slo uploads time to first token, requests waiting and KV cache per model into its thread, each with alt text of the world’s figures', async () => {
    const { uploads } = await askWithCharts('slo', 'slo · 1h', 3);
    expect(uploads.map((u) => u.filename).sort()).toEqual(['kv-cache-1h.png', 'requests-waiting-1h.png', 'ttft-p95-1h.png']);
    const ttft = byFile(uploads, 'ttft-p95-1h.png');
    expect(ttft.title).toBe('Time to first token P95 per model, last 1h');
    expect(ttft.alt_txt).toMatch(/^Line chart: Time to first token P95 per model, last 1h, .* Target 500 ms \(target\)\. meta-llama\/Llama-3\.1-8B-Instruct: min .*, always above the target\.$/);
    within5(last(ttft.alt_txt, 's'), facts.vllm.latency.ttft.p95);
    const waiting = byFile(uploads, 'requests-waiting-1h.png');
    expect(waiting.alt_txt).toContain('Target 0 (target).');
    expect(last(waiting.alt_txt, '')).toBe(40);
    const kv = byFile(uploads, 'kv-cache-1h.png');
    expect(kv.alt_txt).toContain('Target 90% (target).');
    expect(last(kv.alt_txt, '%')).toBe(97);
    // Through the documented v2 calls, each with its alt text.
    const asked = bot.emu.calls.filter((c) => c.method === 'files.getUploadURLExternal' && ['ttft-p95-1h.png', 'kv-cache-1h.png', 'requests-waiting-1h.png'].includes(c.args.filename as string));
    expect(asked.every((c) => typeof c.args.alt_txt === 'string' && (c.args.alt_txt as string).startsWith('Line chart: '))).toBe(true);
  });

  it('diagnose latency uploads the API P95, time to first token and requests waiting over the SLO window', async () => {
    const { uploads } = await askWithCharts('diagnose latency', 'diagnose latency', 3);
    expect(uploads.map((u) => u.filename).sort()).toEqual(['p95-latency-1h.png', 'requests-waiting-1h.png', 'ttft-p95-1h.png']);
    const api = byFile(uploads, 'p95-latency-1h.png');
    expect(api.title).toBe('API P95 latency, last 1h');
    expect(api.alt_txt).toMatch(/Target 500 ms \(target\)\. P95: min .*, always above the target\.$/);
    within5(Number(/last ([\d.]+) s/.exec(api.alt_txt ?? '')?.[1]), facts.api.p95Seconds);
    within5(last(byFile(uploads, 'ttft-p95-1h.png').alt_txt, 's'), facts.vllm.latency.ttft.p95);
    expect(last(byFile(uploads, 'requests-waiting-1h.png').alt_txt, '')).toBe(40);
  });

  it('a model with no series gets no blank pictures: one line per chart says there were no samples', async () => {
    const { root } = await askWithCharts('slo acme/none', 'slo acme/none · 1h', 0);
    const text = blocksText(root.blocks);
    for (const title of ['Time to first token P95 per model', 'Requests waiting per model', 'KV cache used per model']) expect(text).toContain(`📉 ${title}, last 1h: chart not drawn: no samples over the last 1h`);
    // Uploads follow the report's messages: give them the time they take.
    await new Promise((r) => setTimeout(r, 500));
    expect(bot.emu.uploads.filter((u) => u.thread_ts === root.ts)).toEqual([]);
  });

  it('a chart Prometheus can’t give is one line in the report instead; the others are still drawn', async () => {
    // A Prometheus that fails the time to first token's range query alone (the real one can't be made to).
    const [ttft, waiting, kv] = sloChartSpecs(config, Date.now(), { window: '1h' });
    stub.setError(ttft?.promql ?? '', 'execution', 'query processing would load too many samples into memory in query execution', 422);
    for (const spec of [waiting, kv]) stub.setRange(spec?.promql ?? '', [{ metric: { model_name: MODEL }, at: () => 1 }]);
    config.prometheus.url = stub.url;
    try {
      const { root, uploads } = await askWithCharts('slo', 'slo · 1h', 2);
      const line = await bot.emu.waitFor(() => [root, ...bot.emu.threadOf(CHANNELS.ops, root.ts)].find((m) => blocksText(m.blocks).includes('chart not drawn')), 30_000);
      expect(blocksText(line.blocks)).toContain('📉 Time to first token P95 per model, last 1h: chart not drawn: ⚠️ Prometheus could not be read: ');
      expect(blocksText(line.blocks)).toContain('too many samples');
      // A picture missing is not a figure missing: the headline doesn't count it.
      expect(blocksText(root.blocks)).toContain('Nothing was read over 1h: Prometheus has no vLLM or API series, so no SLO is judged.');
      expect(uploads.map((u) => u.filename).sort()).toEqual(['kv-cache-1h.png', 'requests-waiting-1h.png']);
      // No Prometheus at all: diagnose latency says so for each chart, and uploads none.
      config.prometheus.url = 'http://127.0.0.1:1';
      const down = await askWithCharts('diagnose latency', 'diagnose latency', 0);
      const lines = await bot.emu.waitFor(() => {
        const said = [down.root, ...bot.emu.threadOf(CHANNELS.ops, down.root.ts)].flatMap((m) => blocksText(m.blocks).match(/📉 [^:]+: chart not drawn: ⚠️ Prometheus could not be read/g) ?? []);
        return said.length >= 3 ? said : undefined;
      }, 30_000);
      expect(lines.map((l) => l.split(':')[0])).toEqual(['📉 API P95 latency, last 1h', '📉 Time to first token P95 per model, last 1h', '📉 Requests waiting per model, last 1h']);
      expect(bot.emu.uploads.filter((u) => u.thread_ts === down.root.ts)).toEqual([]);
    } finally {
      config.prometheus.url = prometheus.url;
    }
  });
});
