// The digests through Slack and Bolt on the seeded broken cluster: the daily digest as one
// compact root with its details in the thread (a preview stays ephemeral), weekly and monthly
// the same way, the monthly restore-drill button going through the normal confirmation, and
// the scheduled digest posted by the leader to schedule.channel through the bot's publish.
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/core/store.js';
import { digestScheduler } from '../../src/schedule/digests.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { blocksText, startBot } from '../e2e/harness.js';
import { startS3, useS3rverCredentials, type TestS3 } from '../tools/s3.js';

// The backups the digests list live in S3: s3rver, holding one dump of the old runbook's form.
const BACKUP_AT = Date.now() - 5 * 3600_000;
const OLD_DUMP = `backup-${new Date(BACKUP_AT).toISOString().slice(0, 10).replace(/-/g, '')}.sql`;
let s3: TestS3;
beforeAll(async () => {
  useS3rverCredentials();
  s3 = await startS3();
  const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'eu-west-1' });
  await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `postgres/${OLD_DUMP}`, Body: 'SELECT 1;\n' }));
  client.destroy();
});
afterAll(() => s3.stop());

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup(configure: (c: ReturnType<typeof clusterConfig>) => void = () => undefined) {
  const cluster = await startCluster({ crashLoopApiPod: true, pendingPod: true, unboundPvc: true, gpuNodes: 4, workers: 2, readyDelayMs: 50 });
  closers.push(() => cluster.close());
  const config = clusterConfig();
  config.schedule.channel = CHANNELS.ops;
  config.backup.endpoint = s3.endpoint;
  config.backup.forcePathStyle = true;
  configure(config);
  const bot = await startBot({ config, services: cluster.services });
  closers.push(() => bot.close());
  return { cluster, bot, config };
}

type Bot = Awaited<ReturnType<typeof setup>>['bot'];
const roots = (bot: Bot, channel: string, title: string) => bot.emu.messages.filter((m) => m.channel === channel && !m.thread_ts && blocksText(m.blocks).includes(title));

describe('digest through Slack', () => {
  it('digest daily: a preview only the caller sees; --post is one root message with the details in its thread', async () => {
    const { cluster, bot } = await setup();
    await bot.slash(USERS.viewer, CHANNELS.general, 'digest daily');
    await bot.emu.waitFor(() => bot.emu.ephemerals.find((m) => blocksText(m.blocks).includes('daily digest details')), 30_000);
    const preview = bot.emu.ephemerals.filter((m) => blocksText(m.blocks).includes('daily digest'));
    // Through the command's response_url: the root and its details packed into its 5 posts.
    expect(preview.length).toBeGreaterThanOrEqual(1);
    expect(preview.length).toBeLessThanOrEqual(5);
    expect(blocksText(preview.map((m) => m.blocks))).toContain('ERROR lines (24 h)');
    expect(preview.every((m) => m.user === USERS.viewer)).toBe(true);
    expect(bot.emu.messages.filter((m) => m.channel === CHANNELS.general)).toHaveLength(0);

    await bot.slash(USERS.viewer, CHANNELS.general, 'digest daily --post');
    const root = await bot.emu.waitFor(() => roots(bot, CHANNELS.general, 'daily digest')[0], 30_000);
    const rootText = blocksText(root.blocks);
    // The root: a headline and what needs attention, nothing more.
    expect(rootText).toContain('need attention');
    expect(rootText).toContain(cluster.world.cluster.broken.crashLoopPod as string);
    expect(rootText).toContain('vlinders-uploads');
    expect(rootText).not.toContain('ERROR lines (24 h)');
    const thread = await bot.emu.waitFor(() => {
      const t = bot.emu.threadOf(CHANNELS.general, root.ts);
      return t.length > 0 ? t : undefined;
    });
    const details = blocksText(thread.map((m) => m.blocks));
    for (const part of ['ERROR lines (24 h)', 'Nodes', 'GPUs', 'TLS certificates', 'PVC usage', 'prometheus.url is not configured']) expect(details).toContain(part);
    // The old runbook's dumps are named by day (midnight UTC) and carry no checksum.
    expect(details).toContain(`newest: ${OLD_DUMP}`);
    expect(details).toContain('(unverified: no checksum metadata)');
    expect(roots(bot, CHANNELS.general, 'daily digest')).toHaveLength(1);
  }, 60_000);

  it('digest monthly --post offers the restore drill as a button that asks for approval', async () => {
    // The drill command is helper A's; any change command shows the flow the same way.
    const { cluster, bot } = await setup((c) => (c.digest.restoreDrillCommand = 'scale-gpu 3'));
    await bot.slash(USERS.admin, CHANNELS.ops, 'digest monthly --post');
    const root = await bot.emu.waitFor(() => roots(bot, CHANNELS.ops, 'monthly report')[0], 30_000);
    expect(blocksText(root.blocks)).toContain('Capacity');
    const offer = await bot.emu.waitFor(() => bot.emu.threadOf(CHANNELS.ops, root.ts).find((m) => blocksText(m.blocks).includes('vlinders_suggest')), 30_000);
    expect(blocksText(offer.blocks)).toContain('restore drill');
    const button = (offer.blocks?.find((b) => (b as { type: string }).type === 'actions') as { elements: Array<{ action_id: string; value: string; text: { text: string } }> }).elements[0];
    expect(button?.text.text).toBe('scale-gpu 3');
    expect(button?.value).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    // A viewer may not; an admin gets the confirmation card, and nothing changes before Approve.
    await bot.click(USERS.viewer, CHANNELS.ops, offer.ts, button?.action_id ?? '');
    expect((await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => e.user === USERS.viewer))).text).toContain('needs the operator role');
    await bot.click(USERS.admin, CHANNELS.ops, offer.ts, button?.action_id ?? '');
    const card = await bot.emu.waitFor(() => bot.emu.threadOf(CHANNELS.ops, root.ts).find((m) => blocksText(m.blocks).includes('vlinders_approve')), 30_000);
    expect(blocksText(card.blocks)).toContain('2 → 3');
    expect(cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster')?.spec).toMatchObject({ workerGroupSpecs: [{ replicas: 2 }] });
  }, 60_000);

  it('the real restore-drill behind the button plans against S3: with only unverified dumps it refuses, and nothing runs', async () => {
    const { bot } = await setup();
    await bot.slash(USERS.admin, CHANNELS.ops, 'digest monthly --post');
    const root = await bot.emu.waitFor(() => roots(bot, CHANNELS.ops, 'monthly report')[0], 30_000);
    const offer = await bot.emu.waitFor(() => bot.emu.threadOf(CHANNELS.ops, root.ts).find((m) => blocksText(m.blocks).includes('vlinders_suggest')), 30_000);
    const button = (offer.blocks?.find((b) => (b as { type: string }).type === 'actions') as { elements: Array<{ action_id: string; value: string; text: { text: string } }> }).elements[0];
    expect(button?.text.text).toBe('restore-drill');
    await bot.click(USERS.admin, CHANNELS.ops, offer.ts, button?.action_id ?? '');
    const refusal = await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => e.user === USERS.admin && e.text.includes('signed by this bot')), 30_000);
    expect(refusal.text).toContain('There is no backup signed by this bot in s3://vlinders-backups/postgres/ to drill with');
    expect(bot.emu.threadOf(CHANNELS.ops, root.ts).some((m) => blocksText(m.blocks).includes('vlinders_approve'))).toBe(false);
  }, 60_000);

  it('digest weekly is a preview with its details; an unknown kind gets the usage', async () => {
    const { bot } = await setup();
    await bot.slash(USERS.viewer, CHANNELS.general, 'digest weekly');
    await bot.emu.waitFor(() => bot.emu.ephemerals.find((m) => blocksText(m.blocks).includes('weekly report details')), 30_000);
    const text = blocksText(bot.emu.ephemerals.map((m) => m.blocks));
    for (const part of ['Disks', 'Database', 'Backups', 'Alert groups this week', 'Alertmanager now', 'GPU cost (7 days)']) expect(text).toContain(part);
    expect(bot.emu.messages.filter((m) => m.channel === CHANNELS.general)).toHaveLength(0);
    await bot.slash(USERS.viewer, CHANNELS.general, 'digest yearly');
    const e = await bot.emu.waitFor(() => bot.emu.ephemerals.find((m) => m.text.includes('Usage')));
    expect(e.text).toContain('digest daily|weekly|monthly');
  }, 60_000);

  it('the scheduled tick posts the digest to schedule.channel once, details in its thread', async () => {
    const { cluster, bot, config } = await setup();
    let now = Date.parse('2026-11-25T08:00:05Z');
    const scheduler = digestScheduler({
      config,
      store: new MemoryStore(),
      kube: () => cluster.client,
      isLeader: () => true,
      post: (where, report, onRoot) => bot.bot.publish(where, report, undefined, onRoot),
      signal: new AbortController().signal,
      now: () => now,
    });
    if (!('poll' in scheduler)) throw new Error(scheduler.reason);
    expect((await scheduler.poll()).map((r) => r.tick.toISOString())).toEqual(['2026-11-25T08:00:00.000Z']);
    now += 60_000;
    expect(await scheduler.poll()).toEqual([]);
    const posted = roots(bot, CHANNELS.ops, 'daily digest');
    expect(posted).toHaveLength(1);
    expect(blocksText(posted[0]?.blocks)).toContain('scheduled 2026-11-25T08:00:00.000Z');
    expect(bot.emu.threadOf(CHANNELS.ops, posted[0]?.ts ?? '').length).toBeGreaterThan(0);
  }, 60_000);
});
