// Every chart the bot draws, from fixed data through the same specs the reports use: the
// reference-image test renders these and compares them with test/charts/reference/*.png.
// `npx tsx test/charts/fixed-charts.ts` writes the references anew (look at them first).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chartFromSeries, renderChartPng, type LineChart, type RangeChartSpec } from '../../src/charts/index.js';
import { configSchema } from '../../src/config/schema.js';
import { dailyChartSpecs } from '../../src/digest/daily.js';
import { p95TrendChartSpec } from '../../src/digest/monthly.js';
import { growthChartSpecs, nodeHoursChart } from '../../src/digest/weekly.js';
import { alertChartSpec } from '../../src/incidents/alert-chart.js';
import type { AlertmanagerWebhook } from '../../src/prometheus/alertmanager.js';
import type { Series } from '../../src/prometheus/client.js';
import { latencyChartSpecs, sloChartSpecs } from '../../src/slo/charts.js';

/** 2026-12-06 12:00 UTC. */
export const FIXED_NOW_MS = Date.UTC(2026, 11, 6, 12, 0, 0);
const config = configSchema.parse({});

/** A series sampled every `step` from `from` to `to`, its value a function of the sample's index. */
export function sampled(metric: Record<string, string>, from: number, to: number, step: number, f: (i: number) => number): Series {
  const points: Array<[number, number]> = [];
  for (let t = from, i = 0; t <= to; t += step, i++) points.push([t, f(i)]);
  return { metric, points };
}

export function fixedCharts(): LineChart[] {
  const [gpu, p95] = dailyChartSpecs(config, FIXED_NOW_MS);
  if (!gpu || !p95) throw new Error('the daily digest has two charts');
  // 24 GPU nodes: more than a chart shows one by one, so it draws their envelope.
  const nodes = Array.from({ length: 24 }, (_, n) => sampled({ Hostname: `gpu-node-${n}` }, gpu.from, gpu.to, gpu.stepSeconds, (i) => 40 + 35 * Math.sin((i + n * 3) / 9) + (n % 5) * 3));
  const latency = [sampled({}, p95.from, p95.to, p95.stepSeconds, (i) => (i > 60 && i < 70 ? 0.62 : 0.3 + 0.12 * Math.sin(i / 7)))];
  const alert: AlertmanagerWebhook = {
    version: '4', groupKey: '{}:{alertname="HighP95"}', truncatedAlerts: 0, status: 'firing', receiver: 'vlinders-ops', groupLabels: { alertname: 'HighP95' },
    commonLabels: { alertname: 'HighP95' }, commonAnnotations: {}, externalURL: 'http://alertmanager:9093',
    alerts: [{ status: 'firing', labels: { alertname: 'HighP95' }, annotations: {}, startsAt: '2026-12-06T11:40:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus:9090/graph?g0.expr=rate%28x%5B5m%5D%29', fingerprint: 'f1' }],
  };
  const spec = alertChartSpec(alert, 'rate(x[5m])', FIXED_NOW_MS);
  const alertSeries = ['api-0', 'api-1'].map((pod, k) => sampled({ pod }, spec.from, spec.to, spec.stepSeconds, (i) => 10 + k * 4 + (i > 40 ? 20 : 0) + Math.cos(i / 4) * 2));
  // The weekly report: PVC use (14 PVCs, the largest ten shown), the database's size, GPU nodes hourly.
  const [pvcs, database] = growthChartSpecs(config, FIXED_NOW_MS);
  if (!pvcs || !database) throw new Error('the weekly report has two growth charts');
  const pvcSeries = Array.from({ length: 14 }, (_, n) => sampled({ namespace: n % 2 ? 'vlinders-data' : 'vlinders-inference', persistentvolumeclaim: `pvc-${n}` }, pvcs.from, pvcs.to, pvcs.stepSeconds, (i) => (n + 1) * 2 ** 30 * (1 + i * 0.01 * (n % 4))));
  const dbSeries = [sampled({ datname: 'vlinders' }, database.from, database.to, database.stepSeconds, (i) => 40 * 2 ** 30 + i * 300 * 2 ** 20)];
  const weekTo = Math.floor(FIXED_NOW_MS / 1000);
  const gpuNodes = [sampled({}, weekTo - 168 * 3600, weekTo, 3600, (i) => (i % 24 < 8 ? 8 : 12))];
  const nodeHours = nodeHoursChart({ ok: { nodeHours: 1680, measured: true, how: 'measured', series: gpuNodes } }, FIXED_NOW_MS, true);
  if (!('chart' in nodeHours)) throw new Error('measured node-hours are charted');
  // The monthly report: the P95 over 4 weeks, creeping up past its target.
  const trend = p95TrendChartSpec(config, weekTo);
  const trendSeries = [sampled({}, trend.from, trend.to, trend.stepSeconds, (i) => 0.3 + i * 0.0025 + 0.05 * Math.sin(i / 3))];
  // `slo` over its hour: two models, the larger one's TTFT past its target while its queue builds and its KV cache fills.
  const [ttft, waiting, kvCache] = sloChartSpecs(config, FIXED_NOW_MS, { window: '1h' });
  const [apiP95] = latencyChartSpecs(config, FIXED_NOW_MS);
  if (!ttft || !waiting || !kvCache || !apiP95) throw new Error('slo has three charts, diagnose latency the API P95 besides');
  const models = ['meta-llama/Llama-3.1-70B-Instruct', 'mistralai/Mistral-7B-Instruct-v0.3'];
  const busy = (i: number) => Math.max(0, Math.min(1, (i - 30) / 15));
  const perModel = (spec: RangeChartSpec, f: (i: number, big: boolean) => number) => models.map((model_name, k) => sampled({ model_name, vlinders_metric: 'x' }, spec.from, spec.to, spec.stepSeconds, (i) => f(i, k === 0)));
  const ttftSeries = perModel(ttft, (i, big) => (big ? 0.25 + 1.6 * busy(i) + 0.03 * Math.sin(i / 2) : 0.08 + 0.01 * Math.cos(i / 3)));
  const waitingSeries = perModel(waiting, (i, big) => (big ? Math.round(40 * busy(i)) : i % 17 === 0 ? 1 : 0));
  const kvSeries = perModel(kvCache, (i, big) => (big ? 55 + 42 * busy(i) : 30 + 5 * Math.sin(i / 6)));
  const apiSeries = [sampled({}, apiP95.from, apiP95.to, apiP95.stepSeconds, (i) => 0.3 + 1.1 * busy(i))];
  return [
    ...[chartFromSeries(gpu, nodes), chartFromSeries(p95, latency), chartFromSeries(spec, alertSeries), chartFromSeries(pvcs, pvcSeries), chartFromSeries(database, dbSeries), nodeHours.chart, chartFromSeries(trend, trendSeries)],
    ...[chartFromSeries(ttft, ttftSeries), chartFromSeries(waiting, waitingSeries), chartFromSeries(kvCache, kvSeries), chartFromSeries(apiP95, apiSeries)],
  ];
}

export const referencePath = (chart: LineChart) => fileURLToPath(new URL(`./reference/${chart.id}.png`, import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const chart of fixedCharts()) {
    writeFileSync(referencePath(chart), renderChartPng(chart));
    process.stdout.write(`${referencePath(chart)}\n`);
  }
}
