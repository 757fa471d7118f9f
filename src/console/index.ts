// The local console: `npm start` without Slack credentials. The real bot (Bolt, HTTP mode)
// runs against the Slack workspace emulator, on the sandbox cluster unless there is a real
// one, and a small web page plays a few demo people in that workspace.
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { commands } from '../../commands/index.js';
import type { Config } from '../config/schema.js';
import type { ServiceDirectory } from '../core/services.js';
import { MemoryStore } from '../core/store.js';
import { KubeClient } from '../kube/client.js';
import { configuredClusters, fixedClusters } from '../kube/directory.js';
import { KubeApiEmulator } from '../sandbox/kube/index.js';
import { RayDashboardStub } from '../sandbox/ray/dashboard-stub.js';
import { startVlindersWorld, type WorldOptions } from '../sandbox/kube/world/index.js';
import { SlackWorkspaceEmulator } from '../sandbox/slack/index.js';
import { createSlackBot } from '../slack/app.js';
import { buildEngine } from '../wiring.js';
import { demoChannels, demoConfig, demoUsers, hasKubeconfig } from './demo.js';
import { createConsoleServer, type Banner } from './server.js';

export { DEMO_CHANNELS, DEMO_USERS, demoConfig, hasKubeconfig } from './demo.js';

export interface ConsoleOptions {
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the page can run commands as anyone, so keep it on this machine. */
  host?: string;
  /**
   * true: the clusters of `config` (or the current kubeconfig context); false: the sandbox.
   * Default: a real cluster when $KUBECONFIG, ~/.kube/config or config clusters exist.
   */
  kubeconfig?: boolean;
  /** The config file, when there is one: clusters, namespaces, limits. Its RBAC is replaced by the demo people's. */
  config?: Config;
  log: Logger;
  /** The sandbox world's shape (GPU nodes, workers, breakage switches). */
  sandbox?: WorldOptions;
}

export interface Console {
  url: string;
  /** Whether the bot runs against the sandbox cluster. */
  sandbox: boolean;
  /** The workspace the page shows (tests read and post to it). */
  slack: SlackWorkspaceEmulator;
  close(): Promise<void>;
}

/** Sized so `scale-gpu 4` fits and workers take long enough to turn Ready that progress shows. */
export const SANDBOX_WORLD: WorldOptions = { gpuNodes: 6, workers: 3, maxWorkers: 8, readyDelayMs: 1500 };

interface Cluster {
  services: ServiceDirectory;
  clusters: Config['clusters'];
  banner: Banner;
  /** The sandbox's Ray dashboard stub (dashboard and Serve on one port). */
  rayUrl?: string;
  close(): Promise<void>;
}

async function sandboxCluster(world: WorldOptions): Promise<Cluster> {
  // TLS with a bearer token, as a real API server: the product's client runs unchanged.
  const kube = await KubeApiEmulator.start();
  const running = startVlindersWorld(kube, world);
  // The sandbox's Ray dashboard and Serve route (model update), serving the seeded model.
  const ray = await RayDashboardStub.start({ model: (kube.get('v1', 'ConfigMap', 'vlinders-inference', 'vlinders-config')?.data as Record<string, string> | undefined)?.model });
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeconfig({ context: 'sandbox' }));
  return {
    services: fixedClusters([new KubeClient('sandbox', kc, 10_000)]),
    clusters: [{ name: 'sandbox' }],
    banner: { sandbox: true, cluster: 'the sandbox cluster' },
    rayUrl: ray.url,
    async close() {
      running.stop();
      await ray.close();
      await kube.close();
    },
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

export async function startConsole(opts: ConsoleOptions): Promise<Console> {
  const { log } = opts;
  const useReal = opts.kubeconfig ?? hasKubeconfig(opts.config);
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      await close().catch((err: unknown) => log.warn({ err }, 'console: could not close cleanly'));
    }
  };
  try {
    const slack = await SlackWorkspaceEmulator.start();
    closers.push(() => slack.close());
    for (const u of demoUsers) slack.addUser(u.id, { name: u.name, real_name: u.title.split(' · ')[0] });
    // The demo workspace has the bot invited to its channels, as a team running it would.
    for (const c of demoChannels) slack.addChannel(c.id, c.name, { bot: true });

    const cluster = useReal ? realCluster(opts.config) : await sandboxCluster({ ...SANDBOX_WORLD, ...opts.sandbox });
    closers.push(() => cluster.close());
    const config = demoConfig(opts.config, cluster.clusters);
    if (cluster.rayUrl) Object.assign(config.ray, { dashboardUrl: cluster.rayUrl, serveUrl: cluster.rayUrl });

    const bot = createSlackBot({
      config,
      log,
      // Its own free port: the console's port is the page's.
      port: 0,
      credentials: { botToken: slack.botToken, signingSecret: slack.signingSecret, apiUrl: slack.apiUrl },
      makeEngine: (hooks) =>
        buildEngine({
          config,
          commands,
          log,
          services: cluster.services,
          // Confirmations stay in this process: the console never writes state into a cluster.
          store: new MemoryStore(),
          groupMembers: hooks.groupMembers,
          auditMirror: hooks.auditMirror,
        }),
    });
    await bot.start();
    closers.push(() => bot.stop());
    // Bolt asks auth.test as it starts; closing before the answer leaves its WebClient
    // retrying against a closed port for minutes, so the console is up once it has one.
    await slack.waitFor(() => slack.calls.some((c) => c.method === 'auth.test'), 10_000);

    const server = createConsoleServer({
      slack,
      botUrl: `http://127.0.0.1:${bot.port() ?? 0}/slack/events`,
      command: config.slack.command,
      users: demoUsers,
      channels: demoChannels,
      banner: cluster.banner,
      log,
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
    return { url, sandbox: !useReal, slack, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
