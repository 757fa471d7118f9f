// The real vlinders-ops Bolt app, wired as `serve` wires it, against the Slack workspace
// emulator: HTTP mode (signed requests) or Socket Mode (envelopes over a WebSocket).
import type { RetryOptions } from '@slack/web-api';
import { commands } from '../../commands/index.js';
import { createLogger } from '../../src/core/log.js';
import type { Config } from '../../src/config/schema.js';
import { RatePacer, tierPacer } from '../../src/slack/pacer.js';
import type { ServiceDirectory } from '../../src/core/services.js';
import type { Store } from '../../src/core/store.js';
import { fixedClusters } from '../../src/kube/directory.js';
import { SlackWorkspaceEmulator, type SignOpts } from '../../src/sandbox/slack/index.js';
import { createSlackBot, type SlackBotOptions } from '../../src/slack/app.js';
import { buildEngine } from '../../src/wiring.js';
import { Gates, testCommands, type RunLog } from '../fixtures/commands.js';
import { captureLog } from '../fixtures/engine.js';
import { MANIFEST_BOT_EVENTS, MANIFEST_SCOPES, MANIFEST_SHORTCUTS, SRE_GROUP, USERS, seedConversations, testConfig } from '../fixtures/world.js';

export interface BotHarnessOptions {
  mode?: 'http' | 'socket';
  config?: Config;
  now?: () => number;
  /** Kubernetes clusters (default: none configured). */
  services?: ServiceDirectory;
  /** Where confirmations live (default: memory). */
  store?: Store;
  /** Reuse a running workspace emulator (a bot restart). */
  emu?: SlackWorkspaceEmulator;
  /** The Web API client's retries of one call (default: the bot's own, SLACK_RETRY). */
  slackRetry?: RetryOptions;
  /** The bounds of the bot's work queues (default: the bot's own). */
  queues?: SlackBotOptions['queues'];
  /** How long one Web API call may take (default: the bot's own). */
  slackCallTimeoutMs?: number;
  /** The Home publishes' pace (default: the bot's own). */
  homePace?: RatePacer;
}

export async function startBot(opts: BotHarnessOptions = {}) {
  const mode = opts.mode ?? 'http';
  const ownEmu = !opts.emu;
  const emu = opts.emu ?? (await SlackWorkspaceEmulator.start({ scopes: MANIFEST_SCOPES, botEvents: MANIFEST_BOT_EVENTS, shortcuts: MANIFEST_SHORTCUTS }));
  if (ownEmu) seedConversations(emu);
  emu.addUserGroup(SRE_GROUP, [USERS.groupMember]);
  const { stream, captured } = captureLog();
  const log = createLogger('info', stream);
  const config = opts.config ?? testConfig();
  const runLog: RunLog = { runs: [] };
  const gates = new Gates();
  const bot = createSlackBot({
    config,
    log,
    port: 0,
    retry: opts.slackRetry,
    queues: opts.queues,
    ...(opts.slackCallTimeoutMs ? { slackCallTimeoutMs: opts.slackCallTimeoutMs } : {}),
    // The bot keeps the workspace's posting pace, a little under it as it does Slack's.
    postPace: new RatePacer(emu.limits.postMessagesPerSecond * 0.9, emu.limits.postMessageBurst),
    editPace: tierPacer(emu.limits.callsPerMinuteByTier[3]),
    ...(opts.homePace ? { homePace: opts.homePace } : {}),
    credentials: {
      botToken: emu.botToken,
      apiUrl: emu.apiUrl,
      ...(mode === 'socket' ? { appToken: emu.appToken } : { signingSecret: emu.signingSecret }),
    },
    makeEngine: (hooks) =>
      buildEngine({
        config,
        commands: [...commands, ...testCommands(runLog, gates)],
        log,
        now: opts.now,
        services: opts.services ?? fixedClusters([]),
        store: opts.store,
        groupMembers: hooks.groupMembers,
        auditMirror: hooks.auditMirror,
      }),
  });
  await bot.start();
  if (mode === 'socket') await emu.socketConnected();
  const url = `http://127.0.0.1:${bot.port() ?? 0}/slack/events`;

  return {
    emu,
    bot,
    url,
    runLog,
    /** Where test-hold and test-hold-change wait until opened. */
    gates,
    log: captured,
    /** Types `/vlinders <text>` as `user` in `channel`; resolves when Slack got its ack. */
    async slash(user: string, channel: string, text: string, sign?: SignOpts) {
      if (mode === 'socket') {
        const started = performance.now();
        await emu.sendSlashCommandSocket({ user, channel, text });
        return { status: 200, body: '', ms: performance.now() - started };
      }
      return emu.sendSlashCommand(url, { user, channel, text }, sign);
    },
    /** Clicks the button (by action_id or label) on a message `user` can see; it sends that button's own value. */
    async click(user: string, channel: string, messageTs: string, button: string, sign?: SignOpts) {
      if (mode === 'socket') {
        const started = performance.now();
        await emu.clickButtonSocket({ user, channel, messageTs, button });
        return { status: 200, body: '', ms: performance.now() - started };
      }
      return emu.clickButton(url, { user, channel, messageTs, button }, sign);
    },
    /** `user` adds an emoji reaction to a message; the bot hears of it as a reaction_added event. */
    async react(user: string, channel: string, ts: string, reaction: string) {
      const sent = mode === 'socket' ? await emu.addReactionSocket({ user, channel, ts, reaction }) : await emu.addReaction(url, { user, channel, ts, reaction });
      if ('notSent' in sent) throw new Error(`Slack would send no reaction_added: ${sent.notSent}`);
      return sent;
    },
    /** The confirmation card posted in `channel` most recently, with its button values. */
    async card(channel: string) {
      const message = await emu.waitFor(() => [...emu.messages].reverse().find((m) => m.channel === channel && JSON.stringify(m.blocks ?? []).includes('vlinders_approve')));
      const actions = (message.blocks ?? []).find((b) => (b as { type: string }).type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
      const approve = actions.elements.find((e) => e.action_id === 'vlinders_approve');
      return { message, id: approve?.value ?? '' };
    },
    async close() {
      gates.openAll();
      await bot.stop();
      // The socket client would reconnect to a vanishing emulator and retry for minutes.
      if (mode === 'socket') await emu.waitFor(() => emu.socketConnections === 0);
      if (ownEmu) await emu.close();
    },
  };
}

export type BotHarness = Awaited<ReturnType<typeof startBot>>;
export const blocksText = (blocks: unknown) => JSON.stringify(blocks ?? []);
