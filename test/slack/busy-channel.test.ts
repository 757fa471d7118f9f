// One channel in one minute: a scale-gpu run reporting 30 progress lines and the daily digest
// with its thread, against the emulator's default limits (about one post a second per channel
// after a burst, HTTP 429 with Retry-After). Every message and thread must come out whole and in
// order: progress edits are coalesced, and every Retry-After is waited out.
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadProgress } from '../../src/slack/poster.js';
import { DEFAULT_LIMITS } from '../../src/sandbox/slack/workspace.js';
import { CHANNELS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from '../e2e/cluster.js';
import { blocksText, startBot } from '../e2e/harness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const WORKERS = 30;

describe('a busy channel under Slack’s real posting limit', () => {
  it('30 scale-gpu progress lines and the daily digest in the same minute: every message and thread whole', async () => {
    const cluster = await startCluster({ crashLoopApiPod: true, gpuNodes: 4, workers: 2, readyDelayMs: 50 });
    closers.push(() => cluster.close());
    const bot = await startBot({ config: clusterConfig(), services: cluster.services });
    closers.push(() => bot.close());
    const { emu, bot: app } = bot;
    const channel = CHANNELS.ops;
    // The default limits are Slack's; this test relies on them not being loosened.
    expect(emu.limits).toEqual(DEFAULT_LIMITS);
    const started = Date.now();
    // The channel has just taken a burst (alerts firing): from here on, every post meets the limit.
    for (let i = 1; i <= DEFAULT_LIMITS.postMessageBurst; i++) await app.poster.post({ channel }, `🔔 alert ${i} firing`);

    // A scale-gpu run as the bot runs one after Approve: a root, progress in its thread, one line per worker Ready.
    const scaling = (async () => {
      const root = (await app.poster.post({ channel }, '▶️ scale-gpu 30: running…')) as string;
      const progress = new ThreadProgress(app.poster, { channel, threadTs: root });
      for (let ready = 1; ready <= WORKERS; ready++) {
        await progress.update(`${ready}/${WORKERS} workers Ready`);
        await new Promise((r) => setTimeout(r, 40));
      }
      await progress.flush();
      await app.poster.report({ channel, threadTs: root }, { title: `scale-gpu ${WORKERS}`, status: 'ok', summary: `${WORKERS}/${WORKERS} workers Ready` });
      await app.poster.update(channel, root, `✅ scale-gpu ${WORKERS}: done`);
      return root;
    })();
    // The daily digest as the scheduler runs it: a root line, its progress and the digest in its thread.
    const digestRun = app.runScheduled(channel, { name: 'daily', command: 'digest daily --post' }, new Date());
    const [scaleRoot] = await Promise.all([scaling, digestRun]);
    await app.idle();
    const digestRunRoot = emu.messages.find((m) => m.channel === channel && !m.thread_ts && m.text.includes('Scheduled run daily')) as { ts: string; text: string };
    expect(digestRunRoot.text).toMatch(/Scheduled run daily .*: (done|failed) · /);

    // The limit was really met, and kept by the bot itself (src/slack/pacer.ts): more posts than the
    // burst went out, no faster than Slack's pace, so none needed to be refused...
    const posts = emu.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === channel);
    const sent = posts.filter((c) => c.ok);
    expect(sent.length).toBeGreaterThan(DEFAULT_LIMITS.postMessageBurst + 5);
    const spanSeconds = ((sent.at(-1)?.at ?? 0) - (sent[0]?.at ?? 0)) / 1000;
    expect(sent.length).toBeLessThanOrEqual(DEFAULT_LIMITS.postMessageBurst + Math.ceil(spanSeconds * DEFAULT_LIMITS.postMessagesPerSecond) + 1);
    const refused = posts.filter((c) => c.error === 'ratelimited');
    expect(refused.length, 'posts refused with 429').toBeLessThanOrEqual(1);
    // ...and one refused anyway (clocks a hair apart) is waited out: it came again only after its Retry-After, and arrived.
    for (const r of refused) {
      const again = posts.find((c) => c.at > r.at && c.args.text === r.args.text && c.args.thread_ts === r.args.thread_ts);
      expect(again, `the retry of "${String(r.args.text)}"`).toBeDefined();
      expect((again?.at ?? 0) - r.at).toBeGreaterThanOrEqual((r.retryAfter ?? 0) * 1000 - 20);
    }
    // Nothing else failed, and every post that was made arrived.
    expect(emu.calls.filter((c) => !c.ok && c.error !== 'ratelimited')).toEqual([]);
    expect(posts.filter((c) => c.ok)).toHaveLength(emu.messages.filter((m) => m.channel === channel).length);

    // The scale thread: one progress message edited in place, at most once a second, ending on the last line.
    const scaleThread = emu.threadOf(channel, scaleRoot);
    const progressMessages = scaleThread.filter((m) => m.text.startsWith('⏳'));
    expect(progressMessages).toHaveLength(1);
    const progress = progressMessages[0];
    expect(progress?.text).toBe(`⏳ ${WORKERS}/${WORKERS} workers Ready`);
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(progress?.updates.length ?? 0).toBeLessThanOrEqual(Math.ceil(elapsedSeconds) + 1);
    expect(progress?.updates.length ?? 0).toBeLessThan(WORKERS - 1);
    expect(blocksText(scaleThread.at(-1)?.blocks)).toContain(`${WORKERS}/${WORKERS} workers Ready`);
    expect(emu.messages.find((m) => m.ts === scaleRoot)?.text).toBe(`✅ scale-gpu ${WORKERS}: done`);

    // The digest: once, in the scheduled run's thread, details and all, in order; nothing of the scale run mixed in.
    expect(emu.messages.filter((m) => m.channel === channel && blocksText(m.blocks).includes('daily digest ·'))).toHaveLength(1);
    const digestThread = emu.threadOf(channel, digestRunRoot.ts);
    const details = blocksText(digestThread.map((m) => m.blocks));
    for (const part of ['ERROR lines (24 h)', 'Nodes', 'GPUs', 'TLS certificates', 'PVC usage']) expect(details).toContain(part);
    expect(details).not.toContain('workers Ready');
    const order = digestThread.map((m) => m.ts);
    expect([...order].sort()).toEqual(order);
    expect(elapsedSeconds).toBeLessThan(60);
  }, 90_000);
});
