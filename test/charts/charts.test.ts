// The charts themselves: each chart the bot draws, rendered from fixed data, matches its stored
// reference image within a small tolerance (pixels decoded and compared, not bytes); the alt
// text says the same in words; a chart is drawn fast; an alert's generatorURL gives only its
// expression.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { chartAltText, condenseSeries, MAX_ALT_TEXT, renderChartPng, type LineChart } from '../../src/charts/index.js';
import { crossings } from '../../src/charts/alt-text.js';
import { CHART_HEIGHT, CHART_WIDTH } from '../../src/charts/render.js';
import { generatorExpr, alertExpr, MAX_EXPR } from '../../src/incidents/alert-chart.js';
import { parseWebhook } from '../../src/prometheus/alertmanager.js';
import { readCaptured } from '../fixtures/captured.js';
import { configSchema } from '../../src/config/schema.js';
import { latencyChartSpecs, sloChartSpecs } from '../../src/slo/charts.js';
import { sloQueries } from '../../src/slo/slo.js';
import { FIXED_NOW_MS, fixedCharts, referencePath, sampled } from './fixed-charts.js';

/** The share of pixels whose colour differs by more than `channelTolerance` in any channel. */
function differingShare(a: PNG, b: PNG, channelTolerance = 40): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let differing = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 4; c++) {
      if (Math.abs((a.data[i + c] as number) - (b.data[i + c] as number)) > channelTolerance) {
        differing++;
        break;
      }
    }
  }
  return differing / (a.width * a.height);
}

/** At most 0.1% of the pixels may differ: anti-aliasing, never a line or a label (the target line alone is 0.4%). */
const TOLERANCE = 0.001;
const charts = fixedCharts();
const byId = (id: string) => charts.find((c) => c.id === id) as LineChart;

describe('chart reference images', () => {
  it.each(charts.map((c) => [c.id, c]))('%s matches its reference image', (_id, chart) => {
    const drawn = PNG.sync.read(renderChartPng(chart));
    expect([drawn.width, drawn.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
    const reference = PNG.sync.read(readFileSync(referencePath(chart)));
    expect(differingShare(drawn, reference)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('the comparison sees a chart that differs: the P95 chart without its target line does not match', () => {
    const chart = byId('p95-latency-24h');
    const reference = PNG.sync.read(readFileSync(referencePath(chart)));
    const { target: _t, ...withoutTarget } = chart;
    expect(differingShare(PNG.sync.read(renderChartPng(withoutTarget)), reference)).toBeGreaterThan(TOLERANCE);
  });

  it('draws names from outside (an alert’s labels) whatever they hold: markup, control characters, lone surrogates', () => {
    const hostile: LineChart = { id: 'hostile', title: 'a <b> & "c" \u0000 主机', unit: 'number', from: 0, to: 600, target: { value: 1, label: '\u0007</text>' }, series: [{ name: '</text><script>&amp;\u001b[31m\ud800', points: [[0, 1], [600, 2]] }] };
    expect(PNG.sync.read(renderChartPng(hostile)).width).toBe(CHART_WIDTH);
  });

  it('the same chart is the same PNG, byte for byte', () => {
    const chart = byId('gpu-utilization-24h');
    expect(renderChartPng(chart).equals(renderChartPng(chart))).toBe(true);
  });

  // CPU time, not wall time: on a machine shared with other work a wall clock measures the queue.
  it('a chart takes under 200 ms of CPU and under 30 MB to draw (median of 5, after the first)', () => {
    const chart = byId('gpu-utilization-24h');
    renderChartPng(chart);
    const cpuMs: number[] = [];
    const addedMB: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = process.memoryUsage();
      const started = process.cpuUsage();
      renderChartPng(chart);
      const used = process.cpuUsage(started);
      cpuMs.push((used.user + used.system) / 1000);
      const after = process.memoryUsage();
      addedMB.push(Math.max(after.rss - before.rss, after.heapUsed - before.heapUsed + after.external - before.external) / 2 ** 20);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2] as number;
    expect(median(cpuMs)).toBeLessThan(200);
    expect(median(addedMB)).toBeLessThan(30);
  });
});

describe('alt text', () => {
  it('says each series min, max and last, the target, and when it crossed the target', () => {
    const text = chartAltText(byId('p95-latency-24h'));
    expect(text).toContain('Line chart: P95 latency, last 24 h, 2026-12-05 12:00 UTC to 2026-12-06 12:00 UTC.');
    expect(text).toContain('Target 500 ms (target).');
    // The fixture's P95 sits at 620 ms for samples 61–69: above the target once, back at sample 70 (05:30 UTC).
    expect(text).toContain('max 620 ms at 03:15 UTC');
    expect(text).toContain('crossed the target 2 times, last at 05:30 UTC, ends at or below it');
    expect(text).toMatch(/P95: min \d+ ms/);
    expect(text).toMatch(/last \d+ ms/);
  });

  it('counts crossings both ways and skips gaps', () => {
    expect(crossings([[0, 1], [1, 3], [2, NaN], [3, 1], [4, 1]], 2)).toEqual({ count: 2, lastAt: 3, endsAbove: false });
    expect(crossings([[0, 3], [1, 4]], 2)).toEqual({ count: 0, lastAt: undefined, endsAbove: true });
  });

  it('a condensed chart says so, and many series stay within Slack’s 1000 characters', () => {
    expect(chartAltText(byId('gpu-utilization-24h'))).toContain('24 series: highest, mean and lowest at each time.');
    const many: LineChart = { id: 'x', title: 'many', unit: 'bytes', from: 0, to: 600, series: Array.from({ length: 10 }, (_, n) => sampled({}, 0, 600, 60, (i) => i * n * 1e6)).map((s, n) => ({ name: `vlinders-inference/a-rather-long-persistent-volume-claim-${n}`, points: s.points })) };
    const text = chartAltText(many);
    expect(text.length).toBeLessThanOrEqual(MAX_ALT_TEXT);
    expect(text).toMatch(/… and \d+ more series\.$/);
  });

  it('more series than a chart shows become the envelope, or the largest by last value', () => {
    const series = Array.from({ length: 12 }, (_, n) => ({ name: `s${n}`, points: [[0, n], [60, n * 2]] as Array<[number, number]> }));
    const envelope = condenseSeries(series, 'envelope');
    expect(envelope.series.map((s) => [s.name, s.points[1]?.[1]])).toEqual([['highest', 22], ['mean', 11], ['lowest', 0]]);
    const largest = condenseSeries(series, 'largest');
    expect(largest.series.map((s) => s.name)).toEqual(['s11', 's10', 's9', 's8', 's7', 's6', 's5', 's4', 's3', 's2']);
    expect(condenseSeries(series.slice(0, 10)).series).toHaveLength(10);
  });
});

describe('the alert expression from generatorURL', () => {
  it('reads g0.expr of a captured Alertmanager payload', () => {
    const parsed = parseWebhook(readCaptured('alertmanager/alertmanager_webhook_v4_firing_cloudeon.json'));
    if (!parsed.ok) throw new Error('the captured payload parses');
    expect(alertExpr(parsed.payload)).toBe('(1 - avg by(instance) (irate(node_cpu_seconds_total{mode="idle"}[5m]))) * 100 > 95');
  });

  it('takes nothing from a link without an expression, a broken link, control characters or an absurd length', () => {
    expect(generatorExpr(undefined)).toBeUndefined();
    expect(generatorExpr('not a url')).toBeUndefined();
    expect(generatorExpr('http://prometheus:9090/graph?g1.expr=up')).toBeUndefined();
    expect(generatorExpr('http://prometheus:9090/graph?g0.expr=%20%20')).toBeUndefined();
    expect(generatorExpr(`http://p/graph?g0.expr=${encodeURIComponent('up\u0007')}`)).toBeUndefined();
    expect(generatorExpr(`http://p/graph?g0.expr=${'a'.repeat(MAX_EXPR + 1)}`)).toBeUndefined();
    expect(generatorExpr(`http://p/graph?g0.expr=${'a'.repeat(MAX_EXPR)}`)).toHaveLength(MAX_EXPR);
  });
});

describe('the charts of slo and diagnose latency', () => {
  it('say in words each model’s time to first token, queue and KV cache against its target', () => {
    const ttft = chartAltText(byId('ttft-p95-1h'));
    expect(ttft).toContain('Line chart: Time to first token P95 per model, last 1h, 2026-12-06 11:00 UTC to 2026-12-06 12:00 UTC. Target 500 ms (target).');
    expect(ttft).toMatch(/meta-llama\/Llama-3\.1-70B-Instruct: min \d+ ms, max 1\.\d+ s at 11:\d\d UTC, last 1\.\d+ s, crossed the target 1 time, last at 11:33 UTC, ends above it\./);
    expect(ttft).toMatch(/mistralai\/Mistral-7B-Instruct-v0\.3: min \d+ ms, max \d+ ms at \d\d:\d\d UTC, last \d+ ms, always at or below the target\./);
    expect(chartAltText(byId('requests-waiting-1h'))).toMatch(/Target 0 \(target\)\. meta-llama\/Llama-3\.1-70B-Instruct: min 0, max 40 at 11:45 UTC, last 40, crossed the target 1 time/);
    expect(chartAltText(byId('kv-cache-1h'))).toMatch(/Target 90% \(target\)\. meta-llama\/Llama-3\.1-70B-Instruct: min 55%, max 97% at 11:45 UTC, last 97%/);
    expect(chartAltText(byId('p95-latency-1h'))).toMatch(/^Line chart: API P95 latency, last 1h, .* Target 500 ms \(target\)\. P95: min 300 ms, max 1\.40 s at 11:45 UTC, last 1\.40 s, crossed the target 1 time/);
  });

  it('chart the very expressions slo reads, over its window, each against the model’s own target when one is asked', () => {
    const config = configSchema.parse({ slo: { models: { 'acme/big': { ttftP95Ms: 2000, kvCachePercent: 95 } } } });
    const [ttft, waiting, kv] = sloChartSpecs(config, FIXED_NOW_MS, { window: '6h', model: 'acme/big' });
    const queries = sloQueries(config, '720s', 'acme/big');
    expect(ttft).toMatchObject({ promql: `histogram_quantile(0.95, ${queries.ttft})`, target: { value: 2, label: 'target' }, stepSeconds: 360 });
    expect((ttft?.to ?? 0) - (ttft?.from ?? 0)).toBe(6 * 3600);
    expect(waiting?.promql).toBe(queries.waiting);
    expect(kv).toMatchObject({ promql: `100 * (${queries.kvCache})`, target: { value: 95 } });
    // Every model on one chart, one of them with its own target: the line is the default's, and says so.
    const [all] = sloChartSpecs(config, FIXED_NOW_MS, { window: '1h' });
    expect(all?.target).toEqual({ value: 0.5, label: 'default target' });
    expect(latencyChartSpecs(config, FIXED_NOW_MS).map((s) => s.id)).toEqual(['p95-latency-1h', 'ttft-p95-1h', 'requests-waiting-1h']);
  });
});
