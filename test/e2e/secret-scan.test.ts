// The acceptance scan: every command's documented examples run through Slack and Bolt as an
// admin against one world holding every peer (the seeded cluster with its Secrets, the real
// PostgreSQL behind postgres-0, s3rver, a real redis-server, and the Qdrant, platform API, Ray
// dashboard, Prometheus and Alertmanager stubs). Every confirmation is approved (by a second
// person when destructive) and runs to its end. Then nothing the bot posted, uploaded or
// logged may hold any seeded secret value, nor the Slack credentials.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../commands/index.js';
import { AlertmanagerStub, PrometheusStub } from '../../src/sandbox/prometheus/server.js';
import { startPlatformApi, type PlatformApiStub } from '../../src/sandbox/platform-api/server.js';
import { RayDashboardStub } from '../../src/sandbox/ray/dashboard-stub.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { startPlatformPeers, type PlatformPeers } from '../preflight/world.js';
import { startS3, useS3rverCredentials, type TestS3 } from '../tools/s3.js';
import { startCluster } from './cluster.js';
import { blocksText, startBot, type BotHarness } from './harness.js';
import { everything, secretValues } from './secrets.js';

let peers: PlatformPeers;
let s3: TestS3;
let api: PlatformApiStub;
let ray: RayDashboardStub;
let prometheus: PrometheusStub;
let alertmanager: AlertmanagerStub;
let cluster: Awaited<ReturnType<typeof startCluster>>;
let bot: BotHarness;

beforeAll(async () => {
  useS3rverCredentials();
  [peers, s3, api, ray, prometheus, alertmanager] = await Promise.all([startPlatformPeers(), startS3(), startPlatformApi(), RayDashboardStub.start({ deployMs: 100 }), PrometheusStub.start(), AlertmanagerStub.start()]);
  cluster = await startCluster(peers.world({ jobRunMs: 50, readyDelayMs: 50, rolloutReadyDelayMs: 50, gpuNodes: 6, workers: 3, crashLoopApiPod: true }));
  const config = peers.config({ apiUrl: api.url, rayServeUrl: ray.url });
  config.backup = { ...config.backup, endpoint: s3.endpoint, forcePathStyle: true, bucket: s3.bucket, host: '127.0.0.1', port: peers.pg.port };
  config.ray = { ...config.ray, dashboardUrl: ray.url, serveUrl: ray.url, dashboardTimeoutSeconds: 2 };
  config.models = { ...config.models, jobTimeoutSeconds: 20, serveTimeoutSeconds: 5 };
  config.prometheus = { ...config.prometheus, url: prometheus.url, alertmanagerUrl: alertmanager.url };
  config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
  config.digest.tlsSecrets = [{ namespace: 'vlinders-platform', name: 'vlinders-tls' }];
  config.restart.timeoutSeconds = 15;
  config.inference.rolloutTimeoutSeconds = 20;
  bot = await startBot({ config, services: cluster.services });
}, 120_000);

afterAll(async () => {
  await bot?.close();
  await cluster?.close();
  await Promise.all([peers?.close(), s3?.stop(), api?.close(), ray?.close(), prometheus?.close(), alertmanager?.close()]);
});

/** Waits until the bot has nothing left to do (the work after an ack starts a moment later). */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    await bot.bot.idle();
  }
}

const cards = (channel: string) => bot.emu.messages.filter((m) => m.channel === channel && blocksText(m.blocks).includes('vlinders_approve'));
const approveButton = (m: { blocks?: unknown[] }) =>
  ((m.blocks ?? []).find((b) => (b as { type: string }).type === 'actions') as { elements: Array<{ action_id: string; value: string }> } | undefined)?.elements.find((e) => e.action_id === 'vlinders_approve');

describe('the secret scan over every command', () => {
  it('runs every example of every command, approving every change, and finds no secret in anything said or logged', async () => {
    const ran: string[] = [];
    const outcomes: string[] = [];
    for (const command of commands) {
      for (const example of command.examples ?? []) {
        const before = new Set(cards(CHANNELS.ops).map((m) => m.ts));
        await bot.slash(USERS.admin, CHANNELS.ops, example);
        await settle();
        const card = cards(CHANNELS.ops).find((m) => !before.has(m.ts));
        const button = card && approveButton(card);
        if (card && button) {
          // The requester approves; a destructive action then needs the second person.
          await bot.click(USERS.admin, CHANNELS.ops, card.ts, button.action_id);
          await settle();
          // Only a destructive card still shows Approve: a click lands only on a button that is there.
          if (bot.emu.holdsButton({ user: USERS.approver, channel: CHANNELS.ops, messageTs: card.ts, button: button.action_id })) {
            await bot.click(USERS.approver, CHANNELS.ops, card.ts, button.action_id);
            await settle();
          }
        }
        ran.push(`${example}${card ? ' (approved)' : ''}`);
        // An approved change ends with its outcome on the card (the restore example names no real backup: refused at plan).
        if (card) outcomes.push(`${example} → ${card.text.slice(0, 60)}`);
      }
    }
    // The restore example names no real backup; restore the one `backup` took, as two people.
    const taken = /backup-\d{8}-\d{6}Z\.sql\.gz/.exec(everything(bot))?.[0];
    expect(taken).toBeDefined();
    await bot.slash(USERS.admin, CHANNELS.ops, `restore ${taken}`);
    await settle();
    const restoreCard = await bot.card(CHANNELS.ops);
    await bot.click(USERS.admin, CHANNELS.ops, restoreCard.message.ts, 'vlinders_approve');
    await settle();
    // A restore is destructive: the requester's own approval is refused and the button stays for the second person.
    await bot.click(USERS.approver, CHANNELS.ops, restoreCard.message.ts, 'vlinders_approve');
    await settle();
    outcomes.push(`restore ${taken} → ${restoreCard.message.text.slice(0, 60)}`);
    expect(restoreCard.message.text).toMatch(/^✅/);

    // It really ran: every command was asked, and the changes went through their cards.
    expect(ran.length).toBeGreaterThanOrEqual(commands.length);
    for (const change of ['backup', 'restore-drill', 'scale-gpu 5', 'gpu-memory 0.85', 'restart vlinders-api', 'loadtest']) expect(ran).toContain(`${change} (approved)`);
    // Every change must succeed: one that fails early leaves the rest of its path (and what it would say) unscanned.
    expect(outcomes.filter((o) => !/ → ✅/.test(o))).toEqual([]);
    const said = everything(bot);
    expect(said).toContain('Backed up vlinders');
    expect(said).toContain('pre-deployment checklist');

    const secrets = [...secretValues(cluster.kube), bot.emu.botToken, bot.emu.signingSecret, peers.pg.password].filter((v) => v.length >= 6);
    expect(secrets.length).toBeGreaterThan(10);
    const leaked = secrets.filter((v) => said.includes(v));
    expect(leaked.map((v) => `${v.slice(0, 6)}…`)).toEqual([]);
  }, 600_000);
});
