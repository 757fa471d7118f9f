// `vlinders-ops serve`: the bot in Slack, its ops HTTP server (/metrics, /healthz, /readyz,
// /alertmanager), the leader Lease, and an orderly shutdown. With no Slack app at all it
// serves the local console instead.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { commands } from '../commands/index.js';
import { loadConfigFile, loadEnv } from './config/load.js';
import { DEV_ONLY_MISSING, importDevOnly } from './core/dev-only.js';
import type { CommandEngine } from './core/engine.js';
import { errorMessage } from './core/errors.js';
import { createLogger } from './core/log.js';
import { OpsMetrics, meteredAuditMirror, meteredSlackFetch } from './http/metrics.js';
import { startOpsServer } from './http/ops-server.js';
import { clusterReachable, readinessOf, slackAuthVerified, socketModeConnected, type Check } from './http/readiness.js';
import { pause, shutdownInOrder } from './http/shutdown.js';
import { alertRoute } from './incidents/index.js';
import { configuredClusters } from './kube/directory.js';
import { LeaderElector } from './kube/leader.js';
import { digestScheduler } from './schedule/digests.js';
import { s3BackupListing } from './digest/backup-listing.js';
import { postgresHealthSource } from './postgres/health.js';
import { postgresFor } from './postgres/index.js';
import { createSlackBot } from './slack/app.js';
import { buildEngine, stateStore } from './wiring.js';
import { configForCluster } from './config/clusters.js';

/** What `serve` says when Slack credentials are missing: exactly what to set. */
export function missingCredentials(env: NodeJS.ProcessEnv): string | undefined {
  const missing: string[] = [];
  if (!env.SLACK_BOT_TOKEN) missing.push('SLACK_BOT_TOKEN    the bot token (xoxb-…), from OAuth & Permissions');
  if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
    missing.push('SLACK_APP_TOKEN    an app-level token (xapp-…) with connections:write, for Socket Mode');
    missing.push('  or SLACK_SIGNING_SECRET  the signing secret, for HTTP mode (requests to /slack/events)');
  }
  if (missing.length === 0) return undefined;
  return [
    'vlinders-ops serve needs Slack credentials. Set:',
    ...missing.map((m) => `  ${m}`),
    'Create the app from manifest.json (api.slack.com/apps → From a manifest). Optional: SLACK_API_URL, VLINDERS_OPS_CONFIG.',
  ].join('\n');
}

// Listeners stay on after the first signal: a second one (a process manager repeating it, a
// second Ctrl-C) must not kill the process halfway through closing what it started.
const untilSignal = () =>
  new Promise<void>((resolve) => {
    process.on('SIGTERM', () => resolve());
    process.on('SIGINT', () => resolve());
  });

export async function serve(): Promise<number> {
  const problem = missingCredentials(process.env);
  // No Slack app at all: the local console, the real bot against the Slack workspace emulator.
  if (problem && !process.env.SLACK_BOT_TOKEN) return serveConsole(problem);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    return 2;
  }
  const env = loadEnv();
  const config = await loadConfigFile(env.VLINDERS_OPS_CONFIG);
  const log = createLogger(config.log.level);
  const services = configuredClusters(config.clusters);
  const store = stateStore(config, services);
  const metrics = new OpsMetrics();
  let engine: CommandEngine | undefined;
  const bot = createSlackBot({
    config,
    log,
    credentials: { botToken: env.SLACK_BOT_TOKEN as string, appToken: env.SLACK_APP_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET, apiUrl: env.SLACK_API_URL },
    slackFetch: meteredSlackFetch(metrics, { apiUrl: env.SLACK_API_URL }),
    replicas: env.VLINDERS_OPS_REPLICAS,
    // The Home tab's newest backup, from the default cluster's bucket (as the daily digest reads it).
    backups: s3BackupListing(configForCluster(config, undefined).backup),
    makeEngine: (hooks) =>
      (engine = buildEngine({ config, commands, log, services, store, groupMembers: hooks.groupMembers, auditMirror: meteredAuditMirror(metrics, hooks.auditMirror), metrics })),
  });
  // A schedule that names a command the bot may not run by itself stops the bot here, not at 2 am.
  for (const [i, run] of config.schedule.runs.entries()) {
    try {
      engine?.scheduled(run.command);
    } catch (err) {
      process.stderr.write(`config schedule.runs[${i}] (${run.name}): ${errorMessage(err)}\n`);
      return 2;
    }
  }
  const checks: Record<string, Check> = { slack: bot.socketClient ? socketModeConnected(bot.socketClient) : slackAuthVerified(bot.app.client) };
  if (config.clusters.length > 0) checks.cluster = clusterReachable(() => services.forCluster(undefined).kube());
  // Started before the bot, so liveness answers during a slow start.
  const ops = await startOpsServer({ port: env.VLINDERS_OPS_PORT, host: '0.0.0.0', metrics, readiness: readinessOf(checks), log });
  const alerts = alertRoute(bot, config, store, env.ALERTMANAGER_TOKEN, log);
  if ('handler' in alerts && alerts.handler) ops.route('POST', '/alertmanager', alerts.handler);
  else log.info({ reason: alerts.reason }, 'Alertmanager webhook is off');

  await bot.start();
  const identity = env.POD_NAME ?? `${hostname()}-${process.pid}`;
  const leader =
    config.clusters.length > 0
      ? new LeaderElector(services.forCluster(undefined).kube(), { namespace: config.store.namespace, name: 'vlinders-ops-leader', identity, log })
      : undefined;
  leader?.start();
  // Digests on the leader only; each tick is claimed in the store, so it posts once. They
  // report on the default (first) cluster, with its overrides.
  const digestConfig = configForCluster(config, undefined);
  const scheduler = leader
    ? digestScheduler({ config: digestConfig, store, kube: () => services.forCluster(undefined).kube(), isLeader: () => leader.isLeader(), post: (where, report, onRoot) => bot.publish(where, report, undefined, onRoot), signal: bot.signal, log, identity,
        runCommand: (channel, run, tick, attempt) => bot.runScheduled(channel, run, tick, attempt),
        sources: { database: postgresHealthSource(postgresFor({ config: digestConfig, services: services.forCluster(undefined), signal: bot.signal })), backups: s3BackupListing(digestConfig.backup) } })
    : { reason: 'no cluster configured' };
  if ('poll' in scheduler) scheduler.start();
  else log.info({ reason: scheduler.reason }, 'scheduled digests are off');
  const sweeper = setInterval(() => {
    engine?.sweepExpired().catch((err: unknown) => log.warn({ err }, 'could not sweep expired confirmations and suggestions'));
    if ('prune' in alerts && alerts.prune) alerts.prune().catch((err: unknown) => log.warn({ err }, 'could not sweep old alert groups'));
  }, 10 * 60_000);
  sweeper.unref();
  // A root Slack refused (an outage on its first delivery) is posted here if no later delivery did it;
  // an "until resolved" silence of a group that resolved is expired here.
  const alertSweeper = setInterval(() => {
    if ('sweep' in alerts && alerts.sweep) alerts.sweep().catch((err: unknown) => log.warn({ err }, 'could not post pending alert threads'));
    if ('expireResolvedSilences' in alerts && alerts.expireResolvedSilences) alerts.expireResolvedSilences().catch((err: unknown) => log.warn({ err }, 'could not check the silences of alert groups'));
  }, 60_000);
  alertSweeper.unref();
  log.info({ mode: bot.mode, slackPort: bot.port(), opsPort: ops.port() }, 'vlinders-ops is running');

  await untilSignal();
  log.info('shutting down');
  await shutdownInOrder(
    [
      { name: 'stop taking work', run: () => ops.setDraining() },
      { name: 'let the Service drop this pod', run: pause(config.clusters.length > 0 ? 5_000 : 0) },
      { name: 'sweeper', run: () => (clearInterval(sweeper), clearInterval(alertSweeper)) },
      { name: 'scheduler', run: async () => ('poll' in scheduler ? scheduler.stop() : undefined) },
      { name: 'slack', run: () => bot.stop(), timeoutMs: 15_000 },
      { name: 'leader lease', run: async () => leader?.stop() },
      { name: 'ops server', run: () => ops.close() },
    ],
    { log },
  );
  return 0;
}

/** `npm start` on a fresh machine: the bot in the Slack workspace emulator, played from a web page. */
async function serveConsole(hint: string): Promise<number> {
  const env = loadEnv();
  const config = existsSync(env.VLINDERS_OPS_CONFIG) ? await loadConfigFile(env.VLINDERS_OPS_CONFIG) : undefined;
  const log = createLogger(process.env.VLINDERS_OPS_LOG_LEVEL ?? 'warn');
  // Sandbox code: loaded here only, never on the production path.
  const consoleModule = await importDevOnly(() => import('./console/index.js'));
  if (!consoleModule) {
    process.stderr.write(`No Slack app is configured, and the local console ${DEV_ONLY_MISSING}\n${hint}\n`);
    return 2;
  }
  const { startConsole, hasKubeconfig } = consoleModule;
  // A real cluster only when asked: the page acts there as its demo admin.
  const realCluster = process.argv.includes('--real-cluster');
  const local = await startConsole({ port: Number(process.env.PORT ?? 3000), log, config, kubeconfig: realCluster });
  const cluster = local.sandbox
    ? `the sandbox cluster${hasKubeconfig(config) ? ' (a kubeconfig is here: `npm start -- --real-cluster` uses it, behind a one-time token)' : ''}`
    : 'the cluster of your kubeconfig (changes are real; only this link, with its one-time token, can use it)';
  process.stdout.write(
    `vlinders-ops console: ${local.url}\n` +
      `  The real bot, against the Slack workspace emulator and ${cluster}. Ctrl-C stops it.\n` +
      `  To run it in your Slack workspace instead:\n${hint.replace(/^/gm, '  ')}\n`,
  );
  await untilSignal();
  await local.close();
  return 0;
}
