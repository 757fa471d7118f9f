// The wiring main.ts is meant to do, end to end: the real Bolt app (Socket Mode) against the
// workspace emulator, its engine's audit mirrored into the metrics, and the ops server next to
// it. Slash commands typed in "Slack" show up on /metrics; the cluster check gates /readyz.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { createLogger } from '../../src/core/log.js';
import { fixedClusters } from '../../src/kube/directory.js';
import { OpsMetrics, meteredAuditMirror } from '../../src/http/metrics.js';
import { startOpsServer, type OpsServer } from '../../src/http/ops-server.js';
import { clusterReachable, readinessOf, slackAuthVerified } from '../../src/http/readiness.js';
import { KubeApiEmulator } from '../../src/sandbox/kube/index.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';
import { createSlackBot, type SlackBot } from '../../src/slack/app.js';
import { buildEngine } from '../../src/wiring.js';
import { testCommands } from '../fixtures/commands.js';
import { captureLog } from '../fixtures/engine.js';
import { CHANNELS, USERS, testConfig, MANIFEST_SCOPES, seedConversations } from '../fixtures/world.js';
import { clientFor } from '../kube/kube-client.js';
import { eventually, readyz, scrape, valueOf } from './helpers.js';

let slack: SlackWorkspaceEmulator;
let kube: KubeApiEmulator;
let bot: SlackBot;
let ops: OpsServer;

beforeAll(async () => {
  slack = await SlackWorkspaceEmulator.start({ scopes: MANIFEST_SCOPES });
  seedConversations(slack);
  kube = await KubeApiEmulator.start();
  const config = testConfig();
  const log = createLogger('info', captureLog().stream);
  const metrics = new OpsMetrics();
  bot = createSlackBot({
    config,
    log,
    credentials: { botToken: slack.botToken, appToken: slack.appToken, apiUrl: slack.apiUrl },
    makeEngine: (hooks) =>
      buildEngine({
        config,
        commands: [...commands, ...testCommands({ runs: [] })],
        log,
        services: fixedClusters([]),
        groupMembers: hooks.groupMembers,
        auditMirror: meteredAuditMirror(metrics, hooks.auditMirror),
      }),
  });
  ops = await startOpsServer({
    port: 0,
    metrics,
    log,
    readiness: readinessOf({
      slack: slackAuthVerified(bot.app.client),
      cluster: clusterReachable(clientFor(kube), { timeoutMs: 500, cacheMs: 0 }),
    }),
  });
  await bot.start();
  await slack.socketConnected();
});

afterAll(async () => {
  ops.setDraining();
  await bot.stop();
  await slack.waitFor(() => slack.socketConnections === 0);
  await ops.close();
  await Promise.all([slack.close(), kube.close()]);
});

describe('serve wiring: Bolt + engine + ops server', () => {
  it('slash commands through Slack are counted on /metrics', async () => {
    await slack.sendSlashCommandSocket({ user: USERS.viewer, channel: CHANNELS.ops, text: 'test-lines 2' });
    await slack.sendSlashCommandSocket({ user: USERS.viewer, channel: CHANNELS.ops, text: 'test-change 3' });
    const counted = await eventually(async () => {
      const { samples } = await scrape(ops);
      const ok = valueOf(samples, 'vlinders_ops_commands_total', { command: 'test-lines', outcome: 'ok' });
      const denied = valueOf(samples, 'vlinders_ops_denials_total', { command: 'test-change' });
      return ok === 1 && denied === 1 && samples;
    });
    expect(valueOf(counted, 'vlinders_ops_command_duration_seconds_count', { command: 'test-lines' })).toBe(1);
    expect(valueOf(counted, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('/readyz is 200 with Slack and the cluster up, 503 while the cluster hangs', async () => {
    const up = await readyz(ops);
    expect(up.status).toBe(200);
    expect(Object.keys(up.body.checks).sort()).toEqual(['cluster', 'slack']);
    kube.failNext({ path: /.*/ }, 'hang', 1);
    const down = await readyz(ops);
    expect(down.status).toBe(503);
    expect(down.body.failing).toEqual(['cluster']);
    await eventually(async () => (await readyz(ops)).status === 200);
  });
});
