// Bolt wiring: the /vlinders listener and the Approve/Cancel listener. Both ack first,
// before any parsing, RBAC lookup or Slack call, so Slack always gets its answer in 3 s.
import type { Server } from 'node:http';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type BlockAction, type ButtonAction, type Receiver } from '@slack/bolt';
import type { SocketModeClient } from '@slack/socket-mode';
import type { FetchFunction } from '@slack/web-api';
import type { Logger } from 'pino';
import { describeAudit, type AuditMirror } from '../core/audit.js';
import type { Caller } from '../core/command.js';
import { mentionGroup, mentionUser } from '../core/mention.js';
import type { CommandEngine, InvokeOutcome, RunIO } from '../core/engine.js';
import { errorMessage, UserFacingError } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import { STATUS_EMOJI, type Report } from '../core/report.js';
import type { Config } from '../config/schema.js';
import type { Block } from './blocks.js';
import { APPROVE_ACTION, CANCEL_ACTION, SUGGEST_ACTION, confirmationCard, decidedCard, outcomeLine, suggestionMessage } from './cards.js';
import { boltLogger } from './log.js';
import { SlackPoster, ThreadProgress } from './poster.js';
import { WorkQueue } from './work-queue.js';

export interface SlackCredentials {
  botToken: string;
  /** Socket Mode when set. */
  appToken?: string;
  /** HTTP mode needs it. */
  signingSecret?: string;
  /** Points the Web API elsewhere (the workspace emulator in tests). */
  apiUrl?: string;
}

/** What the engine gets from Slack: group members for RBAC, and the audit channel. */
export interface SlackHooks {
  groupMembers: (groupId: string) => Promise<string[]>;
  auditMirror?: AuditMirror;
}

export interface SlackBotOptions {
  makeEngine: (hooks: SlackHooks) => CommandEngine;
  config: Config;
  credentials: SlackCredentials;
  log: Logger;
  /** HTTP mode port; 0 picks a free one. Defaults to config.slack.port. */
  port?: number;
  /** How many acked requests are worked on at once. */
  concurrency?: number;
  /** Wraps the Web API fetch of every WebClient Bolt makes (failed calls → metrics). */
  slackFetch?: FetchFunction;
}

export interface SlackBot {
  app: App;
  mode: 'socket' | 'http';
  engine: CommandEngine;
  poster: SlackPoster;
  /** Posts a Report with its thread of details and its offered commands as buttons (scheduled digests). */
  publish(where: { channel: string; threadTs?: string }, report: Report, footer?: string): Promise<string | undefined>;
  /**
   * A scheduled run (schedule.runs) in `channel`: a root line, progress and the report in its
   * thread, and the root line updated with the outcome.
   */
  runScheduled(channel: string, run: { name: string; command: string }, tick: Date): Promise<Report>;
  /** Aborted when the bot stops. */
  signal: AbortSignal;
  /** Resolves when no acked work (a command, a click) is running or waiting. */
  idle(): Promise<void>;
  /** Socket Mode's client, for the readiness check; undefined in HTTP mode. */
  socketClient?: SocketModeClient;
  start(): Promise<void>;
  /** The port HTTP mode listens on, once started. */
  port(): number | undefined;
  stop(): Promise<void>;
}

export function createSlackBot(opts: SlackBotOptions): SlackBot {
  const { config, credentials, log } = opts;
  const logger = boltLogger(log);
  const clientOptions = credentials.apiUrl ? { slackApiUrl: credentials.apiUrl } : {};
  const mode: SlackBot['mode'] = credentials.appToken ? 'socket' : 'http';
  let receiver: Receiver;
  let httpReceiver: HTTPReceiver | undefined;
  let socketClient: SocketModeClient | undefined;
  if (mode === 'socket') {
    const socketReceiver = new SocketModeReceiver({ appToken: credentials.appToken as string, logger, installerOptions: { clientOptions } });
    socketClient = socketReceiver.client;
    receiver = socketReceiver;
  } else {
    if (!credentials.signingSecret) throw new Error('HTTP mode needs SLACK_SIGNING_SECRET');
    httpReceiver = new HTTPReceiver({ signingSecret: credentials.signingSecret, endpoints: '/slack/events', logger });
    receiver = httpReceiver;
  }
  // The metered fetch goes to the App's WebClients only: SocketModeClient builds its own.
  const app = new App({ token: credentials.botToken, receiver, logger, logLevel: LogLevel.WARN, clientOptions: opts.slackFetch ? { ...clientOptions, fetch: opts.slackFetch } : clientOptions });
  const poster = new SlackPoster(app.client);
  const auditChannel = config.audit.channel;
  const engine = opts.makeEngine({
    groupMembers: async (usergroup) => (await app.client.usergroups.users.list({ usergroup })).users ?? [],
    auditMirror: auditChannel ? async (record) => void (await poster.post({ channel: auditChannel }, describeAudit(record))) : undefined,
  });
  // `incident open|update|resolve` post into the incidents channel through this poster.
  if (config.alerts.channel) engine.useIncidents(poster, config.alerts.channel);
  const shutdown = new AbortController();
  const work = new WorkQueue(opts.concurrency ?? 4);
  let server: Server | undefined;

  /**
   * A Report, its details in its thread, and each offered command as a button there. The
   * button carries a suggestion id; a click runs the command as the clicker (flow 2).
   */
  async function publish(where: { channel: string; threadTs?: string }, report: Report, footer?: string, previewFor?: string): Promise<string | undefined> {
    const ts = previewFor ? (await poster.ephemeralReport(where, previewFor, report), undefined) : await poster.report(where, report, footer);
    const offerWhere = { channel: where.channel, threadTs: where.threadTs ?? ts };
    for (const offer of report.offers ?? []) {
      const id = await engine.offer(offer.words, offerWhere);
      const message = suggestionMessage(offer.intro, [{ id, label: offer.words.join(' ') }]);
      if (previewFor) await poster.ephemeralBlocks(offerWhere, previewFor, message.text, message.blocks);
      else await poster.post(offerWhere, message.text, message.blocks);
    }
    return ts;
  }

  async function runScheduled(channel: string, run: { name: string; command: string }, tick: Date): Promise<Report> {
    const what = `Scheduled run ${run.name} (\`${redactText(run.command)}\`, ${tick.toISOString()})`;
    const ts = await poster.post({ channel }, `⏳ ${what}: running…`);
    const thread = { channel, threadTs: ts };
    const progress = new ThreadProgress(poster, thread);
    const started = Date.now();
    const report = await engine.runScheduled(run.command, { progress: progress.update, signal: shutdown.signal }, channel);
    await progress.flush();
    await publish(thread, report);
    // Nobody asked for a scheduled run, so nobody is waiting for it: a failure calls on-call.
    const onCall = report.status === 'fail' && config.oncall?.group ? ` · ${mentionGroup(config.oncall.group)}` : '';
    if (ts) await poster.update(channel, ts, `${STATUS_EMOJI[report.status]} ${what}: ${report.status === 'fail' ? 'failed' : 'done'} · ${((Date.now() - started) / 1000).toFixed(1)} s${onCall}`);
    return report;
  }

  /** What a command invocation produced, said in Slack: ephemeral error, report, or card. */
  async function answer(caller: Caller, where: { channel: string; threadTs?: string }, typed: string, outcome: InvokeOutcome): Promise<void> {
    if (outcome.kind === 'error') {
      await poster.ephemeral(where, caller.userId, outcome.message);
    } else if (outcome.kind === 'report' && outcome.report.ephemeral) {
      await publish(where, outcome.report, undefined, caller.userId);
    } else if (outcome.kind === 'report') {
      await publish(where, outcome.report, `${mentionUser(caller.userId)} ran \`${redactText(typed)}\``);
    } else {
      const card = confirmationCard(outcome.action, outcome.command, outcome.plan, redactText(typed));
      const ts = await poster.post(where, card.text, card.blocks);
      if (ts) await engine.attachCard(outcome.action.id, { channel: where.channel, ts });
    }
  }

  const quietIO = (): RunIO => ({ progress: async () => undefined, signal: shutdown.signal });

  app.command(config.slack.command, async ({ ack, command }) => {
    await ack();
    const caller: Caller = { userId: command.user_id, channelId: command.channel_id, surface: 'slack' };
    const where = { channel: command.channel_id };
    void work.push(async () => {
      try {
        await answer(caller, where, `${config.slack.command} ${command.text}`.trim(), await engine.invoke(caller, command.text, quietIO()));
      } catch (err) {
        await replyTrouble(where.channel, caller.userId, err);
      }
    });
  });

  // A runbook remedy offered on an incident thread: the clicker runs it, through the usual checks.
  app.action<BlockAction<ButtonAction>>({ action_id: new RegExp(`^${SUGGEST_ACTION}(_\\d+)?$`) }, async ({ ack, body, action }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!channel) return;
    const clicker: Caller = { userId: body.user.id, channelId: channel, surface: 'slack' };
    void work.push(async () => {
      try {
        const outcome = await engine.invokeSuggestion(action.value ?? '', clicker, quietIO());
        const where: { channel: string; threadTs?: string } = outcome.where ?? { channel };
        await answer({ ...clicker, channelId: where.channel, threadTs: where.threadTs }, where, `${config.slack.command} ${action.text?.text ?? ''}`.trim(), outcome);
      } catch (err) {
        await replyTrouble(channel, clicker.userId, err);
      }
    });
  });

  app.action<BlockAction<ButtonAction>>({ action_id: new RegExp(`^(${APPROVE_ACTION}|${CANCEL_ACTION})$`) }, async ({ ack, body, action }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!channel) return;
    const clicker: Caller = { userId: body.user.id, channelId: channel, surface: 'slack' };
    const cardTs = body.message?.ts ?? body.container?.message_ts;
    const cardBlocks = (body.message?.blocks ?? []) as Block[];
    void work.push(async () => {
        try {
          const decision = await engine.decide(action.value ?? '', clicker, action.action_id === APPROVE_ACTION ? 'approve' : 'cancel');
          if (decision.kind === 'refused') {
            await poster.ephemeral({ channel }, clicker.userId, decision.message);
            return;
          }
          const card = decision.action.card ?? (cardTs ? { channel, ts: cardTs } : undefined);
          const setCard = async (status: string) => {
            if (card) await poster.update(card.channel, card.ts, status, decidedCard(cardBlocks, status));
          };
          if (decision.kind === 'cancelled') {
            await setCard(`🚫 Cancelled by ${mentionUser(clicker.userId)}`);
            return;
          }
          await setCard(`▶️ Approved by ${mentionUser(clicker.userId)}; running…`);
          const thread = { channel: card?.channel ?? channel, threadTs: card?.ts };
          const progress = new ThreadProgress(poster, thread);
          const started = Date.now();
          const report = await engine.execute(decision.action, decision.command, { progress: progress.update, signal: shutdown.signal }, 'slack');
          await progress.flush();
          await poster.report(thread, report);
          await setCard(outcomeLine(report, clicker.userId, Date.now() - started));
        } catch (err) {
          await replyTrouble(channel, clicker.userId, err);
        }
    });
  });

  app.error(async (err) => {
    log.error({ err }, 'bolt error');
  });

  async function replyTrouble(channel: string, user: string, err: unknown): Promise<void> {
    const userFacing = err instanceof UserFacingError;
    if (!userFacing) log.error({ err }, 'slack handler failed');
    const text = userFacing ? redactText(errorMessage(err)) : 'Something went wrong on the bot side; the details are in its log.';
    await poster.ephemeral({ channel }, user, `❌ ${text}`).catch((e: unknown) => log.warn({ err: e }, 'could not tell the user'));
  }

  return {
    app,
    mode,
    engine,
    poster,
    publish: (where, report, footer) => publish(where, report, footer),
    runScheduled,
    signal: shutdown.signal,
    idle: () => work.idle(),
    socketClient,
    async start() {
      const started = await app.start(opts.port ?? config.slack.port);
      if (mode === 'http') server = started as Server;
    },
    port() {
      const address = server?.address();
      return address && typeof address === 'object' ? address.port : undefined;
    },
    async stop() {
      shutdown.abort();
      await Promise.race([work.idle(), new Promise((r) => setTimeout(r, 10_000).unref())]);
      await app.stop();
    },
  };
}
