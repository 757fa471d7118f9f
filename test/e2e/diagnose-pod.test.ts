// diagnose pod through Slack, Bolt and the cluster emulator's seeded broken pods.
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from './cluster.js';
import { blocksText, startBot } from './harness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup() {
  const cluster = await startCluster({ crashLoopApiPod: true, pendingPod: true });
  closers.push(() => cluster.close());
  const bot = await startBot({ config: clusterConfig(), services: cluster.services });
  closers.push(() => bot.close());
  return { cluster, bot };
}

describe('diagnose pod', () => {
  it('a crash-looping API pod: its state, last termination, event and last log lines', async () => {
    const { cluster, bot } = await setup();
    const pod = cluster.world.cluster.broken.crashLoopPod as string;
    await bot.slash(USERS.viewer, CHANNELS.general, `diagnose pod ${pod}`);
    const message = await bot.emu.waitFor(() => bot.emu.messages.find((m) => blocksText(m.blocks).includes(`diagnose pod vlinders-platform/${pod}`)));
    const text = blocksText(message.blocks);
    expect(text).toContain('CrashLoopBackOff');
    expect(text).toMatch(/Terminated: \w+, exit code 1/);
    expect(text).toContain('BackOff');
    expect(text).toContain('Last 50 log lines of');
    const logLines = text.split('\\n').filter((l) => /\d{4}-\d\d-\d\dT/.test(l));
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.length).toBeLessThanOrEqual(50);
  });

  it("a Pending pod shows the scheduler's message", async () => {
    const { cluster, bot } = await setup();
    const pod = cluster.world.cluster.broken.pendingPod as string;
    await bot.slash(USERS.viewer, CHANNELS.general, `diagnose pod ${pod}`);
    const message = await bot.emu.waitFor(() => bot.emu.messages.find((m) => blocksText(m.blocks).includes(`diagnose pod`)));
    const text = blocksText(message.blocks);
    expect(text).toContain('Insufficient nvidia.com/gpu');
    expect(text).toContain('(not scheduled)');
  });

  it('a near miss suggests the real name; an invalid name is refused before any call', async () => {
    const { bot } = await setup();
    await bot.slash(USERS.viewer, CHANNELS.general, 'diagnose pod postgres-1');
    await bot.slash(USERS.viewer, CHANNELS.general, 'diagnose pod "../etc"');
    const texts = await bot.emu.waitFor(() => (bot.emu.ephemerals.length >= 2 ? bot.emu.ephemerals.map((e) => e.text) : undefined));
    expect(texts).toEqual(expect.arrayContaining([expect.stringContaining('Did you mean `postgres-0`?'), expect.stringContaining('is not a valid Kubernetes name')]));
    expect(bot.emu.messages).toHaveLength(0);
  });
});
