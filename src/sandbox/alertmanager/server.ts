// The real Alertmanager (Debian's prometheus-alertmanager) for the tests and the sandbox: its
// storage in a temp dir, its web API on a free loopback port, clustering off, and a generated
// alertmanager.yml whose one webhook receiver is the bot's POST /alertmanager with its bearer
// token. Alerts reach it as Prometheus delivers them: POST /api/v2/alerts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../slack/index.js';
import { startReadyServer } from '../ready-server.js';

const BINARIES = ['/usr/bin/prometheus-alertmanager', '/usr/bin/alertmanager'];

/** Debian's binary, or undefined when the package is not installed. */
export function findAlertmanager(): string | undefined {
  if (process.env.ALERTMANAGER_BIN) return process.env.ALERTMANAGER_BIN;
  for (const bin of BINARIES) {
    try {
      execFileSync(bin, ['--version'], { stdio: 'ignore' });
      return bin;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A route below the bot's: alerts it matches go to `receiver` (a receiver with no integration) instead. */
export interface OtherRoute {
  matchers: string[];
  receiver: string;
}

export interface AlertmanagerOptions {
  /** The bot's webhook, e.g. http://127.0.0.1:8081/alertmanager. */
  webhookUrl: string;
  /** Sent as `Authorization: Bearer …` (the bot's ALERTMANAGER_TOKEN). */
  token: string;
  /** The receiver's name in the config and in every webhook payload. */
  receiver?: string;
  groupBy?: string[];
  /** Alertmanager durations ("200ms", "1s"); short by default so a test sees a repeat in seconds. */
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  otherRoutes?: OtherRoute[];
  /** The loopback port of its API (default: a free one), for a bot configured before it starts. */
  port?: number;
}

export interface RunningAlertmanager {
  /** The API base, e.g. http://127.0.0.1:9093 (API v2 under /api/v2). */
  url: string;
  /** The alertmanager.yml it runs with, as written. */
  configText: string;
  pid: number;
  stop(): Promise<void>;
}

/** The alertmanager.yml: one route to the bot's webhook, the given other routes to silent receivers. */
export function alertmanagerConfig(opts: AlertmanagerOptions): string {
  const receiver = opts.receiver ?? 'vlinders-ops';
  const others = [...new Set((opts.otherRoutes ?? []).map((r) => r.receiver))];
  return stringify({
    route: {
      receiver,
      group_by: opts.groupBy ?? ['alertname', 'namespace'],
      group_wait: opts.groupWait ?? '200ms',
      group_interval: opts.groupInterval ?? '1s',
      repeat_interval: opts.repeatInterval ?? '3s',
      routes: (opts.otherRoutes ?? []).map((r) => ({ matchers: r.matchers, receiver: r.receiver })),
    },
    receivers: [
      {
        name: receiver,
        webhook_configs: [{ url: opts.webhookUrl, send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials: opts.token } } }],
      },
      ...others.map((name) => ({ name })),
    ],
  });
}

export async function startAlertmanager(opts: AlertmanagerOptions): Promise<RunningAlertmanager> {
  const bin = findAlertmanager();
  if (!bin) throw new Error('Alertmanager not found (/usr/bin/prometheus-alertmanager): apt-get install prometheus-alertmanager');
  const dir = mkdtempSync(join(tmpdir(), 'vlinders-am-'));
  const configText = alertmanagerConfig(opts);
  const configFile = join(dir, 'alertmanager.yml');
  // The token is in the file: readable by us only.
  writeFileSync(configFile, configText, { mode: 0o600 });
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const server = await startReadyServer({
    name: 'alertmanager',
    bin,
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      // Empty: no gossip cluster, so no other port and no peer wait before the first notification.
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    dir,
    url,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    readyWithinMs: 10_000,
  });
  return { url, configText, pid: server.pid, stop: server.stop };
}
