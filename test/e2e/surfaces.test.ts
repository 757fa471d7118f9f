// The App Home tab, command forms (modals) and shortcuts end to end: the Slack emulator plays the
// person (opening Home, filling and submitting modals, typing into a select, running shortcuts)
// against the real Bolt app, on a seeded Kubernetes world.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOCKET, validateView, type HeldView } from '../../src/sandbox/slack/index.js';
import { RatePacer, SLACK_HOME_PUBLISHES_PER_MINUTE } from '../../src/slack/pacer.js';
import { CHANNELS, USERS } from '../fixtures/world.js';
import { clusterConfig, startCluster } from './cluster.js';
import { blocksText, startBot, type BotHarness } from './harness.js';

let bot: BotHarness;
let cluster: Awaited<ReturnType<typeof startCluster>>;

/** views.publish's pace (Tier 4), as the bot's own, noting each turn taken. */
class WatchedPace extends RatePacer {
  readonly turns: string[] = [];
  override async turn(key: string): Promise<void> {
    this.turns.push(key);
    return super.turn(key);
  }
}
const homePace = new WatchedPace(SLACK_HOME_PUBLISHES_PER_MINUTE / 60, SLACK_HOME_PUBLISHES_PER_MINUTE * 0.4);

beforeAll(async () => {
  // 150 pods beside the platform's in vlinders-platform: more than a static select holds.
  cluster = await startCluster({ gpuNodes: 6, workers: 3, readyDelayMs: 50, extraPods: 150, extraPodsNamespace: 'vlinders-platform' });
  const config = clusterConfig();
  config.alerts.channel = CHANNELS.incidents;
  bot = await startBot({ config, services: cluster.services, homePace });
}, 30_000);

afterAll(async () => {
  await bot?.close();
  await cluster?.close();
});

const emu = () => bot.emu;
const buttons = (view: HeldView | undefined) => [...blocksText(view?.view.blocks).matchAll(/"value":"([^"]+)"/g)].map((m) => m[1]);
const publishedFor = (user: string) => emu().calls.filter((c) => c.method === 'views.publish' && c.ok && c.args.user_id === user).length;

async function homeOf(user: string): Promise<HeldView> {
  const before = publishedFor(user);
  await emu().openHome(bot.url, user);
  await emu().waitFor(() => publishedFor(user) > before, 8000);
  return emu().homeOf(user) as HeldView;
}

/** Types `/vlinders <text>` and waits for the modal it opens. */
async function modalFrom(user: string, channel: string, text: string): Promise<HeldView> {
  const before = emu().topModal(user)?.id;
  await bot.slash(user, channel, text);
  return emu().waitFor(() => {
    const top = emu().topModal(user);
    return top && top.id !== before ? top : undefined;
  }, 8000);
}

describe('App Home', () => {
  it("shows each cluster's health, the GPU fleet, backups and the commands the person may run as buttons", async () => {
    const home = await homeOf(USERS.operator);
    const text = blocksText(home.view.blocks);
    expect(validateView(home.view)).toEqual([]);
    expect(text).toContain('*test*: ');
    expect(text).toMatch(/nodes Ready/);
    expect(text).toMatch(/GPU fleet\*: 6 GPU nodes, \d+\/6 GPUs requested/);
    expect(text).toContain('backups not configured');
    expect(text).toContain(`For <@${USERS.operator}>`);
    // An operator (in #ops) may scale; a viewer may not, and sees no such button.
    expect(buttons(home)).toEqual(expect.arrayContaining(['scale-gpu', 'restart', 'status', 'incident open']));
    const viewerHome = await homeOf(USERS.viewer);
    expect(buttons(viewerHome)).toContain('status');
    expect(buttons(viewerHome)).not.toContain('scale-gpu');
    expect(buttons(viewerHome)).not.toContain('model update');
  });

  it('opened again while its Home is being published, it is built once more afresh for all who asked meanwhile, not once each', async () => {
    const before = publishedFor(USERS.admin);
    // Slack takes a second over the first publish: nine more opens arrive meanwhile.
    emu().slowNext('views.publish', 1000);
    await emu().openHome(bot.url, USERS.admin);
    await new Promise((r) => setTimeout(r, 300));
    await Promise.all(Array.from({ length: 9 }, () => emu().openHome(bot.url, USERS.admin)));
    await emu().waitFor(() => publishedFor(USERS.admin) >= before + 2, 8000);
    await new Promise((r) => setTimeout(r, 500));
    expect(publishedFor(USERS.admin) - before).toBe(2);
    expect(blocksText(emu().homeOf(USERS.admin)?.view.blocks)).toContain(`For <@${USERS.admin}>`);
  });

  it('every Home publish takes its turn in views.publish’s pace (Tier 4, for the whole workspace)', async () => {
    const [turnsBefore, publishesBefore] = [homePace.turns.length, emu().calls.filter((c) => c.method === 'views.publish').length];
    for (const user of [USERS.viewer, USERS.operator, USERS.approver]) await homeOf(user);
    const publishes = emu().calls.filter((c) => c.method === 'views.publish').length - publishesBefore;
    expect(publishes).toBe(3);
    expect(homePace.turns.slice(turnsBefore)).toEqual(['views.publish', 'views.publish', 'views.publish']);
  });

  it('shows nothing of the platform to someone without a role', async () => {
    const home = await homeOf(USERS.stranger);
    const text = blocksText(home.view.blocks);
    expect(text).toContain('You hold no vlinders-ops role');
    expect(text).not.toContain('GPU fleet');
    expect(buttons(home)).toEqual([]);
  });

  it('a Home button opens the command form, which asks where to run it', async () => {
    await homeOf(USERS.operator);
    await emu().clickInView(bot.url, USERS.operator, 'home', 'status');
    const modal = await emu().waitFor(() => emu().topModal(USERS.operator));
    expect(blocksText(modal.view.blocks)).toContain('conversations_select');
    // The operator holds a role in #ops only: there, not in #general.
    expect(await emu().submitModal(bot.url, USERS.operator, { channel: CHANNELS.general })).toMatchObject({ result: 'errors', errors: { channel: expect.stringContaining('no vlinders-ops role in this channel') } });
    expect(await emu().submitModal(bot.url, USERS.operator, { channel: CHANNELS.ops })).toEqual({ result: 'closed' });
    const report = await emu().waitFor(() => emu().messages.find((m) => m.channel === CHANNELS.ops && blocksText(m.blocks).includes('nodes Ready')), 8000);
    expect(blocksText(report.blocks)).toContain(`<@${USERS.operator}> ran`);
  });

  it("a form from Home reads where the person holds a role (an operator's in #ops, not the DM)", async () => {
    await homeOf(USERS.operator);
    await emu().clickInView(bot.url, USERS.operator, 'home', 'restart');
    const modal = await emu().waitFor(() => emu().topModal(USERS.operator), 8000);
    expect(blocksText(modal.view.blocks)).toContain('vlinders-platform/vlinders-api');
    await emu().closeModal(bot.url, USERS.operator);
  });
});

describe('the scale-gpu form', () => {
  it('shows the worker groups with current/min/max; its submission plans, is approved and runs; Home refreshes after', async () => {
    const modal = await modalFrom(USERS.operator, CHANNELS.ops, 'scale-gpu');
    expect(validateView(modal.view)).toEqual([]);
    const text = blocksText(modal.view.blocks);
    expect(text).toContain('gpu-workers · 3 now (1-8)');
    expect(text).toContain('gpu-workers: current 3, minimum 1, maximum 8');
    const publishedBefore = publishedFor(USERS.operator);
    expect(await emu().submitModal(bot.url, USERS.operator, { group: 'gpu-workers', replicas: '4', reason: 'evening traffic' })).toEqual({ result: 'closed' });
    const card = await bot.card(CHANNELS.ops);
    expect(blocksText(card.message.blocks)).toContain('3 → 4');
    expect(blocksText(card.message.blocks)).toContain('reason: evening traffic');
    await bot.click(USERS.operator, CHANNELS.ops, card.message.ts, 'vlinders_approve');
    await emu().waitFor(() => /^✅ Done/.test(card.message.text), 15_000);
    const rc = cluster.kube.get('ray.io/v1', 'RayCluster', 'vlinders-inference', 'vlinders-ray-cluster');
    expect((rc?.spec as { workerGroupSpecs: Array<{ replicas: number }> }).workerGroupSpecs[0]?.replicas).toBe(4);
    // Published when it started and again when it ended.
    await emu().waitFor(() => publishedFor(USERS.operator) >= publishedBefore + 2, 8000);
  });

  it('a count outside the group range comes back on the replicas field, and nothing is planned', async () => {
    await modalFrom(USERS.operator, CHANNELS.ops, 'scale-gpu');
    const cards = emu().messages.length;
    const outcome = await emu().submitModal(bot.url, USERS.operator, { group: 'gpu-workers', replicas: '9', reason: 'test' });
    expect(outcome).toMatchObject({ result: 'errors', errors: { replicas: expect.stringContaining('outside gpu-workers') } });
    expect(emu().messages.length).toBe(cards);
    await emu().closeModal(bot.url, USERS.operator);
  });

  it('an unknown worker group (a stale option) comes back on the group field', async () => {
    const modal = await modalFrom(USERS.operator, CHANNELS.ops, 'scale-gpu');
    // The group was renamed after the form opened: the option the person picked no longer exists.
    (modal.values.group as Record<string, Record<string, unknown>>).group = { type: 'static_select', selected_option: { text: { type: 'plain_text', text: 'gone' }, value: 'gone-workers' } };
    const outcome = await emu().submitModal(bot.url, USERS.operator, { replicas: '5', reason: 'test' });
    expect(outcome).toMatchObject({ result: 'errors', errors: { group: expect.stringContaining('no worker group "gone-workers"') } });
    await emu().closeModal(bot.url, USERS.operator);
  });

  it("a viewer's submission is refused by RBAC on the form, and nothing is planned", async () => {
    await modalFrom(USERS.viewer, CHANNELS.ops, 'scale-gpu');
    const cards = emu().messages.length;
    const outcome = await emu().submitModal(bot.url, USERS.viewer, { group: 'gpu-workers', replicas: '5', reason: 'please' });
    expect(outcome).toMatchObject({ result: 'errors', errors: { group: expect.stringContaining('needs the operator role; you are viewer') } });
    expect(emu().messages.length).toBe(cards);
    await emu().closeModal(bot.url, USERS.viewer);
  });

  it('an expired trigger_id: no modal, and the person is told', async () => {
    const ttl = emu().limits.triggerTtlMs;
    emu().limits.triggerTtlMs = 0;
    emu().slowNext('views.open', 30);
    try {
      await bot.slash(USERS.operator, CHANNELS.ops, 'scale-gpu');
      const told = await emu().waitFor(() => emu().ephemerals.find((e) => e.user === USERS.operator && e.text.includes('took too long')), 8000);
      expect(told.channel).toBe(CHANNELS.ops);
      expect(emu().calls.some((c) => c.method === 'views.open' && c.error === 'expired_trigger_id')).toBe(true);
      expect(emu().topModal(USERS.operator)).toBeUndefined();
    } finally {
      emu().limits.triggerTtlMs = ttl;
    }
  });
});

describe('the model update form', () => {
  it('asks for the model, a revision and a reason; a malformed id comes back on the model field', async () => {
    const modal = await modalFrom(USERS.admin, CHANNELS.ops, 'model update');
    expect(validateView(modal.view)).toEqual([]);
    const outcome = await emu().submitModal(bot.url, USERS.admin, { model: 'not a model id', reason: 'newer weights' });
    expect(outcome).toMatchObject({ result: 'errors', errors: { model: expect.any(String) } });
    await emu().closeModal(bot.url, USERS.admin);
  });
});

describe('selects of deployments and pods', () => {
  it('restart offers the deployments in a static select', async () => {
    const modal = await modalFrom(USERS.operator, CHANNELS.ops, 'restart');
    expect(blocksText(modal.view.blocks)).toContain('"type":"static_select"');
    expect(await emu().submitModal(bot.url, USERS.operator, { target: 'vlinders-platform/vlinders-api' })).toEqual({ result: 'closed' });
    const card = await emu().waitFor(() => [...emu().messages].reverse().find((m) => m.channel === CHANNELS.ops && blocksText(m.blocks).includes('vlinders_approve') && blocksText(m.blocks).includes('vlinders-api')), 8000);
    expect(blocksText(card.blocks)).toContain('restart');
  });

  it('diagnose pod over 100 pods uses type-ahead: at most 100 options, matching what is typed', async () => {
    const modal = await modalFrom(USERS.viewer, CHANNELS.general, 'diagnose pod');
    expect(blocksText(modal.view.blocks)).toContain('"type":"external_select"');
    const all = await emu().typeIntoSelect(bot.url, USERS.viewer, 'target', 'vlinders-platform');
    expect(all).toHaveLength(100);
    const some = await emu().typeIntoSelect(bot.url, USERS.viewer, 'target', 'postgres');
    expect(some).toContain('vlinders-platform/postgres-0');
    expect(some.every((v) => v.includes('postgres'))).toBe(true);
    expect(await emu().submitModal(bot.url, USERS.viewer, { target: 'vlinders-platform/postgres-0' })).toEqual({ result: 'closed' });
    await emu().waitFor(() => emu().messages.find((m) => m.channel === CHANNELS.general && blocksText(m.blocks).includes('postgres-0') && blocksText(m.blocks).includes('diagnose pod')), 8000);
  });
});

describe('incidents from forms and shortcuts', () => {
  it('incident open with no argument opens a form; its submission opens the incident', async () => {
    // Declaring opens a channel and invites people: an operator's right (an admin here, in #incidents).
    const modal = await modalFrom(USERS.admin, CHANNELS.incidents, 'incident open');
    expect(blocksText(modal.view.blocks)).toContain(`"type":"users_select","action_id":"commander","initial_user":"${USERS.admin}"`);
    expect(await emu().submitModal(bot.url, USERS.admin, { title: 'Latency over 2 s', sev: '2' })).toEqual({ result: 'closed' });
    await emu().waitFor(() => emu().messages.find((m) => m.channel === CHANNELS.incidents && m.text.includes('Latency over 2 s') && blocksText(m.blocks).includes('SEV2')), 8000);
  });

  it('"Open incident" on a message prefills the title from it', async () => {
    const message = emu().postAsUser(CHANNELS.ops, USERS.operator, '*Queue backing up* on the gateway\nsince 10:00');
    await emu().runMessageShortcut(bot.url, { user: USERS.operator, channel: CHANNELS.ops, messageTs: message.ts, callbackId: 'vlinders_incident_from_message' });
    const modal = await emu().waitFor(() => emu().topModal(USERS.operator));
    expect(blocksText(modal.view.blocks)).toContain('"initial_value":"Queue backing up on the gateway"');
    expect(await emu().submitModal(bot.url, USERS.operator, { sev: '3' })).toEqual({ result: 'closed' });
    await emu().waitFor(() => emu().messages.find((m) => m.channel === CHANNELS.incidents && m.text.includes('Queue backing up on the gateway')), 8000);
  });

  it('"Open incident" on a message Slack stored escaped prefills its title as it was written', async () => {
    // A person wrote "> Kong & Redis <5xx> for @ana": Slack keeps (and sends in message_action) entities and tokens.
    const message = emu().postAsUser(CHANNELS.ops, USERS.operator, `&gt; *Kong &amp; Redis &lt;5xx&gt;* for <@${USERS.approver}>`);
    await emu().runMessageShortcut(bot.url, { user: USERS.operator, channel: CHANNELS.ops, messageTs: message.ts, callbackId: 'vlinders_incident_from_message' });
    const modal = await emu().waitFor(() => emu().topModal(USERS.operator));
    expect(blocksText(modal.view.blocks)).toContain(`"initial_value":"Kong & Redis <5xx> for @${USERS.approver}"`);
  });

  it('the global "Declare incident" shortcut asks where, then opens it', async () => {
    await emu().runShortcut(bot.url, USERS.admin, 'vlinders_declare_incident');
    await emu().waitFor(() => emu().topModal(USERS.admin));
    expect(await emu().submitModal(bot.url, USERS.admin, { title: 'Grafana down', channel: CHANNELS.incidents })).toEqual({ result: 'closed' });
    await emu().waitFor(() => emu().messages.find((m) => m.channel === CHANNELS.incidents && m.text.includes('Grafana down')), 8000);
  });

  it('declared for a channel the person has not joined: the answer Slack refuses there as an ephemeral reaches them in their DM with the app', async () => {
    emu().addChannel('C0WARROOM', 'war-room', { bot: true, members: [USERS.operator] });
    await emu().runShortcut(bot.url, USERS.admin, 'vlinders_declare_incident');
    await emu().waitFor(() => emu().topModal(USERS.admin));
    expect(await emu().submitModal(bot.url, USERS.admin, { title: 'Kafka lag', channel: 'C0WARROOM' })).toEqual({ result: 'closed' });
    const dm = await emu().waitFor(() => emu().messages.find((m) => emu().conversations.get(m.channel)?.type === 'im' && m.text.includes('opened')), 8000);
    expect(emu().isMember(emu().conversations.get(dm.channel) as never, USERS.admin)).toBe(true);
    expect(dm.text).toContain('(for <#C0WARROOM>)');
    expect(emu().calls.filter((c) => c.method === 'chat.postEphemeral' && c.args.channel === 'C0WARROOM').map((c) => c.error)).toContain('user_not_in_channel');
  });

  it('Slack offers only the shortcuts the manifest declares', async () => {
    await expect(emu().runShortcut(bot.url, USERS.viewer, 'vlinders_undeclared')).rejects.toThrow('declares no global shortcut');
  });
});

describe('"Diagnose this pod"', () => {
  it('on a message naming a pod, diagnoses it in the thread', async () => {
    const message = emu().postAsUser(CHANNELS.ops, USERS.viewer, 'postgres-0 restarted twice, anyone?');
    await emu().runMessageShortcut(bot.url, { user: USERS.viewer, channel: CHANNELS.ops, messageTs: message.ts, callbackId: 'vlinders_diagnose_pod' });
    const report = await emu().waitFor(() => emu().threadOf(CHANNELS.ops, message.ts).find((m) => blocksText(m.blocks).includes('postgres-0')), 8000);
    expect(blocksText(report.blocks)).toContain(`<@${USERS.viewer}> ran`);
  });

  it('on a message naming no pod, says so to the person only', async () => {
    const message = emu().postAsUser(CHANNELS.ops, USERS.viewer, 'is anything <b>wrong</b>?');
    await emu().runMessageShortcut(bot.url, { user: USERS.viewer, channel: CHANNELS.ops, messageTs: message.ts, callbackId: 'vlinders_diagnose_pod' });
    const told = await emu().waitFor(() => emu().ephemerals.find((e) => e.user === USERS.viewer && e.text.includes('names no pod')), 8000);
    expect(told.channel).toBe(CHANNELS.ops);
    expect(emu().threadOf(CHANNELS.ops, message.ts)).toEqual([]);
  });
});

describe('over Socket Mode', () => {
  it('Home is published on app_home_opened, and a form submission is acked on the socket', async () => {
    const socketBot = await startBot({ mode: 'socket' });
    try {
      const { emu: ws } = socketBot;
      await ws.openHome(SOCKET, USERS.viewer);
      const home = await ws.waitFor(() => ws.homeOf(USERS.viewer));
      expect(blocksText(home.view.blocks)).toContain('No Kubernetes cluster is configured.');
      await ws.clickInView(SOCKET, USERS.viewer, 'home', 'whoami');
      await ws.waitFor(() => ws.topModal(USERS.viewer));
      expect(await ws.submitModal(SOCKET, USERS.viewer, { channel: CHANNELS.ops })).toEqual({ result: 'closed' });
      await ws.waitFor(() => ws.messages.find((m) => m.channel === CHANNELS.ops && blocksText(m.blocks).includes('whoami')));
      // Without an incidents channel, incident open refuses: the refusal is the socket ack's field error.
      const before = ws.topModal(USERS.viewer);
      await socketBot.slash(USERS.viewer, CHANNELS.general, 'incident open');
      await ws.waitFor(() => ws.topModal(USERS.viewer) !== before && ws.topModal(USERS.viewer));
      expect(await ws.submitModal(SOCKET, USERS.viewer, { title: 'Gateway down' })).toMatchObject({ result: 'errors', errors: { title: expect.any(String) } });
    } finally {
      await socketBot.close();
    }
  });
});
