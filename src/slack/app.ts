// Bolt wiring: the /vlinders command (global middleware) and the Approve/Cancel listener. Both ack first,
// before any parsing, RBAC lookup or Slack call, so Slack always gets its answer in 3 s.
import type { Server } from 'node:http';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type AllMiddlewareArgs, type AnyMiddlewareArgs, type BlockAction, type ButtonAction, type Receiver, type SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { SocketModeClient } from '@slack/socket-mode';
import type { FetchFunction, RetryOptions } from '@slack/web-api';
import type { Logger } from 'pino';
import { describeAudit, type AuditMirror } from '../core/audit.js';
import type { Caller } from '../core/command.js';
import { mentionGroup, mentionUser } from '../core/mention.js';
import type { CommandEngine, InvokeOutcome, RunIO } from '../core/engine.js';
import { errorMessage, UserFacingError } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import { STATUS_EMOJI, type Report } from '../core/report.js';
import type { Config } from '../config/schema.js';
import { plural } from '../digest/format.js';
import type { Block } from './blocks.js';
import { RETRY_NOTE, type TickAttempt } from '../schedule/scheduler.js';
import { APPROVE_ACTION, CANCEL_ACTION, SUGGEST_ACTION, confirmationCard, decidedCard, outcomeLine, suggestionMessage } from './cards.js';
import { boltLogger } from './log.js';
import { messageText, typedText } from './mrkdwn.js';
import { slackPacers, type RatePacer } from './pacer.js';
import { SlackPoster, ThreadProgress } from './poster.js';
import { SlackRooms } from './rooms.js';
import { INVITE_LINE, INVITE_ME, ResponseUrlReply, isClosedConversation, reportReplyMessages, type ReplyMessage } from './reply.js';
import { WorkQueue, type QueueBounds } from './work-queue.js';
import { registerSurfaces } from './surfaces.js';
import type { BackupListing } from '../digest/sources.js';

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
  /** HTTP mode: the address to listen on. Default every interface, as Slack must reach a pod. */
  host?: string;
  /** The bounds of the two work queues (READS_QUEUE and CHANGES_QUEUE unless given). */
  queues?: { reads?: QueueBounds; changes?: QueueBounds };
  /** Wraps the Web API fetch of every WebClient Bolt makes (failed calls → metrics). */
  slackFetch?: FetchFunction;
  /** How the Web API client retries one call; SLACK_RETRY unless given (tests shorten it). */
  retry?: RetryOptions;
  /** Where the Home tab reads the newest backup; absent: "backups not configured". */
  backups?: BackupListing;
  /** Posts per channel: Slack's pace unless a workspace (an emulator) is known to allow more. */
  postPace?: RatePacer;
  /** The workspace's message edits (chat.update, Tier 3), likewise. */
  editPace?: RatePacer;
  /** The workspace's Home publishes (views.publish, Tier 4), likewise. */
  homePace?: RatePacer;
  /** How many replicas of the bot share the app's Slack limits (default 1). */
  replicas?: number;
  /** How long one Web API call may take (default 30 s). */
  slackCallTimeoutMs?: number;
}

/**
 * The Web API client's retries of one call (HTTP 5xx, network errors, and 429 after its
 * Retry-After): about 15 s of back-off rather than WebClient's default of about 30 minutes,
 * so whoever waits on a post (Alertmanager's webhook, a user) hears of an outage soon, and
 * the alert path's own retry (a pending root, see incidents/alert-threads.ts) takes over.
 */
export const SLACK_RETRY: RetryOptions = { retries: 4, factor: 2, minTimeout: 1000, maxTimeout: 8000 };

/**
 * Commands, suggestion clicks and Cancel: mostly quick, some slow reads (diagnose, logs). A
 * read still running after 250 ms gives its slot to the next request, up to 32 at once; a
 * burst waits, 256 deep, and beyond that is told the bot is busy.
 */
export const READS_QUEUE: QueueBounds = { slots: 4, maxRunning: 32, maxWaiting: 256, handOffMs: 250 };

/**
 * What runs after Approve: scale-gpu waits up to 600 s for workers, a backup for hours. Four at
 * once, none waiting: a fifth Approve is told to click again later, and its action stays pending.
 */
export const CHANGES_QUEUE: QueueBounds = { slots: 4, maxRunning: 4, maxWaiting: 0 };

export interface SlackBot {
  app: App;
  mode: 'socket' | 'http';
  engine: CommandEngine;
  poster: SlackPoster;
  /** Posts a Report with its thread of details and its offered commands as buttons (scheduled digests). */
  publish(where: { channel: string; threadTs?: string }, report: Report, footer?: string, onRoot?: (ts: string) => Promise<void>): Promise<string | undefined>;
  /**
   * A scheduled run (schedule.runs) in `channel`: a root line, progress and the report in its
   * thread, and the root line updated with the outcome. A re-run of an interrupted tick
   * continues in the root the first attempt posted (`attempt.root`) and says so there.
   */
  runScheduled(channel: string, run: { name: string; command: string }, tick: Date, attempt?: TickAttempt): Promise<Report>;
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

/** Slack answers in well under a second; a call that takes this long isn't coming back. */
const SLACK_CALL_TIMEOUT_MS = 30_000;

export function createSlackBot(opts: SlackBotOptions): SlackBot {
  const { config, credentials, log } = opts;
  const logger = boltLogger(log);
  // A deadline on every Web API call: an answer that never comes would otherwise hold its
  // message's later edits (LatestEdit) and a queue slot for good.
  const clientOptions = { ...(credentials.apiUrl ? { slackApiUrl: credentials.apiUrl } : {}), retryConfig: opts.retry ?? SLACK_RETRY, timeout: opts.slackCallTimeoutMs ?? SLACK_CALL_TIMEOUT_MS };
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
  // No conversation store: nothing here keeps state per conversation in Bolt, and its lookup
  // builds an Error (a stack) for every request that finds none.
  const app = new App({ token: credentials.botToken, receiver, logger, logLevel: LogLevel.WARN, convoStore: false, clientOptions: opts.slackFetch ? { ...clientOptions, fetch: opts.slackFetch } : clientOptions });
  const pacers = slackPacers(opts.replicas);
  const poster = new SlackPoster(app.client, opts.postPace ?? pacers.posts, opts.editPace ?? pacers.edits);
  const auditChannel = config.audit.channel;
  const groupMembers = async (usergroup: string) => (await app.client.usergroups.users.list({ usergroup })).users ?? [];
  const engine = opts.makeEngine({
    groupMembers,
    auditMirror: auditChannel ? async (record) => void (await poster.post({ channel: auditChannel }, describeAudit(record))) : undefined,
  });
  // `incident …` commands open a channel per incident and keep the incidents channel's lines.
  const incidents = config.alerts.channel ? engine.useIncidents(poster, config.alerts.channel, new SlackRooms(app.client, groupMembers, config.oncall?.group)) : undefined;
  const shutdown = new AbortController();
  // Reads and clicks never wait behind a change: changes have their own queue and bound.
  const reads = new WorkQueue(opts.queues?.reads ?? READS_QUEUE);
  const changes = new WorkQueue(opts.queues?.changes ?? CHANGES_QUEUE);
  // Idle: nothing queued or running, and no incident summary edit still on its way.
  const idle = async () => {
    await Promise.all([reads.idle(), changes.idle()]);
    await incidents?.settled();
  };
  let server: Server | undefined;

  /**
   * A Report, its details in its thread, and each offered command as a button there. The
   * button carries a suggestion id; a click runs the command as the clicker (flow 2).
   */
  async function publish(where: { channel: string; threadTs?: string }, report: Report, footer?: string, onRoot?: (ts: string) => Promise<void>): Promise<string | undefined> {
    const ts = await poster.report(where, report, footer, onRoot);
    const offerWhere = { channel: where.channel, threadTs: where.threadTs ?? ts };
    for (const offer of report.offers ?? []) {
      const message = await offerMessage(offer, offerWhere);
      await poster.post(offerWhere, message.text, message.blocks);
    }
    return ts;
  }

  async function offerMessage(offer: NonNullable<Report['offers']>[number], where: { channel: string; threadTs?: string }): Promise<ReplyMessage> {
    const id = await engine.offer(offer.words, where);
    return suggestionMessage(offer.intro, [{ id, label: offer.words.join(' ') }]);
  }

  /**
   * A Report through the response_url: its parts one after another instead of a thread, and its
   * offers as buttons. Files need a conversation the bot is in; the reply says so.
   */
  async function replyReport(reply: ResponseUrlReply, where: { channel: string; threadTs?: string }, report: Report, responseType: 'ephemeral' | 'in_channel', footer?: string): Promise<void> {
    const { messages, files } = reportReplyMessages(report, footer);
    for (const offer of report.offers ?? []) messages.push(await offerMessage(offer, where));
    if (files > 0) messages.push({ text: `📎 ${files} file${files === 1 ? '' : 's'} of this report can only go where I am a member: ${INVITE_ME} to get ${files === 1 ? 'it' : 'them'} here.` });
    await reply.messages(messages, responseType);
  }

  async function runScheduled(channel: string, run: { name: string; command: string }, tick: Date, attempt?: TickAttempt): Promise<Report> {
    const what = `Scheduled run ${run.name} (\`${redactText(run.command)}\`, ${tick.toISOString()})`;
    const running = `⏳ ${what}: running…`;
    let ts = attempt?.root;
    if (ts) await poster.update(channel, ts, running);
    else {
      ts = await poster.post({ channel }, running);
      if (ts) await attempt?.markRoot(ts);
    }
    const thread = { channel, threadTs: ts };
    if (attempt && attempt.number > 1) await poster.post(thread, `🔁 ${RETRY_NOTE}.`);
    const progress = new ThreadProgress(poster, thread);
    const started = Date.now();
    const report = await engine.runScheduled(run.command, { progress: progress.update, signal: shutdown.signal }, channel);
    await progress.finish(report.status);
    await publish(thread, report);
    // Nobody asked for a scheduled run, so nobody is waiting for it: a failure calls on-call.
    const onCall = report.status === 'fail' && config.oncall?.group ? ` · ${mentionGroup(config.oncall.group)}` : '';
    if (ts) await poster.update(channel, ts, `${STATUS_EMOJI[report.status]} ${what}: ${report.status === 'fail' ? 'failed' : 'done'} · ${((Date.now() - started) / 1000).toFixed(1)} s${onCall}`);
    return report;
  }

  /**
   * What a command invocation produced, said in Slack: an error or preview to the person through
   * the response_url (it works in every conversation); a report or a card in the conversation,
   * with its thread. Where the bot can't post, a report goes through the response_url and a
   * change is withdrawn with one line on how to make it possible.
   */
  async function answer(caller: Caller, where: { channel: string; threadTs?: string }, typed: string, outcome: InvokeOutcome, reply: ResponseUrlReply): Promise<void> {
    // The report is in hand; rendering and sending it go on a later turn of the event loop, so
    // commands that arrived meanwhile are acked first rather than behind both halves of the work.
    await new Promise((resolve) => setImmediate(resolve));
    if (outcome.kind === 'error') {
      await reply.ephemeral(outcome.message);
    } else if (outcome.kind === 'report' && outcome.report.ephemeral) {
      await replyReport(reply, where, outcome.report, 'ephemeral');
    } else if (outcome.kind === 'report') {
      const footer = `${mentionUser(caller.userId)} ran \`${redactText(typed)}\``;
      try {
        await publish(where, outcome.report, footer);
      } catch (err) {
        if (!isClosedConversation(err)) throw err;
        await replyReport(reply, where, outcome.report, 'in_channel', footer);
      }
    } else {
      const card = confirmationCard(outcome.action, outcome.command, outcome.plan, redactText(typed));
      let ts: string | undefined;
      try {
        ts = await poster.post(where, card.text, card.blocks);
      } catch (err) {
        if (!isClosedConversation(err)) throw err;
      }
      if (ts) {
        await engine.attachCard(outcome.action.id, { channel: where.channel, ts });
      } else {
        await engine.withdraw(outcome.action.id, caller, 'the bot cannot post the card and its thread in this conversation');
        await reply.ephemeral(`\`${redactText(typed)}\` did not start: ${INVITE_LINE}.`);
      }
    }
  }

  const quietIO = (): RunIO => ({ progress: async () => undefined, signal: shutdown.signal });
  // The Home tab, command forms and shortcuts (surfaces.ts).
  const surfaces = registerSurfaces({ app, engine, config, log, answer, queue: (work) => reads.push(work), io: quietIO, homePace: opts.homePace ?? pacers.homes, ...(opts.backups ? { backups: opts.backups } : {}) });

  // The slash command, what people type and wait on, is taken in global middleware, ahead of
  // the listeners: Bolt runs every listener's middleware chain for each request (eleven here),
  // which had doubled the CPU of each command's ack. Everything else goes on to the listeners.
  const isOurCommand = (args: AnyMiddlewareArgs): args is SlackCommandMiddlewareArgs => 'command' in args && (args as SlackCommandMiddlewareArgs).command.command === config.slack.command;
  app.use(async (args: AnyMiddlewareArgs & AllMiddlewareArgs) => {
    if (!isOurCommand(args)) return args.next();
    await onCommand(args);
  });

  async function onCommand({ ack, command }: SlackCommandMiddlewareArgs): Promise<void> {
    const caller: Caller = { userId: command.user_id, channelId: command.channel_id, surface: 'slack', userName: command.user_name };
    const where = { channel: command.channel_id };
    const reply = ResponseUrlReply.to(command.response_url);
    const text = typedText(command.text);
    const typed = `${config.slack.command} ${text}`.trim();
    // Queued before the ack (a synchronous push; the job starts on a later turn), so a refusal
    // rides in the ack itself: an overloaded bot makes no extra request to say it is busy.
    const queued = reads.push(async () => {
      try {
        // A command that has a form, typed with no argument, opens it.
        const named = engine.resolve(text.trim().split(/\s+/));
        if (named?.rest.length === 0 && (await surfaces.openForm(named.command.name, command.trigger_id, caller, reply))) return;
        await answer(caller, where, typed, await engine.invoke(caller, text, quietIO()), reply);
      } catch (err) {
        await replyTrouble(reply, err);
      }
    });
    if (queued) return ack();
    log.warn({ queue: 'reads' }, 'queue full: a request was refused');
    await ack({ response_type: 'ephemeral', text: messageText(`⏳ I am busy. \`${redactText(typed)}\` did not run. Try again in a minute.`) });
  }

  // A runbook remedy offered on an incident thread: the clicker runs it, through the usual checks.
  app.action<BlockAction<ButtonAction>>({ action_id: new RegExp(`^${SUGGEST_ACTION}(_\\d+)?$`) }, async ({ ack, body, action }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!channel) return;
    const clicker: Caller = { userId: body.user.id, channelId: channel, surface: 'slack', userName: body.user.username ?? body.user.name };
    const reply = ResponseUrlReply.to(body.response_url);
    const queued = reads.push(async () => {
      try {
        const outcome = await engine.invokeSuggestion(action.value ?? '', clicker, quietIO());
        const where: { channel: string; threadTs?: string } = outcome.where ?? { channel };
        await answer({ ...clicker, channelId: where.channel, threadTs: where.threadTs }, where, `${config.slack.command} ${action.text?.text ?? ''}`.trim(), outcome, reply);
      } catch (err) {
        await replyTrouble(reply, err);
      }
    });
    if (!queued) await replyBusy(reply, 'reads', 'Nothing ran. Click the button again in a minute.');
  });

  app.action<BlockAction<ButtonAction>>({ action_id: new RegExp(`^(${APPROVE_ACTION}|${CANCEL_ACTION})$`) }, async ({ ack, body, action }) => {
    await ack();
    const reply = ResponseUrlReply.to(body.response_url);
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!channel) return;
    const clicker: Caller = { userId: body.user.id, channelId: channel, surface: 'slack' };
    const cardTs = body.message?.ts ?? body.container?.message_ts;
    const cardBlocks = (body.message?.blocks ?? []) as Block[];
    // An Approve takes a change slot before it decides: when none is free, nothing is approved.
    const approving = action.action_id === APPROVE_ACTION;
    const queued = (approving ? changes : reads).push(async () => {
        // Once the card says ⏳, whatever happens it must not be left saying so.
        let settle: ((report: Report | undefined) => Promise<void>) | undefined;
        let outcome: Report | undefined;
        try {
          const decision = await engine.decide(action.value ?? '', clicker, approving ? 'approve' : 'cancel');
          if (decision.kind === 'refused') {
            await reply.ephemeral(decision.message);
            return;
          }
          const card = decision.action.card ?? (cardTs ? { channel, ts: cardTs } : undefined);
          const setCard = async (status: string, mark: string) => {
            if (card) await poster.update(card.channel, card.ts, status, decidedCard(cardBlocks, status, mark));
          };
          if (decision.kind === 'cancelled') {
            await setCard(`🚫 Cancelled by ${mentionUser(clicker.userId)}`, '🚫');
            return;
          }
          // The card's edit takes its turn among every edit of the workspace (chat.update's tier);
          // the approved change doesn't wait for it, and its outcome edit follows it.
          void setCard(`▶️ Approved by ${mentionUser(clicker.userId)}; running…`, '⏳').catch((err: unknown) => log.warn({ err }, 'could not mark the card running'));
          const started = Date.now();
          settle = (report) =>
            report
              ? setCard(outcomeLine(report, clicker.userId, Date.now() - started), STATUS_EMOJI[report.status])
              : setCard(`❌ Stopped · approved by ${mentionUser(clicker.userId)}: something went wrong on the bot side; the details are in its log.`, '❌');
          const thread = { channel: card?.channel ?? channel, threadTs: card?.ts };
          const progress = new ThreadProgress(poster, thread);
          // The requester's Home tab lists it while it runs, with its newest progress line.
          const { id, requester } = decision.action;
          const running = { command: `${decision.command.name} ${redactText(decision.action.words.join(' '))}`.trim(), requester, startedAt: started };
          surfaces.operation(id, requester, running);
          const tracked = async (text: string) => {
            Object.assign(running, { progress: text });
            await progress.update(text);
          };
          outcome = await engine.execute(decision.action, decision.command, { progress: tracked, signal: shutdown.signal }, 'slack').finally(() => surfaces.operation(id, requester, undefined));
          await progress.finish(outcome.status);
          await poster.report(thread, outcome);
          await settle(outcome);
        } catch (err) {
          await settle?.(outcome).catch((e: unknown) => log.warn({ err: e }, 'could not settle the card'));
          await replyTrouble(reply, err);
        }
    });
    if (queued) return;
    if (approving) await replyBusy(reply, 'changes', `I am already running ${plural(changes.active, 'change')}, as many as I run at once. This one was not approved and nothing ran: click Approve again when one has finished.`);
    else await replyBusy(reply, 'reads', 'Nothing was cancelled. Click Cancel again in a minute.');
  });

  // 📌 on a message in an incident's channel puts it in the incident's timeline.
  app.event('reaction_added', async ({ event }) => {
    if (event.reaction !== 'pushpin' || event.item.type !== 'message') return;
    await engine.incidentLog?.pinned(event.user, event.item.channel, event.item.ts).catch((err: unknown) => log.warn({ err }, 'could not record a 📌 in the incident timeline'));
  });

  app.error(async (err) => {
    log.error({ err }, 'bolt error');
  });

  async function replyTrouble(reply: ResponseUrlReply, err: unknown): Promise<void> {
    const userFacing = err instanceof UserFacingError;
    if (!userFacing) log.error({ err }, 'slack handler failed');
    const text = userFacing ? redactText(errorMessage(err)) : 'Something went wrong on the bot side; the details are in its log.';
    await reply.ephemeral(`❌ ${text}`).catch((e: unknown) => log.warn({ err: e }, 'could not tell the user'));
  }

  /** A request its queue refused: it did not run, and the person hears so at once. */
  async function replyBusy(reply: ResponseUrlReply, queue: 'reads' | 'changes', what: string): Promise<void> {
    log.warn({ queue }, 'queue full: a request was refused');
    await reply.ephemeral(`⏳ I am busy. ${what}`).catch((e: unknown) => log.warn({ err: e }, 'could not tell the user'));
  }

  return {
    app,
    mode,
    engine,
    poster,
    publish,
    runScheduled,
    signal: shutdown.signal,
    idle,
    socketClient,
    async start() {
      const port = opts.port ?? config.slack.port;
      const started = await app.start(opts.host ? { port, host: opts.host } : port);
      if (mode === 'http') server = started as Server;
    },
    port() {
      const address = server?.address();
      return address && typeof address === 'object' ? address.port : undefined;
    },
    async stop() {
      shutdown.abort();
      await Promise.race([idle(), new Promise((r) => setTimeout(r, 10_000).unref())]);
      await app.stop();
    },
  };
}
