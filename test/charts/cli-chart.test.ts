// `--chart FILE` in the terminal: the daily digest's and slo's charts written as PNGs (the first
// at FILE, the next beside it), a report without a chart says so, and --chart without a file is refused.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { runCli } from '../../src/cli/run.js';
import { createLogger } from '../../src/core/log.js';
import { MemoryStore } from '../../src/core/store.js';
import { PrometheusStub } from '../../src/sandbox/prometheus/server.js';
import { sloChartSpecs } from '../../src/slo/charts.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';

let prometheus: PrometheusStub;
let cluster: Awaited<ReturnType<typeof startCluster>>;
beforeAll(async () => {
  [prometheus, cluster] = await Promise.all([PrometheusStub.start(), startCluster({ gpuNodes: 2, workers: 1, readyDelayMs: 20 })]);
});
afterAll(async () => {
  await Promise.all([prometheus.close(), cluster.close()]);
});

function terminal() {
  const config = clusterConfig();
  config.cli.role = 'viewer';
  config.prometheus.url = prometheus.url;
  const out: string[] = [];
  const err: string[] = [];
  const run = (argv: string[]) => runCli(argv, { config, commands, log: createLogger('silent'), io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, user: 'cli:tester', services: cluster.services, store: new MemoryStore() });
  return { config, out, err, run };
}

describe('--chart FILE', { timeout: 60_000 }, () => {
  it('digest daily writes its two charts as PNGs: FILE and FILE-2', async () => {
    const t = terminal();
    prometheus.setRange(t.config.prometheus.queries.gpuUtilizationPercent, [{ metric: { Hostname: 'gpu-a' }, at: () => 60 }]);
    prometheus.setRange(t.config.prometheus.queries.p95Latency, [{ metric: {}, at: (s) => 0.4 + 0.2 * Math.sin(s / 3600) }]);
    const file = join(mkdtempSync(join(tmpdir(), 'vlinders-chart-')), 'digest.png');
    await t.run(['digest', 'daily', '--chart', file]);
    const second = file.replace(/\.png$/, '-2.png');
    for (const path of [file, second]) expect(PNG.sync.read(readFileSync(path)).width).toBeGreaterThan(0);
    expect(t.err.join('\n')).toContain(`chart "GPU utilization per node, last 24 h" written to ${file}`);
    expect(t.err.join('\n')).toContain(`chart "P95 latency, last 24 h" written to ${second}`);
    expect(t.out.join('\n')).toContain('📈 chart: P95 latency, last 24 h');
  });

  it('slo writes its three charts in the order it shows them: time to first token at FILE, requests waiting and KV cache beside it', async () => {
    const t = terminal();
    const specs = sloChartSpecs(t.config, Date.now(), { window: '1h' });
    for (const spec of specs) prometheus.setRange(spec.promql, [{ metric: { model_name: 'acme/model' }, at: (s) => 0.3 + 0.1 * Math.sin(s / 600) }]);
    const file = join(mkdtempSync(join(tmpdir(), 'vlinders-chart-')), 'slo.png');
    await t.run(['slo', '--chart', file]);
    const written = [file, file.replace(/\.png$/, '-2.png'), file.replace(/\.png$/, '-3.png')];
    for (const path of written) expect(PNG.sync.read(readFileSync(path)).width).toBeGreaterThan(0);
    expect(t.err.filter((l) => l.startsWith('chart '))).toEqual(specs.map((spec, i) => `chart "${spec.title}" written to ${written[i]}`));
  });

  it('a report without a chart says so and writes nothing', async () => {
    const t = terminal();
    const file = join(mkdtempSync(join(tmpdir(), 'vlinders-chart-')), 'none.png');
    expect(await t.run(['whoami', '--chart', file])).toBe(0);
    expect(t.err.join('\n')).toContain('--chart: this report has no chart.');
    expect(existsSync(file)).toBe(false);
  });

  it('--chart without a file is refused before anything runs', async () => {
    const t = terminal();
    expect(await t.run(['digest', 'daily', '--chart'])).toBe(2);
    expect(t.err.join('\n')).toContain('--chart takes the PNG file to write');
    expect(t.out).toEqual([]);
  });
});
