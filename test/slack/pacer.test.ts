// Posts to one channel take turns at Slack's pace (about 1 a second, short bursts): held in
// the bot, not sent to draw 429s that every waiting post then retries at once.
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelPacer } from '../../src/slack/pacer.js';
import { SlackPoster } from '../../src/slack/poster.js';
import { SlackWorkspaceEmulator } from '../../src/sandbox/slack/index.js';

describe('ChannelPacer', () => {
  it('lets a burst of 3 go at once, then one a second, per channel, in call order', async () => {
    let clock = 0;
    const waits: Array<[string, number]> = [];
    const pacer = new ChannelPacer(1, 3, () => clock, async (ms) => void waits.push(['wait', ms]));
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
