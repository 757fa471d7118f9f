// Declared incidents end to end, through Bolt and the Slack workspace emulator:
// `incident open|update|resolve`, the root message updated in place, and the timeline.
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNELS, USERS, testConfig } from '../fixtures/world.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function bot(): Promise<BotHarness> {
  const config = testConfig();
  config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
  const b = await startBot({ config });
  closers.push(() => b.close());
  return b;
}

// Incident roots only: other commands run in the channel answer there too (whoami below).
const roots = (b: BotHarness) => b.emu.messages.filter((m) => m.channel === CHANNELS.incidents && !m.thread_ts && m.text.includes('Incident #'));
const shown = (m: { text: string; blocks?: unknown[] }) => `${m.text} ${blocksText(m.blocks)}`;

describe('incidents', () => {
  it('open, update, resolve: one thread, the root updated in place, commands in the timeline', async () => {
    const b = await bot();
    await b.slash(USERS.viewer, CHANNELS.ops, 'incident open API p95 over 2 s --sev 2');
    const root = await b.emu.waitFor(() => roots(b)[0]);
    expect(shown(root)).toContain('Incident #1: API p95 over 2 s');
    expect(shown(root)).toContain('SEV2');
    expect(shown(root)).toContain(`<@${USERS.viewer}>`);
    expect(shown(root)).toMatch(/Status[^]*open/);
    const ack = await b.emu.waitFor(() => b.emu.ephemerals.find((e) => e.user === USERS.viewer));
    expect(shown(ack)).toContain('Incident #1 opened');

    // No #N: the only open incident. A reply in the thread, the root edited (not reposted).
    await b.slash(USERS.groupMember, CHANNELS.incidents, 'incident update rolled back to v1.4.2');
    const reply = await b.emu.waitFor(() => b.emu.threadOf(CHANNELS.incidents, root.ts).find((m) => shown(m).includes('rolled back to v1.4.2')));
    expect(reply.thread_ts).toBe(root.ts);
    await b.emu.waitFor(() => root.updates.find((u) => shown(u).includes('rolled back to v1.4.2')));

    // Another command run in the incidents channel lands in the timeline.
    await b.slash(USERS.groupMember, CHANNELS.incidents, 'whoami');
    await b.emu.waitFor(() => root.updates.find((u) => shown(u).includes('ran `whoami`')));

    await b.slash(USERS.admin, CHANNELS.incidents, 'incident resolve #1 bad deploy, rolled back');
    await b.emu.waitFor(() => root.updates.find((u) => shown(u).includes('Resolved: bad deploy, rolled back')));
    expect(shown(root)).toMatch(/Status[^]*resolved/);
    expect(shown(root)).toContain('opened it as SEV2');
    expect(shown(root)).toContain('update: rolled back to v1.4.2');
    expect(shown(root)).toContain('ran `whoami`');
    expect(roots(b)).toHaveLength(1);
    expect(b.emu.threadOf(CHANNELS.incidents, root.ts).filter((m) => m.thread_ts)).toHaveLength(2);

    // Resolved: later commands in the channel are not recorded, and updates are refused.
    await b.slash(USERS.groupMember, CHANNELS.incidents, 'incident update #1 still here?');
    const refused = await b.emu.waitFor(() => b.emu.ephemerals.find((e) => shown(e).includes('is resolved')));
    expect(refused.user).toBe(USERS.groupMember);
  });

  it('bad input gets an ephemeral answer and posts nothing', async () => {
    const b = await bot();
    const cases: Array<[string, RegExp]> = [
      ['incident open Disk full --sev 7', /severity is 1 \(worst\) to 4/],
      ['incident open', /&lt;title&gt; is required/],
      ['incident update the db is back', /No incident is open/],
      ['incident resolve', /No incident is open/],
      ['incident update #9 hello', /No incident #9/],
    ];
    for (const [text, expected] of cases) {
      const before = b.emu.ephemerals.length;
      await b.slash(USERS.viewer, CHANNELS.incidents, text);
      const answer = await b.emu.waitFor(() => b.emu.ephemerals[before]);
      expect(answer.user).toBe(USERS.viewer);
      expect(answer.text).toMatch(expected);
    }
    // No role at all: denied like any other command.
    {
      const before = b.emu.ephemerals.length;
      await b.slash(USERS.stranger, CHANNELS.incidents, 'incident open Disk full');
      const answer = await b.emu.waitFor(() => b.emu.ephemerals[before]);
      expect(answer.user).toBe(USERS.stranger);
      expect(answer.text).toMatch(/role/);
    }
    expect(b.emu.messages).toHaveLength(0);
  });

  it('with two incidents open, asks which one rather than guess', async () => {
    const b = await bot();
    await b.slash(USERS.viewer, CHANNELS.incidents, 'incident open Disk full');
    await b.emu.waitFor(() => roots(b)[0]);
    await b.slash(USERS.viewer, CHANNELS.incidents, 'incident open GPU node down --sev 1');
    const second = await b.emu.waitFor(() => roots(b)[1]);
    expect(shown(second)).toContain('Incident #2: GPU node down');
    expect(shown(second)).toContain('SEV1');

    const before = b.emu.ephemerals.length;
    await b.slash(USERS.viewer, CHANNELS.incidents, 'incident update node drained');
    const asked = await b.emu.waitFor(() => b.emu.ephemerals.slice(before).find((e) => e.text.includes('incidents are open')));
    expect(asked.text).toContain('#1 Disk full');
    expect(b.emu.messages.filter((m) => m.thread_ts)).toHaveLength(0);

    await b.slash(USERS.viewer, CHANNELS.incidents, 'incident update #2 node drained');
    const reply = await b.emu.waitFor(() => b.emu.messages.find((m) => m.thread_ts));
    expect(reply.thread_ts).toBe(second.ts);
  });
});
