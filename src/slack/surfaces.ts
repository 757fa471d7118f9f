// The App Home tab, command forms (modals) and shortcuts, on Bolt. Forms only gather words: a
// submission runs through the same engine path as a typed command (parse, RBAC, plan, card).
import type { App, BlockAction, ButtonAction, ViewSubmitAction } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Caller } from '../core/command.js';
import type { CommandEngine, InvokeOutcome, RunIO } from '../core/engine.js';
import { errorMessage } from '../core/errors.js';
import { mentionChannel } from '../core/mention.js';
import { redactText } from '../core/redact.js';
import type { Config } from '../config/schema.js';
import type { BackupListing } from '../digest/sources.js';
import { recordedIncidents } from '../incidents/incidents.js';
import { FORM_CALLBACK, blameField, commandModal, hasOwnForm, readMeta, submission, suggestions, workloadNames, type FormLookup, type FormMeta, type ModalView, type Prefill, type Values } from './forms.js';
import { HOME_FORM_ACTION, backupLine, clusterLine, gpuLine, homeView, type RunningOperation } from './home.js';
import { LatestEdit } from './latest-edit.js';
import { messageText, typedText } from './mrkdwn.js';
import type { RatePacer } from './pacer.js';
import { ResponseUrlReply, isClosedConversation, slackErrorCode, type ReplyPost } from './reply.js';

/** Shortcuts (manifest features.shortcuts). */
export const SHORTCUTS = { incidentFromMessage: 'vlinders_incident_from_message', diagnosePod: 'vlinders_diagnose_pod', declareIncident: 'vlinders_declare_incident' } as const;

/** The shortcuts as the manifest declares them (name at most 24 characters). */
export const SHORTCUT_LIST: ReadonlyArray<{ callback_id: string; type: 'global' | 'message'; name: string }> = [
  { callback_id: SHORTCUTS.incidentFromMessage, type: 'message', name: 'Open incident' },
  { callback_id: SHORTCUTS.diagnosePod, type: 'message', name: 'Diagnose this pod' },
  { callback_id: SHORTCUTS.declareIncident, type: 'global', name: 'Declare incident' },
];

/** How long a submission may take to decide before the modal is closed anyway (Slack waits 3 s for the ack). */
const SUBMIT_DECIDE_MS = 2000;

export interface SurfaceDeps {
  app: App;
  engine: CommandEngine;
  config: Config;
  log: Logger;
  /** Says a command's outcome in Slack, as for a typed command (app.ts). */
  answer(caller: Caller, where: { channel: string; threadTs?: string }, typed: string, outcome: InvokeOutcome, reply: ResponseUrlReply): Promise<void>;
  /** Runs work after the ack, on the reads queue; false when the queue is full. */
  queue(work: () => Promise<void>): boolean;
  io(): RunIO;
  backups?: BackupListing;
  /** views.publish's turns (Tier 4), this process's share. */
  homePace: RatePacer;
}

export interface Surfaces {
  /** Opens a command's form for a typed command with no argument; false when it has none. */
  openForm(command: string, triggerId: string, caller: Caller, reply: ResponseUrlReply): Promise<boolean>;
  /** An operation `requester` started began (op) or ended (undefined): their Home tab shows it. */
  operation(id: string, requester: string, op: RunningOperation | undefined): void;
  /** Republishes a person's Home tab. */
  refreshHome(user: string): Promise<void>;
}

const isSlackError = (err: unknown, code: string) => (err as { data?: { error?: unknown } } | undefined)?.data?.error === code;

export function registerSurfaces(deps: SurfaceDeps): Surfaces {
  const { app, engine, config, log } = deps;
  const running = new Map<string, RunningOperation>();
  let teamUrl: Promise<string | undefined> | undefined;

  const lookupFor = (caller: Caller, cluster?: string): FormLookup => ({ user: caller.userId, read: (work) => engine.lookup(caller, cluster, work) });

  /** A permalink in Slack's form (https://team.slack.com/archives/C/p1234567890123456). */
  async function permalink(channel: string, ts: string | undefined): Promise<string | undefined> {
    if (!ts) return undefined;
    // One auth.test for every link of a Home tab: they are built at once.
    teamUrl ??= app.client.auth.test().then((auth) => auth.url, (err: unknown) => {
      teamUrl = undefined;
      throw err;
    });
    const url = await teamUrl;
    return url ? `${url}archives/${channel}/p${ts.replace('.', '')}` : undefined;
  }

  /** Opens a modal on the trigger; an expired or used trigger is said to the person. */
  async function open(triggerId: string, view: ModalView, reply?: ResponseUrlReply): Promise<void> {
    try {
      await app.client.views.open({ trigger_id: triggerId, view });
    } catch (err) {
      if (!isSlackError(err, 'expired_trigger_id') && !isSlackError(err, 'exchanged_trigger_id')) throw err;
      log.warn({ err }, 'a form could not open in time');
      await reply?.ephemeral('⌛ The form took too long to open. Try again, or type the command with its arguments.');
    }
  }

  async function formFor(command: string, caller: Caller, meta: FormMeta, prefill?: Prefill): Promise<ModalView> {
    const found = engine.resolve(command.split(' '));
    if (!found) throw new Error(`no command ${command}`);
    const defaultChannel = config.rbac.changeChannels?.[0] ?? config.alerts.channel;
    return commandModal(found.command, meta, lookupFor(caller), { ...(defaultChannel ? { defaultChannel } : {}), ...(prefill ? { prefill } : {}) });
  }

  /** Each person's conversation with the app (from app_home_opened): their reads run there. */
  const homeChannels = new Map<string, string>();
  const homeRefreshes = new LatestEdit();

  /**
   * Where a person's Home tab reads as them: their conversation with the app, or else the first
   * channel where they hold a role (an operator bound to #ops only holds none in a DM).
   */
  async function homeCaller(user: string): Promise<Caller> {
    const candidates = [homeChannels.get(user) ?? 'home', ...bindingChannels()];
    for (const channelId of candidates) {
      const caller: Caller = { userId: user, channelId, surface: 'slack' };
      if (await engine.lookup(caller, undefined, async () => true).catch(() => false)) return caller;
    }
    return { userId: user, channelId: candidates[0] as string, surface: 'slack' };
  }

  /** The channels roles and changes are bound to. */
  function bindingChannels(): string[] {
    const channels = new Set<string>(config.rbac.changeChannels ?? []);
    for (const binding of Object.values(config.rbac.roles)) for (const c of binding?.channels ?? []) channels.add(c);
    if (config.alerts.channel) channels.add(config.alerts.channel);
    return [...channels];
  }

  /**
   * Publishes a person's Home tab. Opens and refreshes asked for while one is being built collapse
   * into one more, built afresh when it starts: each costs reads of every cluster and a
   * views.publish (Tier 4, 100 a minute for the workspace, paced here).
   */
  function refreshHome(user: string): Promise<void> {
    return homeRefreshes.edit(user, () => publishHome(user));
  }

  async function publishHome(user: string): Promise<void> {
    const caller = await homeCaller(user);
    const now = Date.now();
    const clusterNames = engine.clusterNames();
    const lookup = lookupFor(caller);
    const [clusters, gpu, backup, incidents, commands] = await Promise.all([
      Promise.all(clusterNames.map(async (name) => ({ name, line: await clusterLine(lookupFor(caller, name)) }))),
      clusterNames.length > 0 ? gpuLine(lookup) : Promise.resolve('no cluster configured'),
      backupLine(deps.backups, now),
      recordedIncidents(engine.store).then((all) => all.filter((i) => i.status === 'open').reverse()),
      mayRun(user),
    ]);
    const view = homeView({
      user,
      now,
      clusters,
      gpu,
      backup,
      incidents: await Promise.all(incidents.map(async (incident, i) => ({ incident, ...(i < 10 ? { link: await permalink(incident.channel, incident.ts) } : {}) }))),
      running: [...running.values()].sort((a, b) => b.startedAt - a.startedAt),
      commands,
    });
    await deps.homePace.turn('views.publish');
    await app.client.views.publish({ user_id: user, view });
  }

  /**
   * The commands a person may run somewhere: where roles and changes are bound (their channels),
   * or anywhere when the bindings name no channel.
   */
  async function mayRun(user: string): Promise<string[]> {
    const channels = bindingChannels();
    const where = channels.length > 0 ? channels : ['home'];
    const names: string[] = [];
    for (const command of engine.commands) {
      for (const channelId of where) {
        if (await engine.allows({ userId: user, channelId, surface: 'slack' }, command.name)) {
          names.push(command.name);
          break;
        }
      }
    }
    return names;
  }

  const refreshQuietly = (user: string) => void refreshHome(user).catch((err: unknown) => log.warn({ err, user }, 'could not publish the Home tab'));

  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    homeChannels.set(event.user, event.channel);
    deps.queue(() => refreshHome(event.user).catch((err: unknown) => log.warn({ err }, 'could not publish the Home tab')));
  });

  // A Home tab button: the command's form, asking where to run it.
  app.action<BlockAction<ButtonAction>>({ action_id: new RegExp(`^${HOME_FORM_ACTION}_\\d+$`) }, async ({ ack, body, action }) => {
    await ack();
    try {
      const caller = await homeCaller(body.user.id);
      await open(body.trigger_id, await formFor(action.value ?? '', caller, { command: action.value ?? '' }));
    } catch (err) {
      log.warn({ err }, 'could not open a form from the Home tab');
    }
  });

  app.view<ViewSubmitAction>(FORM_CALLBACK, async ({ ack, body, view }) => {
    const meta = readMeta(view.private_metadata);
    const values = view.state.values as unknown as Values;
    const inputIds = view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id ?? '');
    if (!meta) return ack();
    const { words, channel, reason } = submission(meta, values);
    const fieldError = (message: string) => {
      // The usage line is for typed commands; the form's fields already say what goes where.
      const said = redactText(message.split('\nUsage:')[0] ?? message).slice(0, 300);
      return ack({ response_action: 'errors', errors: { [blameField(meta, said, inputIds)]: said } });
    };
    if (!channel) return fieldError('Choose where to run it.');
    const caller: Caller = { userId: body.user.id, channelId: channel, ...(meta.threadTs ? { threadTs: meta.threadTs } : {}), surface: 'slack' };
    const where = { channel, ...(meta.threadTs ? { threadTs: meta.threadTs } : {}) };
    const typed = `${config.slack.command} ${words.join(' ')}${reason ? ` · reason: ${reason}` : ''}`;
    // The plan decides within the ack when it can, so a wrong value comes back on its field.
    const invoking = engine.invoke(caller, words, deps.io());
    let timer: ReturnType<typeof globalThis.setTimeout> | number | undefined;
    let early: InvokeOutcome | undefined;
    try {
      early = await Promise.race([invoking, new Promise<undefined>((resolve) => (timer = globalThis.setTimeout(resolve, SUBMIT_DECIDE_MS)))]);
    } catch (err) {
      log.error({ err }, 'a form submission failed');
      return fieldError('Something went wrong on the bot side; the details are in its log.');
    } finally {
      clearTimeout(timer);
    }
    if (early?.kind === 'error') return fieldError(early.message);
    await ack();
    const reply = new ResponseUrlReply(ephemeralTo(channel, body.user.id));
    deps.queue(async () => {
      try {
        await deps.answer(caller, where, typed, early ?? (await invoking), reply);
      } catch (err) {
        log.error({ err }, 'a form submission failed');
        await reply.ephemeral(`❌ ${redactText(errorMessage(err))}`).catch(() => undefined);
      }
    });
  });

  // Type-ahead of a select with more names than Slack shows (100).
  app.options<'block_suggestion'>({ type: 'block_suggestion' }, async ({ ack, body }) => {
    const meta = readMeta(body.view?.private_metadata);
    if (!meta) return ack({ options: [] });
    try {
      // A form opened from Home reads where its person holds a role, as Home does.
      const caller: Caller = meta.channel ? { userId: body.user.id, channelId: meta.channel, surface: 'slack' } : await homeCaller(body.user.id);
      await ack({ options: await suggestions(meta, lookupFor(caller), body.value) });
    } catch (err) {
      log.warn({ err }, 'could not list options');
      await ack({ options: [] });
    }
  });

  app.shortcut(SHORTCUTS.declareIncident, async ({ ack, shortcut }) => {
    await ack();
    await open(shortcut.trigger_id, await formFor('incident open', await homeCaller(shortcut.user.id), { command: 'incident open' }));
  });

  app.shortcut(SHORTCUTS.incidentFromMessage, async ({ ack, shortcut }) => {
    await ack();
    if (shortcut.type !== 'message_action') return;
    const caller: Caller = { userId: shortcut.user.id, channelId: shortcut.channel.id, surface: 'slack' };
    const firstLine = (shortcut.message.text ?? '').split('\n').find((l) => l.trim() !== '') ?? '';
    // As written: Slack's tokens as their labels (or bare ids), its entities as the characters.
    const plain = typedText(firstLine.replace(/<[^|>]*\|([^>]*)>/g, '$1').replace(/<([^>]*)>/g, '$1'));
    const title = plain.replace(/^\s*>\s?/, '').replace(/[*_~`]/g, '').trim().slice(0, 150);
    const reply = ResponseUrlReply.to(shortcut.response_url);
    try {
      const threadTs = shortcut.message.thread_ts ?? shortcut.message.ts;
      await open(shortcut.trigger_id, await formFor('incident open', caller, { command: 'incident open', channel: shortcut.channel.id, threadTs }, { title }), reply);
    } catch (err) {
      await reply.ephemeral(`❌ ${redactText(errorMessage(err))}`);
    }
  });

  app.shortcut(SHORTCUTS.diagnosePod, async ({ ack, shortcut }) => {
    await ack();
    if (shortcut.type !== 'message_action') return;
    const channel = shortcut.channel.id;
    const threadTs = shortcut.message.thread_ts ?? shortcut.message.ts;
    const caller: Caller = { userId: shortcut.user.id, channelId: channel, threadTs, surface: 'slack' };
    const reply = ResponseUrlReply.to(shortcut.response_url);
    deps.queue(async () => {
      try {
        const pod = await podNamedIn(shortcut.message.text ?? '', lookupFor(caller));
        if (!pod) {
          await reply.ephemeral('This message names no pod of the Vlinders namespaces. Run `/vlinders diagnose pod` to choose one.');
          return;
        }
        const words = ['diagnose', 'pod', pod];
        await deps.answer(caller, { channel, threadTs }, `${config.slack.command} ${words.join(' ')}`, await engine.invoke(caller, words, deps.io()), reply);
      } catch (err) {
        await reply.ephemeral(`❌ ${redactText(errorMessage(err))}`);
      }
    });
  });

  /**
   * Answers to a person without a response_url (a form submission): an ephemeral message where
   * they ran it. A form may name a channel the person hasn't joined, or where the bot isn't:
   * Slack refuses the ephemeral there, and the answer goes to their DM with the app instead.
   */
  function ephemeralTo(channel: string, user: string): ReplyPost {
    return async (m) => {
      const blocks = 'blocks' in m && Array.isArray(m.blocks) ? { blocks: m.blocks } : {};
      try {
        await app.client.chat.postEphemeral({ channel, user, text: m.text ?? '', ...blocks });
      } catch (err) {
        if (slackErrorCode(err) !== 'user_not_in_channel' && !isClosedConversation(err)) throw err;
        // m.text is escaped already (ResponseUrlReply); the note is the bot's own words, with its mention.
        await app.client.chat.postMessage({ channel: user, text: `${messageText(`(for ${mentionChannel(channel)})`)} ${m.text ?? ''}`, ...blocks });
      }
    };
  }

  return {
    async openForm(command, triggerId, caller, reply) {
      if (!hasOwnForm(command)) return false;
      await open(triggerId, await formFor(command, caller, { command, channel: caller.channelId, ...(caller.threadTs ? { threadTs: caller.threadTs } : {}) }), reply);
      return true;
    },
    operation(id, requester, op) {
      if (op) running.set(id, op);
      else running.delete(id);
      refreshQuietly(requester);
    },
    refreshHome,
  };
}

/** The first pod of the Vlinders namespaces whose name the text mentions as a word. */
async function podNamedIn(text: string, lookup: FormLookup): Promise<string | undefined> {
  const words = new Set(text.split(/[^A-Za-z0-9.-]+/).filter(Boolean));
  if (words.size === 0) return undefined;
  const pods = await lookup.read(({ services, config }) => workloadNames(services, config, 'pods'));
  return pods.map((p) => p.split('/')[1] ?? '').find((name) => words.has(name));
}
