// Incident channels end to end, through Bolt and the Slack workspace emulator: a channel per
// incident with the commander and on-call invited and a pinned summary, roles, severity,
// updates, commands, approvals, 📌 marks and alerts in the timeline, the postmortem draft on
// resolve, follow-ups, the incidents channel's one line per incident, and the Declare button.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/core/store.js';
import type { Conversation } from '../../src/sandbox/slack/workspace.js';
import { CHANNELS, SRE_GROUP, USERS, testConfig } from '../fixtures/world.js';
import { alertBody, postAlert, serveAlerts } from './alert-server.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

let b: BotHarness;
let alerts: Awaited<ReturnType<typeof serveAlerts>>;
const store = new MemoryStore();

beforeAll(async () => {
  const config = testConfig();
  config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
  config.oncall = { group: SRE_GROUP };
  // Changes may run anywhere here (incident channels are made as incidents open).
  config.rbac = { ...config.rbac, changeChannels: undefined };
  b = await startBot({ config, store });
  alerts = await serveAlerts(b, config, store);
});
afterAll(async () => {
  await alerts?.close();
  await b?.close();
});

const shown = (m: { text: string; blocks?: unknown[] }) => `${m.text} ${blocksText(m.blocks)}`;
const today = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');
const rooms = () => [...b.emu.conversations.values()].filter((c) => c.name.startsWith('inc-'));
const roomNamed = (prefix: string) => b.emu.waitFor(() => rooms().find((c) => c.name.startsWith(prefix)));
const inRoom = (room: Conversation) => b.emu.messages.filter((m) => m.channel === room.id);
const summaryOf = (room: Conversation) => b.emu.waitFor(() => inRoom(room).find((m) => room.pins?.has(m.ts)));
const lineOf = (n: number) => b.emu.waitFor(() => b.emu.messages.find((m) => m.channel === CHANNELS.incidents && !m.thread_ts && m.text.includes(`Incident #${n} ·`)));
const ephemeralTo = async (user: string, before: number) => b.emu.waitFor(() => b.emu.ephemerals.slice(before).find((e) => e.user === user));

/** Types a command and waits for its ephemeral answer to the typist. */
async function typed(user: string, channel: string, text: string) {
  const before = b.emu.ephemerals.length;
  await b.slash(user, channel, text);
  return ephemeralTo(user, before);
}

describe('incident channels', () => {
  it('the whole lifecycle: channel, roles, severity, timeline, 📌, approvals, postmortem, follow-ups', { timeout: 30_000 }, async () => {
    // Outside text in the title: escaped wherever it shows, and never in the channel name.
    const ack = await typed(USERS.admin, CHANNELS.ops, 'incident open API p95 <!channel> über 2 s --sev 2');
    expect(ack.text).toContain('Incident #1 opened');
    const room = await roomNamed(`inc-${today()}-1-`);
    expect(room.name).toBe(`inc-${today()}-1-api-p95-channel-uber-2-s`);
    // The commander and the on-call group are in it; the bot created it.
    expect(b.emu.isMember(room, USERS.admin)).toBe(true);
    expect(b.emu.isMember(room, USERS.groupMember)).toBe(true);
    expect(b.emu.isMember(room, USERS.viewer)).toBe(false);
    expect(ack.text).toContain(`<#${room.id}>`);

    const summary = await summaryOf(room);
    expect(shown(summary)).toContain('SEV2');
    expect(shown(summary)).toContain(`<@${USERS.admin}>`);
    expect(shown(summary)).toContain('&lt;!channel&gt;');
    // (plain_text, as in the header, is never parsed by Slack.)
    expect(summary.text).not.toContain('<!channel>');
    const line = await lineOf(1);
    expect(shown(line)).toContain(`<#${room.id}>`);
    expect(shown(line)).toContain('SEV2 · open');

    // Roles: the new comms person is invited; the summary shows them.
    await typed(USERS.groupMember, room.id, `incident role comms <@${USERS.viewer}|vera>`);
    expect(b.emu.isMember(room, USERS.viewer)).toBe(true);
    await b.emu.waitFor(() => shown(summary).includes('Comms'));
    expect(shown(summary)).toContain(`<@${USERS.viewer}>`);

    await typed(USERS.viewer, room.id, 'incident sev 1');
    await b.emu.waitFor(() => shown(summary).includes('SEV1') && shown(line).includes('SEV1 · open'));
    expect(shown(summary)).toContain('changed severity SEV2 → SEV1');

    await typed(USERS.groupMember, room.id, 'incident update rolled back to v1.4.2');
    await b.emu.waitFor(() => inRoom(room).find((m) => shown(m).includes('Update on incident #1')));

    // A command run in the channel, and a change with its approval and outcome.
    await b.slash(USERS.groupMember, room.id, 'whoami');
    await b.emu.waitFor(() => shown(summary).includes('ran `whoami`'));
    await b.slash(USERS.admin, room.id, 'test-change 2');
    const card = await b.card(room.id);
    await b.click(USERS.approver, room.id, card.message.ts, 'vlinders_approve');
    await b.emu.waitFor(() => shown(summary).includes('outcome of `test-change 2`: ok'), 10_000);
    expect(shown(summary)).toContain('approved `test-change 2`');

    // 📌 on a person's message quotes it in the timeline; other emoji don't.
    const said = b.emu.userPosts(room.id, USERS.groupMember, 'db failover started at 12:03');
    await b.react(USERS.viewer, room.id, said.ts, 'eyes');
    const pinned = await b.react(USERS.viewer, room.id, said.ts, 'pushpin');
    await b.emu.waitFor(() => shown(summary).includes('📌 marked “db failover started at 12:03”'));
    // Slack delivers the same event again (as it does when an answer is late): it is recorded once.
    if (!('event' in pinned)) throw new Error('an HTTP delivery carries its event');
    expect((await b.emu.deliverEvent(b.url, pinned.event, { retryNum: 1 })).status).toBe(200);
    await b.bot.idle();

    await typed(USERS.admin, room.id, 'incident resolve bad deploy, rolled back');
    const draft = await b.emu.waitFor(() => b.emu.uploads.find((u) => u.channel === room.id && u.filename === 'postmortem-incident-1.md'));
    expect(draft.content).toMatch(/^# Postmortem draft: incident #1, API p95 &lt;\\!channel&gt; über 2 s/);
    for (const heading of ['## Impact', '## Timeline', '## Actions taken', '## Causes', '## Follow-ups']) expect(draft.content).toContain(heading);
    const actions = draft.content.split('## Actions taken')[1]?.split('## Causes')[0] ?? '';
    expect(actions).toContain('approved \\`test\\-change 2\\`');
    expect(actions).toContain('ran \\`whoami\\`');
    expect(actions).not.toContain('changed severity');
    // Only the 📌 was looked at and recorded (the 👀 on the same message was not).
    expect(b.emu.calls.filter((c) => c.method === 'conversations.history')).toHaveLength(1);
    expect(draft.content.match(/📌 marked “db failover started at 12:03”/g)).toHaveLength(1);
    expect(draft.content).toMatch(/Incident open from \S+ to \S+ \(\d+ min\)/);
    await b.emu.waitFor(() => shown(line).includes('SEV1 · resolved'));
    expect(shown(summary)).toMatch(/Status[^]*resolved/);

    // A follow-up after resolve: a fresh draft that lists it.
    await typed(USERS.viewer, room.id, 'incident follow-up page on p95 > 1.5 s for 5 min');
    const second = await b.emu.waitFor(() => b.emu.uploads.filter((u) => u.channel === room.id && u.filename === 'postmortem-incident-1.md')[1]);
    expect(second.content).toContain('- [ ] page on p95 &gt; 1\\.5 s for 5 min');
    // One line per incident in the incidents channel, updated in place.
    expect(b.emu.messages.filter((m) => m.channel === CHANNELS.incidents && m.text.includes('Incident #1 ·'))).toHaveLength(1);
    expect(line.updates.length).toBeGreaterThan(2);
  });

  it('declared from an alert thread: linked, its resolution in the timeline, its span as the impact; a viewer may not declare', { timeout: 30_000 }, async () => {
    const labels = { alertname: 'KubePodCrashLooping', namespace: 'vlinders-platform', pod: 'ray-head-0', severity: 'critical' };
    const groupKey = '{}:{alertname="KubePodCrashLooping"}';
    expect((await postAlert(alerts.url, alertBody(labels, groupKey))).status).toBe(200);
    const root = await b.emu.waitFor(() => b.emu.messages.find((m) => m.channel === CHANNELS.incidents && !m.thread_ts && m.text.includes('KubePodCrashLooping')));
    const offer = await b.emu.waitFor(() => b.emu.threadOf(CHANNELS.incidents, root.ts).find((m) => shown(m).includes('Declare incident')));

    const before = b.emu.ephemerals.length;
    const roomsBefore = rooms().length;
    await b.click(USERS.viewer, CHANNELS.incidents, offer.ts, 'Declare incident');
    expect((await ephemeralTo(USERS.viewer, before)).text).toMatch(/role/);
    expect(rooms()).toHaveLength(roomsBefore);

    await b.click(USERS.admin, CHANNELS.incidents, offer.ts, 'Declare incident');
    const room = await roomNamed(`inc-${today()}-${roomsBefore + 1}-kubepodcrashlooping`);
    const summary = await summaryOf(room);
    expect(shown(summary)).toContain('SEV2');
    expect(shown(summary)).toContain(`https://${b.emu.teamDomain}.slack.com/archives/${CHANNELS.incidents}/p${root.ts.replace('.', '')}`);

    // The alert resolves: the incident hears of it.
    const resolved = JSON.parse(alertBody(labels, groupKey)) as { status: string; alerts: Array<Record<string, unknown>> };
    resolved.status = 'resolved';
    resolved.alerts = resolved.alerts.map((a) => ({ ...a, status: 'resolved', endsAt: '2018-03-07T12:03:21Z' }));
    expect((await postAlert(alerts.url, JSON.stringify(resolved))).status).toBe(200);
    // The thread's reply and root come first, at Slack's pace of about a post a second per channel.
    await b.emu.waitFor(() => shown(summary).includes('alert KubePodCrashLooping: resolved'), 10_000);

    await typed(USERS.admin, room.id, 'incident resolve');
    const draft = await b.emu.waitFor(() => b.emu.uploads.find((u) => u.channel === room.id && u.filename.startsWith('postmortem-incident-')));
    // The captured alert started 2018-03-07T06:33:21.873-05:00; it ended at 12:03:21Z.
    expect(draft.content).toContain('Alert KubePodCrashLooping fired from 2018-03-07T11:33:21Z to 2018-03-07T12:03:21Z (30 min)');
  });

  it('bad input gets an ephemeral answer and changes nothing', { timeout: 30_000 }, async () => {
    const n = rooms().length + 1;
    await typed(USERS.admin, CHANNELS.ops, 'incident open Disk full');
    const room = await roomNamed(`inc-${today()}-${n}-disk-full`);
    const summary = await summaryOf(room);
    const shownBefore = shown(summary);
    const cases: Array<[string, string, string, RegExp]> = [
      [USERS.admin, room.id, 'incident role boss <@U0VIEWER1>', /the role is commander or comms, not "boss"/],
      [USERS.admin, room.id, 'incident role comms vera', /name one person with an @mention/],
      [USERS.admin, room.id, 'incident sev 7', /severity is 1 \(worst\) to 4, not "7"/],
      [USERS.admin, room.id, 'incident sev 3', /already is SEV3/],
      [USERS.admin, CHANNELS.ops, 'incident sev 2', /works inside an incident's channel/],
      [USERS.admin, CHANNELS.ops, 'incident update the disk is fine', /works inside an incident's channel/],
      [USERS.admin, CHANNELS.ops, 'incident follow-up more disk', /works inside an incident's channel/],
      [USERS.admin, CHANNELS.ops, 'incident update #99 hello', /No incident #99/],
      [USERS.admin, CHANNELS.ops, 'incident open Disk full --sev 7', /severity is 1 \(worst\) to 4/],
      [USERS.viewer, CHANNELS.incidents, 'incident open Disk full', /role/],
      [USERS.stranger, CHANNELS.incidents, 'incident update #1 hi', /role/],
    ];
    // (`incident open` with no title opens its form instead: test/e2e/surfaces.test.ts.)
    for (const [user, channel, text, expected] of cases) {
      const answer = await typed(user, channel, text);
      expect(answer.text, text).toMatch(expected);
    }
    expect(shown(summary)).toBe(shownBefore);
    // Outside any incident's channel, the open ones are listed with their channels.
    const listed = await typed(USERS.admin, CHANNELS.ops, 'incident resolve');
    expect(listed.text).toMatch(new RegExp(`#\\d+ in <#${room.id}>`));
    // Someone already in the channel (on call) can take a role: Slack's already_in_channel is no failure.
    const handover = await typed(USERS.admin, room.id, `incident role commander <@${USERS.groupMember}>`);
    expect(handover.text).toContain(`commander is now <@${USERS.groupMember}>`);
    // The summary's edit takes its turn within chat.update's pace for the workspace (this suite has
    // made many); the answer above didn't wait for it.
    await b.emu.waitFor(() => shown(summary).includes(`*Commander*\\n<@${USERS.groupMember}>`), 15_000);
  });

  it('a command typed in an incident’s channel is answered at once; the summary’s edit for its timeline entry follows when Slack takes it', { timeout: 30_000 }, async () => {
    const n = rooms().length + 1;
    await typed(USERS.admin, CHANNELS.ops, 'incident open Slow edits --sev 3');
    const room = await roomNamed(`inc-${today()}-${n}-slow-edits`);
    const summary = await summaryOf(room);
    await b.bot.idle();
    // Slack holds the next edits (the summary's and the line's) 4 s each.
    b.emu.slowNext('chat.update', 4000, 2);
    const asked = performance.now();
    await b.slash(USERS.admin, room.id, 'whoami');
    await b.emu.waitFor(() => inRoom(room).find((m) => blocksText(m.blocks).includes('/vlinders whoami')));
    expect(performance.now() - asked).toBeLessThan(2000);
    await b.emu.waitFor(() => shown(summary).includes('ran `whoami`'), 15_000);
    // An edit Slack refuses is logged; the update itself was recorded and said, and is answered.
    await b.bot.idle();
    b.emu.failNext('chat.update', 'message_not_found', 2);
    const answer = await typed(USERS.admin, room.id, 'incident update edits refused');
    expect(answer.text).not.toContain('❌');
    await b.emu.waitFor(() => inRoom(room).find((m) => shown(m).includes('edits refused')));
    await b.bot.idle();
    expect(b.log.lines.filter((l) => l.msg === 'could not edit an incident summary')).toHaveLength(2);
  });

  it('a follow-up after the incident’s channel was archived goes to its line’s thread in the incidents channel, with the fresh draft', { timeout: 30_000 }, async () => {
    const n = rooms().length + 1;
    await typed(USERS.admin, CHANNELS.ops, 'incident open Archived later --sev 3');
    const room = await roomNamed(`inc-${today()}-${n}-archived-later`);
    await typed(USERS.admin, room.id, 'incident resolve fixed');
    await b.emu.waitFor(() => b.emu.uploads.find((u) => u.channel === room.id && u.filename === `postmortem-incident-${n}.md`));
    await b.bot.idle();
    // The team archives the channel, as teams do once an incident is over.
    b.emu.archive(room.id);
    const answer = await typed(USERS.admin, CHANNELS.incidents, `incident follow-up #${n} add a disk alert`);
    expect(answer.text).not.toContain('❌');
    const line = await lineOf(n);
    await b.emu.waitFor(() => b.emu.threadOf(CHANNELS.incidents, line.ts).find((m) => shown(m).includes('add a disk alert')));
    const draft = await b.emu.waitFor(() => b.emu.uploads.find((u) => u.channel === CHANNELS.incidents && u.filename === `postmortem-incident-${n}.md`));
    expect(draft.content).toContain('- [ ] add a disk alert');
    await b.bot.idle();
    const stored = (await store.list<{ number: number; followUps?: string[] }>('incident')).map((e) => e.entry.value).find((i) => i.number === n);
    expect(stored?.followUps).toEqual(['add a disk alert']);
  });

  it('--commander names the commander: invited with the caller and on-call, shown in the summary, the line and the ack', { timeout: 30_000 }, async () => {
    const n = rooms().length + 1;
    // How Slack sends `@ana` typed in a slash command with should_escape: `<@U…|name>`.
    const ack = await typed(USERS.admin, CHANNELS.ops, `incident open Kong 502s --sev 2 --commander <@${USERS.approver}|ana>`);
    expect(ack.text).toContain(`<@${USERS.approver}> is commander`);
    const room = await roomNamed(`inc-${today()}-${n}-kong-502s`);
    for (const member of [USERS.approver, USERS.admin, USERS.groupMember]) expect(b.emu.isMember(room, member), member).toBe(true);
    const summary = await summaryOf(room);
    expect(shown(summary)).toContain(`*Commander*\\n<@${USERS.approver}>`);
    expect(shown(summary)).toContain(`with <@${USERS.approver}> as commander`);
    const line = await b.emu.waitFor(() => b.emu.messages.find((m) => m.channel === CHANNELS.incidents && !m.thread_ts && m.text.includes('Kong 502s')));
    await b.emu.waitFor(() => shown(line).includes(`commander <@${USERS.approver}>`));
  });

  it('--commander that is no person: a clear answer, and no channel, incident or invite', { timeout: 30_000 }, async () => {
    const before = { rooms: rooms().length, creates: b.emu.calls.filter((c) => c.method === 'conversations.create').length };
    for (const commander of ['bob', '@bob', `<#${CHANNELS.ops}>`, '<!channel>', 'U0', `<@${USERS.approver}>x`]) {
      const answer = await typed(USERS.admin, CHANNELS.ops, `incident open Disk full --commander '${commander}'`);
      expect(answer.text, commander).toMatch(/--commander: name one person with an @mention/);
    }
    expect(rooms()).toHaveLength(before.rooms);
    expect(b.emu.calls.filter((c) => c.method === 'conversations.create')).toHaveLength(before.creates);
  });

  it('a commander Slack has no such person for: the others are still invited, and the summary says who could not be', { timeout: 30_000 }, async () => {
    const n = rooms().length + 1;
    await typed(USERS.admin, CHANNELS.ops, 'incident open Redis evictions --commander <@U0NOBODY1>');
    const room = await roomNamed(`inc-${today()}-${n}-redis-evictions`);
    expect(b.emu.isMember(room, USERS.admin)).toBe(true);
    expect(b.emu.isMember(room, USERS.groupMember)).toBe(true);
    expect(shown(await summaryOf(room))).toContain('could not invite everyone: user_not_found');
  });

  it('the form asks the commander with a users_select; its submission goes through the command as typed', { timeout: 30_000 }, async () => {
    const n = rooms().length + 1;
    await b.slash(USERS.admin, CHANNELS.incidents, 'incident open');
    await b.emu.waitFor(() => b.emu.topModal(USERS.admin));
    const held = b.emu.fillModal(USERS.admin, { title: 'Qdrant slow', sev: '2', commander: USERS.operator });
    const input = (held.view.blocks as Array<{ block_id?: string; element?: Record<string, unknown> }>).find((bl) => bl.block_id === 'commander');
    expect(input?.element).toMatchObject({ type: 'users_select', action_id: 'commander', initial_user: USERS.admin });
    // What the view_submission carries: state.values[block_id][action_id].selected_user (Slack's ViewStateValue).
    expect(held.values.commander).toEqual({ commander: { type: 'users_select', selected_user: USERS.operator } });
    // Slack's client offers only the workspace's people.
    expect(() => b.emu.fillModal(USERS.admin, { commander: 'U0NOBODY1' })).toThrow(/not a user/);
    expect(await b.emu.submitModal(b.url, USERS.admin)).toEqual({ result: 'closed' });
    const room = await roomNamed(`inc-${today()}-${n}-qdrant-slow`);
    expect(b.emu.isMember(room, USERS.operator)).toBe(true);
    const summary = await summaryOf(room);
    expect(shown(summary)).toContain(`*Commander*\\n<@${USERS.operator}>`);
    expect(shown(summary)).toContain('SEV2');
    // The same RBAC as typed: a viewer's submission is refused on the form, and nothing opens.
    await b.slash(USERS.viewer, CHANNELS.incidents, 'incident open');
    await b.emu.waitFor(() => b.emu.topModal(USERS.viewer));
    const refused = await b.emu.submitModal(b.url, USERS.viewer, { title: 'Qdrant slower', commander: USERS.viewer });
    expect(refused).toMatchObject({ result: 'errors', errors: { title: expect.stringMatching(/role/) } });
    expect(rooms().some((c) => c.name.includes('qdrant-slower'))).toBe(false);
  });

  it('the same title on the same day: n moves on, past names Slack already has', { timeout: 30_000 }, async () => {
    // A channel of that name exists already (archived, made by hand): Slack says name_taken.
    const n = rooms().length + 1;
    b.emu.addChannel('CTAKEN001', `inc-${today()}-${n}-gpu-node-down`);
    await typed(USERS.admin, CHANNELS.ops, 'incident open GPU node down');
    await roomNamed(`inc-${today()}-${n + 1}-gpu-node-down`);
    await typed(USERS.admin, CHANNELS.ops, 'incident open GPU node down');
    await roomNamed(`inc-${today()}-${n + 2}-gpu-node-down`);
    expect(b.emu.calls.filter((c) => c.method === 'conversations.create' && c.error === 'name_taken').length).toBeGreaterThanOrEqual(1);
  });

  it('over Socket Mode too: the 📌 arrives as an events_api envelope and is acked', { timeout: 30_000 }, async () => {
    const config = testConfig();
    config.alerts = { ...config.alerts, channel: CHANNELS.incidents };
    const socket = await startBot({ config, mode: 'socket' });
    try {
      await socket.slash(USERS.admin, CHANNELS.ops, 'incident open Queue backs up');
      const room = await socket.emu.waitFor(() => [...socket.emu.conversations.values()].find((c) => c.name.startsWith('inc-') && c.pins?.size));
      const said = socket.emu.userPosts(room.id, USERS.admin, 'queue drained');
      const ack = await socket.react(USERS.admin, room.id, said.ts, 'pushpin');
      expect(ack).toMatchObject({ envelope_id: expect.any(String) });
      const summary = await socket.emu.waitFor(() => socket.emu.messages.find((m) => room.pins?.has(m.ts)));
      await socket.emu.waitFor(() => shown(summary).includes('📌 marked “queue drained”'));
    } finally {
      await socket.close();
    }
  });
});
