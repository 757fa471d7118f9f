// The real Prometheus (Debian's /usr/bin/prometheus) for the tests and the sandbox: a temp dir,
// a free loopback port, a generated prometheus.yml scraping the given targets every second
// (the world's metrics exporter, src/sandbox/metrics), rule files optional. A history target
// (timestamped samples weeks old) is scraped with an out-of-order window, so the past is in the
// TSDB within a second of the start; backfilling with promtool writes one block per 2 h and
// took tens of seconds. The stub in server.ts stays only for fault shapes the real server
// can't produce.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ScrapeTarget } from '../metrics/exporter.js';
import { freePort } from '../slack/index.js';
import { startReadyServer } from '../ready-server.js';

const run = promisify(execFile);

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? 'promtool';
const MISSING = 'apt-get install prometheus (Debian ships prometheus and promtool; .ci/run installs them)';

export interface PrometheusOptions {
  targets: readonly ScrapeTarget[];
  /** Scrape and rule evaluation interval (default 1 s). */
  intervalSeconds?: number;
  /** Rule files (absolute paths) Prometheus loads. */
  ruleFiles?: readonly string[];
  /** How far back a history target's samples may lie (default 35 days). */
  historyDays?: number;
  /**
   * OpenMetrics text with timestamps, backfilled with the real promtool before the server
   * starts: for a short span (promtool writes one block per 2 h it covers, seconds each; weeks
   * go through a history target instead, see MetricsExporter.serveHistory).
   */
  history?: string;
  /** Alertmanagers (host:port) the server sends its alerts to. */
  alertmanagers?: readonly string[];
  /** The loopback port of its API (default: a free one), for a bot configured before it starts. */
  port?: number;
}

export interface RealPrometheus {
  url: string;
  pid: number;
  /** The prometheus.yml it runs with. */
  config: string;
  /** Until every target has been scraped and is up (polls /api/v1/targets). */
  waitForTargets(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Fails with what to install when the binary is missing (tests skip nothing: CI installs it). */
export async function requireBinary(bin: string): Promise<void> {
  try {
    await run(bin, ['--version']);
  } catch (err) {
    throw new Error(`${bin} is not runnable (${(err as Error).message.split('\n')[0]}): ${MISSING}`);
  }
}

export function prometheusConfig(opts: PrometheusOptions): string {
  const interval = `${opts.intervalSeconds ?? 1}s`;
  const lines = ['global:', `  scrape_interval: ${interval}`, `  scrape_timeout: ${interval}`, `  evaluation_interval: ${interval}`];
  if (opts.targets.some((t) => t.history)) lines.push('storage:', '  tsdb:', `    out_of_order_time_window: ${opts.historyDays ?? 35}d`);
  if (opts.ruleFiles?.length) lines.push('rule_files:', ...opts.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`));
  if (opts.alertmanagers?.length) lines.push('alerting:', '  alertmanagers:', '    - static_configs:', `        - targets: [${opts.alertmanagers.map((a) => JSON.stringify(a)).join(', ')}]`);
  lines.push('scrape_configs:');
  // honor_labels: the exporter stands in for many exporters; labels it sets (node-exporter's
  // per-node `instance`) win, as a federated or relabelled scrape would give them.
  // One scrape config per job (Prometheus refuses two of a name), all its targets in it.
  const jobs = new Map<string, ScrapeTarget[]>();
  for (const t of opts.targets) jobs.set(t.job, [...(jobs.get(t.job) ?? []), t]);
  for (const [job, targets] of jobs) {
    if (new Set(targets.map((t) => t.path)).size > 1) throw new Error(`scrape job ${job}: its targets must share one metrics path`);
    lines.push(`  - job_name: ${JSON.stringify(job)}`, `    metrics_path: ${JSON.stringify(targets[0]!.path)}`, '    honor_labels: true', '    static_configs:', `      - targets: [${targets.map((t) => JSON.stringify(t.address)).join(', ')}]`);
  }
  return lines.join('\n') + '\n';
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

export async function startPrometheus(opts: PrometheusOptions): Promise<RealPrometheus> {
  await requireBinary(PROMETHEUS_BIN);
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-prometheus-'));
  const data = join(dir, 'data');
  if (opts.history !== undefined) {
    try {
      await requireBinary(PROMTOOL_BIN);
      const file = join(dir, 'history.om');
      writeFileSync(file, opts.history);
      await run(PROMTOOL_BIN, ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', file, data], { maxBuffer: 16 * 2 ** 20 });
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const config = prometheusConfig(opts);
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  // History may be weeks old: keep it all.
  const server = await startReadyServer({
    name: 'prometheus',
    bin: PROMETHEUS_BIN,
    args: [`--config.file=${configFile}`, `--storage.tsdb.path=${data}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=3650d', '--web.enable-lifecycle', '--log.level=warn'],
    dir,
    url,
    readyWithinMs: 15_000,
  });
  const { stop } = server;
  return {
    url,
    pid: server.pid,
    config,
    async waitForTargets(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const body = (await getJson(`${url}/api/v1/targets?state=active`)) as { data: { activeTargets: Array<{ health: string; scrapeUrl: string; lastError: string }> } };
        const targets = body.data.activeTargets;
        if (targets.length === opts.targets.length && targets.every((t) => t.health === 'up')) return;
        if (Date.now() > deadline) throw new Error(`Prometheus targets not all up: ${JSON.stringify(targets.map((t) => [t.scrapeUrl, t.health, t.lastError]))}`);
        await sleep(100);
      }
    },
    stop,
  };
}
