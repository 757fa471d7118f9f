// A finished change says so wherever Slack shows it: the card's title carries the outcome
// (✅ ⚠️ ❌, or 🚫) instead of "Confirm", and the progress line in its thread ends with the
// outcome's mark instead of ⏳. Real Bolt, the Slack workspace emulator, the sandbox cluster.
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedMessage } from '../../src/sandbox/slack/index.js';
import { clusterConfig, startClusterWithBot } from '../e2e/cluster.js';
import { CHANNELS, USERS } from '../fixtures/world.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const setup = (world: Parameters<typeof startClusterWithBot>[1], config = clusterConfig()) => startClusterWithBot(closers, world, config);

const header = (m: RecordedMessage) => ((m.blocks ?? []).find((b) => (b as { type: string }).type === 'header') as { text: { text: string } } | undefined)?.text.text;
const finished = (m: RecordedMessage) => /Done|warnings|Failed/.test(m.text);

describe('a decided confirmation card', () => {
  it('scale-gpu 5 from 3: while it runs ⏳; once done the card is ✅ and the thread has no ⏳ left', async () => {
    const { bot } = await setup({ gpuNodes: 6, workers: 3, readyDelayMs: 1500 });
    await bot.slash(USERS.operator, CHANNELS.ops, 'scale-gpu 5');
    const card = await bot.card(CHANNELS.ops);
    expect(header(card.message)).toBe('ℹ️ Confirm: scale-gpu gpu-workers: 3 → 5');
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    await bot.emu.waitFor(() => card.message.text.includes('running'));
    expect(header(card.message)).toBe('⏳ scale-gpu gpu-workers: 3 → 5');
    // Progress shows as the workers turn Ready, with ⏳ while they do.
    await bot.emu.waitFor(() => bot.emu.threadOf(CHANNELS.ops, card.message.ts).find((m) => m.text.startsWith('⏳ ')), 10_000);

    await bot.emu.waitFor(() => finished(card.message), 20_000);
    expect(card.message.text).toMatch(/^✅ Done/);
    expect(header(card.message)).toBe('✅ scale-gpu gpu-workers: 3 → 5');
    expect(JSON.stringify(card.message.blocks)).not.toContain('Confirm');
    const thread = bot.emu.threadOf(CHANNELS.ops, card.message.ts);
    expect(thread.filter((m) => m.text.includes('⏳'))).toEqual([]);
    expect(thread.map((m) => m.text)).toContain('✅ 5/5 workers Ready');
  }, 40_000);

  it('with too few GPUs it ends ⚠️: card title and the last progress line', async () => {
    const { bot } = await setup({ gpuNodes: 4, workers: 3, readyDelayMs: 100 }, clusterConfig({ scaleTimeoutSeconds: 5 }));
    await bot.slash(USERS.operator, CHANNELS.ops, 'scale-gpu 6');
    const card = await bot.card(CHANNELS.ops);
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    await bot.emu.waitFor(() => finished(card.message), 20_000);
    expect(header(card.message)).toMatch(/^⚠️ scale-gpu gpu-workers: 3 → 6/);
    const progress = bot.emu.threadOf(CHANNELS.ops, card.message.ts).filter((m) => /workers Ready|Waiting/.test(m.text));
    expect(progress.length).toBeGreaterThan(0);
    for (const m of progress) expect(m.text).toMatch(/^⚠️ /);
  }, 40_000);

  it("ends with the outcome even when its report can't be posted", async () => {
    const { bot } = await setup({ gpuNodes: 6, workers: 3, readyDelayMs: 1500 });
    await bot.slash(USERS.operator, CHANNELS.ops, 'scale-gpu 5');
    const card = await bot.card(CHANNELS.ops);
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    // Progress is posted once, then updated in place: the next message posted is the report.
    await bot.emu.waitFor(() => bot.emu.threadOf(CHANNELS.ops, card.message.ts).find((m) => m.text.startsWith('⏳ ')), 10_000);
    bot.emu.failNext('chat.postMessage', 'internal_error');
    await bot.emu.waitFor(() => finished(card.message), 20_000);
    expect(card.message.text).toMatch(/^✅ Done/);
    expect(header(card.message)).toBe('✅ scale-gpu gpu-workers: 3 → 5');
    const told = await bot.emu.waitFor(() => bot.emu.ephemerals.find((e) => e.user === USERS.operator && e.text.includes('went wrong')));
    expect(told.text).toContain('details are in its log');
  }, 40_000);

  it('cancelled: 🚫 in the title, no Confirm, no buttons', async () => {
    const { bot } = await setup({ gpuNodes: 6, workers: 3 });
    await bot.slash(USERS.operator, CHANNELS.ops, 'scale-gpu 4');
    const card = await bot.card(CHANNELS.ops);
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_cancel');
    await bot.emu.waitFor(() => card.message.text.includes('Cancelled'));
    expect(header(card.message)).toBe('🚫 scale-gpu gpu-workers: 3 → 4');
    expect(JSON.stringify(card.message.blocks)).not.toMatch(/Confirm|vlinders_approve/);
  });
});
