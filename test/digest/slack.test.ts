// `digest daily` through Slack and Bolt on the seeded broken cluster, and the scheduled digest
// posted by the leader to schedule.channel through the bot's own poster.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/core/store.js';
import { digestScheduler } from '../../src/schedule/digests.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { blocksText, startBot } from '../e2e/harness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup() {
  const cluster = await startCluster({ crashLoopApiPod: true, pendingPod: true, unboundPvc: true });
  closers.push(() => cluster.close());
  const config = clusterConfig();
  config.schedule.channel = CHANNELS.ops;
  const bot = await startBot({ config, services: cluster.services });
  closers.push(() => bot.close());
  return { cluster, bot, config };
}

describe('digest through Slack', () => {
  it('digest daily is a preview only the caller sees; --post posts it; weekly says it is not built yet', async () => {
    const { cluster, bot } = await setup();
    await bot.slash(USERS.viewer, CHANNELS.general, 'digest daily');
    const preview = await bot.emu.waitFor(() => bot.emu.ephemerals.find((m) => blocksText(m.blocks).includes('daily digest')), 30_000);
    expect(preview.user).toBe(USERS.viewer);
    expect(bot.emu.messages.filter((m) => m.channel === CHANNELS.general)).toHaveLength(0);
    await bot.slash(USERS.viewer, CHANNELS.general, 'digest daily --post');
    const message = await bot.emu.waitFor(() => bot.emu.messages.find((m) => blocksText(m.blocks).includes('daily digest')), 30_000);
    const text = blocksText(message.blocks);
    expect(text).toContain(cluster.world.cluster.broken.crashLoopPod as string);
    expect(text).toContain('vlinders-uploads');
    expect(text).toContain('ERROR lines (24 h)');
    expect(text).toContain('backups not configured');
    await bot.slash(USERS.viewer, CHANNELS.general, 'digest weekly');
    const e = await bot.emu.waitFor(() => bot.emu.ephemerals.find((m) => m.text.includes('weekly')));
    expect(e.text).toContain('not built yet');
  }, 60_000);

  it('the scheduled tick posts the digest to schedule.channel once', async () => {
    const { cluster, bot, config } = await setup();
    let now = Date.parse('2026-11-25T08:00:05Z');
    const scheduler = digestScheduler({
      config,
      store: new MemoryStore(),
      kube: () => cluster.client,
      isLeader: () => true,
      post: (channel, report) => bot.bot.poster.report({ channel }, report),
      signal: new AbortController().signal,
      now: () => now,
    });
    if (!('poll' in scheduler)) throw new Error(scheduler.reason);
    expect((await scheduler.poll()).map((r) => r.tick.toISOString())).toEqual(['2026-11-25T08:00:00.000Z']);
    now += 60_000;
    expect(await scheduler.poll()).toEqual([]);
    const posted = bot.emu.messages.filter((m) => m.channel === CHANNELS.ops && blocksText(m.blocks).includes('daily digest'));
    expect(posted).toHaveLength(1);
  }, 60_000);
});
