// The local console: `npm start` without Slack credentials. The real bot (Bolt, HTTP mode)
// runs against the Slack workspace emulator, on the sandbox cluster unless there is a real
// one, and a small web page plays a few demo people in that workspace.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { commands } from '../../commands/index.js';
import type { Config } from '../config/schema.js';
import type { ServiceDirectory } from '../core/services.js';
import { MemoryStore } from '../core/store.js';
import { configuredClusters } from '../kube/directory.js';
import type { WorldOptions } from '../sandbox/kube/world/index.js';
import { ALERTMANAGER_MISSING } from '../sandbox/alertmanager/demo.js';
import { SANDBOX_WORLD, startSandboxPlatform, type SandboxAlertmanager } from '../sandbox/platform.js';
import { SlackWorkspaceEmulator } from '../sandbox/slack/index.js';
import { alertRoute } from '../incidents/index.js';
import { DEFAULT_SCOPES } from '../sandbox/slack/workspace.js';
import { createSlackBot, type SlackBot } from '../slack/app.js';
import { INCIDENT_ROOM_SCOPES } from '../slack/rooms.js';
import { SHORTCUT_LIST } from '../slack/surfaces.js';
import { buildEngine } from '../wiring.js';
import { demoChannels, demoConfig, demoUsers } from './demo.js';
import { createConsoleServer, type Banner } from './server.js';

export { DEMO_CHANNELS, DEMO_USERS, demoConfig, hasKubeconfig } from './demo.js';

export interface ConsoleOptions {
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the page can run commands as anyone, so keep it on this machine. */
  host?: string;
  /**
   * true (`serve --real-cluster`): the clusters of `config`, or the current kubeconfig context,
   * behind a one-time token; default false: the sandbox, whatever kubeconfig this machine has.
   */
  kubeconfig?: boolean;
  /** The config file, when there is one: clusters, namespaces, limits. Its RBAC is replaced by the demo people's. */
  config?: Config;
  log: Logger;
  /** The sandbox world's shape (GPU nodes, workers, breakage switches). */
  sandbox?: WorldOptions;
  /** false: the sandbox without Alertmanager even when it is installed (tests of that path). */
  alertmanager?: boolean;
}

export interface Console {
  /** The page; on a real cluster it carries the one-time token in its fragment (#token=…). */
  url: string;
  /** On a real cluster: what every /api request must carry (X-Console-Token). */
  token?: string;
  /** Whether the bot runs against the sandbox cluster. */
  sandbox: boolean;
  /** The workspace the page shows (tests read and post to it). */
  slack: SlackWorkspaceEmulator;
  /** The bot's Alertmanager webhook on this machine: alerts posted here open threads in #incidents. */
  alertmanager: { url: string; token: string };
  close(): Promise<void>;
}

export { SANDBOX_WORLD } from '../sandbox/platform.js';

interface Cluster {
  services: ServiceDirectory;
  clusters: Config['clusters'];
  banner: Banner;
  /** Points the config's peers at the sandbox's (Ray, S3, Redis, Qdrant, platform API). */
  configure?(config: Config): Config;
  /** The sandbox's Alertmanager: undefined when it is not installed (or on a real cluster). */
  alertmanager?: SandboxAlertmanager;
  close(): Promise<void>;
}

async function sandboxCluster(world: WorldOptions, alertmanager: boolean | undefined): Promise<Cluster> {
  const platform = await startSandboxPlatform({ world: { ...SANDBOX_WORLD, ...world }, alertmanager });
  return {
    services: platform.services,
    clusters: platform.clusters,
    banner: { sandbox: true, cluster: `the sandbox cluster${platform.postgres ? '' : ' (without PostgreSQL: install postgresql to try backups)'}` },
    configure: (config) => platform.configure(config),
    alertmanager: platform.alertmanager,
    close: () => platform.close(),
  };
}

function realCluster(config: Config | undefined): Cluster {
  // Without clusters in the config, the current context of $KUBECONFIG or ~/.kube/config.
  const clusters: Config['clusters'] = config?.clusters.length ? config.clusters : [{ name: 'kubeconfig' }];
  let described = clusters.map((c) => `cluster ${c.name}${c.context ? ` (context ${c.context})` : ''}`).join(', ');
  if (!config?.clusters.length) {
    try {
      const kc = new KubeConfig();
      kc.loadFromDefault();
      described = `the current kubeconfig context (${kc.getCurrentContext() || 'none'})`;
    } catch {
      // The bot names a broken kubeconfig on the first command.
    }
  }
  return { services: configuredClusters(clusters), clusters, banner: { sandbox: false, cluster: described }, close: async () => undefined };
}

/** The bot's alert route (POST /alertmanager, a bearer token of its own) on a loopback port. */
async function serveAlertmanager(bot: SlackBot, config: Config, store: MemoryStore, log: Logger): Promise<{ url: string; token: string; close(): Promise<void> }> {
  const token = randomBytes(24).toString('base64url');
  const route = alertRoute(bot, config, store, token, log);
  if (!('handler' in route) || !route.handler) throw new Error(`console: alerts are off: ${route.reason}`);
  const { handler } = route;
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/alertmanager') return void handler(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alertmanager`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function startConsole(opts: ConsoleOptions): Promise<Console> {
  const { log } = opts;
  // The page acts as its demo admin: on a real cluster only whoever holds the printed token may.
  const useReal = opts.kubeconfig ?? false;
  const token = useReal ? randomBytes(24).toString('base64url') : undefined;
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((err: unknown) => log.warn({ err }, 'console: could not close cleanly'));
    }
  };
  try {
    // The scopes and the event the incident channels need, besides a fresh install's; Slack
    // offers the shortcuts the app declares (manifest.json's, as SHORTCUT_LIST).
    const slack = await SlackWorkspaceEmulator.start({ scopes: [...DEFAULT_SCOPES, ...INCIDENT_ROOM_SCOPES], botEvents: ['reaction_added', 'app_home_opened'], shortcuts: [...SHORTCUT_LIST] });
    closers.push(() => slack.close());
    for (const u of demoUsers) slack.addUser(u.id, { name: u.name, real_name: u.title.split(' · ')[0] });
    // The demo workspace has the bot invited to its channels, as a team running it would.
    for (const c of demoChannels) slack.addChannel(c.id, c.name, { bot: true, members: demoUsers.map((u) => u.id) });

    const cluster = useReal ? realCluster(opts.config) : await sandboxCluster(opts.sandbox ?? {}, opts.alertmanager);
    closers.push(() => cluster.close());
    const config = demoConfig(opts.config, cluster.clusters);
    cluster.configure?.(config);
    if (cluster.alertmanager) config.prometheus.alertmanagerUrl = cluster.alertmanager.url;

    const store = new MemoryStore();
    const bot = createSlackBot({
      config,
      log,
      // Its own free port: the console's port is the page's. Only the console posts to it.
      port: 0,
      host: '127.0.0.1',
      credentials: { botToken: slack.botToken, signingSecret: slack.signingSecret, apiUrl: slack.apiUrl },
      makeEngine: (hooks) =>
        buildEngine({
          config,
          commands,
          log,
          services: cluster.services,
          // Confirmations stay in this process: the console never writes state into a cluster.
          store,
          groupMembers: hooks.groupMembers,
          auditMirror: hooks.auditMirror,
        }),
    });
    await bot.start();
    closers.push(() => bot.stop());
    // Bolt asks auth.test as it starts; closing before the answer leaves its WebClient
    // retrying against a closed port for minutes, so the console is up once it has one.
    await slack.waitFor(() => slack.calls.some((c) => c.method === 'auth.test'), 10_000);

    const alertmanager = await serveAlertmanager(bot, config, store, log);
    closers.push(() => alertmanager.close());
    // The sandbox's Alertmanager delivers to that route: the demo group's thread opens in #incidents.
    if (cluster.alertmanager) await cluster.alertmanager.start(alertmanager);
    else if (!useReal) bot.engine.alertSilencesOff(ALERTMANAGER_MISSING);

    const server = createConsoleServer({
      slack,
      botUrl: `http://127.0.0.1:${bot.port() ?? 0}/slack/events`,
      command: config.slack.command,
      users: demoUsers,
      channels: demoChannels,
      banner: cluster.banner,
      log,
      token,
    });
    const host = opts.host ?? '127.0.0.1';
    const wanted = opts.port ?? 3000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new Error(`${host}:${wanted} is already in use (another console?); choose another port`) : err),
      );
      server.listen(wanted, host, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const { port } = server.address() as AddressInfo;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const url = `http://${shown}:${port}`;
    log.info({ url, sandbox: !useReal }, `vlinders-ops console at ${url}`);
    return { url: token ? `${url}/#token=${token}` : url, token, sandbox: !useReal, slack, alertmanager: { url: alertmanager.url, token: alertmanager.token }, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
