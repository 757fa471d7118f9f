// Posts to one channel take turns at Slack's pace (about 1 a second, short bursts): held in
// the bot, not sent to draw 429s that every waiting post then retries at once.
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RatePacer, SLACK_EDITS_PER_MINUTE, SLACK_HOME_PUBLISHES_PER_MINUTE, slackPacers, tierPacer } from '../../src/slack/pacer.js';
import { DEFAULT_LIMITS, SlackWorkspace } from '../../src/sandbox/slack/workspace.js';
import { SlackPoster } from '../../src/slack/poster.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';

describe('RatePacer', () => {
  it('lets a burst of 3 go at once, then one a second, per channel, in call order', async () => {
    let clock = 0;
    const waits: Array<[string, number]> = [];
    const pacer = new RatePacer(1, 3, () => clock, async (ms) => void waits.push(['wait', ms]));
    for (let i = 0; i < 5; i++) await pacer.turn('C1');
    await pacer.turn('C2'); // another channel has its own pace
    expect(waits).toEqual([
      ['wait', 1000],
      ['wait', 2000],
    ]);
    clock = 10_000; // long quiet: the burst is back
    waits.length = 0;
    for (let i = 0; i < 3; i++) await pacer.turn('C1');
    expect(waits).toEqual([]);
  });
});

describe('SlackPoster against a workspace that keeps Slack’s per-channel limit', () => {
  let emu: SlackWorkspaceEmulator;
  beforeAll(async () => {
    emu = await SlackWorkspaceEmulator.start();
    emu.addChannel('C0PACED01', 'paced', { bot: true });
  });
  afterAll(async () => emu?.close());

  it('six answers to one channel at once all arrive, in order, with no 429 drawn', async () => {
    const poster = new SlackPoster(new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl }));
    await Promise.all(Array.from({ length: 6 }, (_, i) => poster.post({ channel: 'C0PACED01' }, `answer ${i}`)));
    expect(emu.messages.filter((m) => m.channel === 'C0PACED01').map((m) => m.text)).toEqual(Array.from({ length: 6 }, (_, i) => `answer ${i}`));
    expect(emu.calls.filter((c) => c.method === 'chat.postMessage' && !c.ok).map((c) => c.error)).toEqual([]);
  }, 15_000);
});

describe('edits keep to chat.update’s tier: one pace for the whole workspace', () => {
  it.each([
    ['chat.update', SLACK_EDITS_PER_MINUTE],
    ['views.publish', SLACK_HOME_PUBLISHES_PER_MINUTE],
  ])('the bot’s pace for %s never outruns the workspace’s allowance for its tier, over ten minutes of calls as fast as asked', async (method, perMinute) => {
    let clock = Date.parse('2026-12-06T12:00:00Z');
    const workspace = new SlackWorkspace({ now: () => clock });
    expect(DEFAULT_LIMITS.callsPerMinuteByTier[perMinute === 50 ? 3 : 4]).toBe(perMinute);
    const pacer = tierPacer(perMinute, { now: () => clock, wait: async (ms) => void (clock += ms) });
    const start = clock;
    let calls = 0;
    while (clock - start < 10 * 60_000) {
      await pacer.turn(method);
      expect(workspace.takeMethodToken(method)).toBeUndefined();
      calls++;
    }
    // Not far under it either: a burst of 40%, then 54% of it a minute.
    expect(calls).toBeGreaterThan(10 * 0.5 * perMinute);
  });

  it('two replicas, each pacing itself to its share, stay inside the tier together (a whole tier each would not)', async () => {
    // Both ask for edits as fast as they may, taking turns on one clock; a wait moves the clock.
    const refusedOver10Minutes = async (replicas: number) => {
      let clock = Date.parse('2026-12-06T12:00:00Z');
      const workspace = new SlackWorkspace({ now: () => clock });
      const tick = { now: () => clock, wait: async (ms: number) => void (clock += ms) };
      const bots = [slackPacers(replicas, tick), slackPacers(replicas, tick)];
      let refused = 0;
      for (const start = clock; clock - start < 10 * 60_000; ) {
        for (const bot of bots) {
          await bot.edits.turn('chat.update');
          if (workspace.takeMethodToken('chat.update') !== undefined) refused++;
        }
      }
      return refused;
    };
    expect(await refusedOver10Minutes(2)).toBe(0);
    expect(await refusedOver10Minutes(1)).toBeGreaterThan(0);
  });

  it('SlackPoster takes a turn for every edit, whatever the channel or message', async () => {
    const clock = 0;
    const waits: number[] = [];
    const sent: string[] = [];
    const client = { chat: { update: async (args: { channel: string; ts: string }) => void sent.push(`${args.channel}/${args.ts}`) } };
    const poster = new SlackPoster(client as unknown as ConstructorParameters<typeof SlackPoster>[0], new RatePacer(1000, 1000), new RatePacer(1, 3, () => clock, async (ms) => void waits.push(ms)));
    for (let i = 0; i < 5; i++) await poster.update(`C${i % 2}`, `1.00000${i}`, `edit ${i}`);
    expect(sent).toHaveLength(5);
    expect(waits).toEqual([1000, 2000]);
  });
});
