// The emulator as a real HTTP server on 127.0.0.1: the Web API under /api/, file upload URLs,
// response_urls, and Socket Mode on the same port. It also plays the user against the app.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs, readBody, tokenOf, type Args } from './args.js';
import { SocketHub } from './socket.js';
import { blockActionsPayload, heldButton, issueTrigger, newResponseUrl, postSigned, reactionEvent, slashCommandFields } from './user.js';
import { readBlocks, webApiMethods } from './web-api.js';
import { validateBlocks } from './block-kit.js';
import {
  appHomeOpenedEvent,
  blockSuggestionPayload,
  elementsOf,
  enterValues,
  freshValues,
  messageActionPayload,
  missingInputs,
  shortcutPayload,
  validateView,
  viewButtonPayload,
  viewClosedPayload,
  viewSubmissionPayload,
  VIEW_LIMITS,
  type HeldView,
} from './views.js';
import { SlackWorkspace, type ApiBody } from './workspace.js';
import type {
  ButtonClickInput,
  EmulatorOptions,
  ReactionInput,
  HttpResult,
  SignOpts,
  SlashCommandInput,
  SocketAck,
} from './types.js';

/** Where the app listens: its HTTP request URL, or 'socket' for its Socket Mode connection. */
export type AppEndpoint = string;
export const SOCKET: AppEndpoint = 'socket';

/** How Slack took the app's answer to a view submission. */
export type SubmitOutcome =
  | { result: 'closed' | 'cleared' | 'updated' | 'pushed' }
  | { result: 'errors'; errors: Record<string, string> }
  /** Slack refused the answer (invalid view, errors on a block that is no input, a failed request): the modal stays as it was. */
  | { result: 'refused'; reason: string };

const API_PREFIX = '/api/';
const UPLOAD_PREFIX = '/upload/v1/';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export class SlackWorkspaceEmulator extends SlackWorkspace {
  /** Pass as WebClient/Bolt `clientOptions.slackApiUrl` (the trailing slash matters to WebClient). */
  readonly apiUrl: string;
  /** http://127.0.0.1:PORT, without a trailing slash. */
  readonly baseUrl: string;
  private readonly server: Server;
  private readonly hub: SocketHub;
  private readonly methods: Record<string, (args: Args) => ApiBody>;
  private closing: Promise<void> | undefined;

  private constructor(opts: EmulatorOptions, server: Server, port: number) {
    super(opts);
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.baseUrl}${API_PREFIX}`;
    this.hub = new SocketHub(this.appId);
    this.methods = webApiMethods(this, {
      upload: (fileId) => `${this.baseUrl}${UPLOAD_PREFIX}${fileId}`,
      socket: () => this.hub.issueUrl(this.baseUrl),
    });
    server.on('request', (req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, { ok: false, error: 'internal_error', detail: String(err) });
        else res.destroy();
      });
    });
    server.on('upgrade', (req, socket, head: Buffer) => this.hub.handleUpgrade(req, socket, head));
  }

  static async start(opts: EmulatorOptions = {}): Promise<SlackWorkspaceEmulator> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new SlackWorkspaceEmulator(opts, server, (server.address() as AddressInfo).port);
  }

  /** Open Socket Mode connections (that were sent `hello`). */
  get socketConnections(): number {
    return this.hub.connections;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const path = url.pathname;
    if (req.method === 'GET' && path.startsWith(API_PREFIX)) {
      // Slack also takes GET with query arguments; a token in the query counts like one in a form.
      const args: Args = Object.fromEntries(url.searchParams);
      const reply = this.call(path.slice(API_PREFIX.length), args, tokenOf(req, args), this.methods);
      return send(res, reply.status, reply.body, reply.headers);
    }
    if (req.method !== 'POST') return send(res, 405, 'method_not_allowed');
    const body = await readBody(req);
    if (path.startsWith(API_PREFIX)) return this.serveApi(req, res, path.slice(API_PREFIX.length), body);
    if (path.startsWith(UPLOAD_PREFIX)) return this.serveUpload(req, res, path.slice(UPLOAD_PREFIX.length), body);
    if (path.startsWith('/commands/') || path.startsWith('/actions/')) return this.serveResponseUrl(res, path.slice(1), body);
    send(res, 404, 'not_found');
  }

  private async serveApi(req: IncomingMessage, res: ServerResponse, method: string, raw: Buffer): Promise<void> {
    let args: Args;
    try {
      args = await parseArgs(req.headers['content-type'], raw);
    } catch {
      this.calls.push({ method, args: {}, ok: false, error: 'invalid_json', at: this.now() });
      return send(res, 200, { ok: false, error: 'invalid_json' });
    }
    const delay = this.takeDelay(method);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const reply = this.call(method, args, tokenOf(req, args), this.methods);
    send(res, reply.status, reply.body, reply.headers);
  }

  /** The upload URL takes the bytes raw or as multipart (WebClient sends a multipart form). */
  private async serveUpload(req: IncomingMessage, res: ServerResponse, fileId: string, raw: Buffer): Promise<void> {
    const file = this.files.get(fileId);
    if (!file) return send(res, 404, 'file_not_found');
    let content = raw;
    if ((req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
      const parts = await parseArgs(req.headers['content-type'], raw);
      const bytes = Object.values(parts).find((v): v is Buffer => Buffer.isBuffer(v));
      if (!bytes) return send(res, 400, 'no_file_data');
      content = bytes;
    }
    // The length given to files.getUploadURLExternal is the most the URL takes.
    if (content.length > file.length) return send(res, 413, 'file_too_large');
    file.content = content;
    send(res, 200, `OK - ${content.length}`);
  }

  /** What Bolt's respond() posts to: an ephemeral reply, a channel message, or a change to the original. */
  private serveResponseUrl(res: ServerResponse, id: string, raw: Buffer): void {
    const target = this.responseTargets.get(id);
    if (!target) return send(res, 404, 'no_such_response_url');
    // Slack: up to 5 responses within 30 minutes of the command or click.
    if (this.now() - target.issuedAt > this.limits.responseUrlTtlMs) return send(res, 404, 'expired_url');
    if (target.uses >= this.limits.responseUrlUses) return send(res, 404, 'used_url');
    let args: Args;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      args = typeof parsed === 'object' && parsed !== null ? (parsed as Args) : {};
    } catch {
      return send(res, 400, 'invalid_payload');
    }
    const b = readBlocks(args);
    if ('error' in b) return send(res, 400, b.error);
    target.uses += 1;
    const text = typeof args.text === 'string' ? args.text : '';
    const responseType = typeof args.response_type === 'string' ? args.response_type : undefined;
    const replace = args.replace_original === true || args.replace_original === 'true';
    const del = args.delete_original === true || args.delete_original === 'true';
    const blocks = b.blocks ? { blocks: b.blocks } : {};
    this.responses.push({
      channel: target.channel,
      user: target.user,
      text,
      ...blocks,
      ...(responseType ? { response_type: responseType } : {}),
      ...(replace ? { replace_original: true } : {}),
      ...(del ? { delete_original: true } : {}),
    });
    const original = target.messageTs ? this.findMessage(target.channel, target.messageTs) : undefined;
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : target.threadTs;
    if (del && original) {
      original.deleted = true;
    } else if (replace && original) {
      original.updates.push({ text, ...blocks });
      original.text = text;
      if (b.blocks) original.blocks = b.blocks;
      else delete original.blocks;
    } else if (responseType === 'in_channel') {
      this.messages.push({
        channel: target.channel,
        ts: this.nextTs(),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        text,
        ...blocks,
        user: this.botUserId,
        updates: [],
      });
    } else {
      this.ephemerals.push({
        channel: target.channel,
        user: target.user,
        text,
        ...blocks,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        message_ts: this.nextTs(),
      });
    }
    send(res, 200, { ok: true });
  }

  // ---- Playing the user over HTTP: POSTs to the app's request URL, signed like Slack. ----

  /** A person can type a command only in a conversation they are in. */
  private checkTyped(cmd: SlashCommandInput): void {
    const c = this.conversations.get(cmd.channel);
    if (!c) throw new Error(`no conversation ${cmd.channel} in the workspace: add it first (addChannel, addDm, addGroupDm)`);
    if (!this.isMember(c, cmd.user)) throw new Error(`${cmd.user} is not in ${cmd.channel}, so can't type there`);
    if (c.archived) throw new Error(`${cmd.channel} is archived: Slack has no message box there`);
  }

  async sendSlashCommand(url: string, cmd: SlashCommandInput, opts?: SignOpts): Promise<HttpResult> {
    this.checkTyped(cmd);
    const responseUrl = newResponseUrl(this, this.baseUrl, 'commands', { channel: cmd.channel, user: cmd.user });
    const body = new URLSearchParams(slashCommandFields(this, cmd, responseUrl)).toString();
    const result = await postSigned(url, body, this.signingSecret, opts);
    if (result.status === 200 && result.body !== '') {
      let reply: unknown = result.body;
      try {
        reply = JSON.parse(result.body);
      } catch {
        // A plain-text ack body is shown as is.
      }
      this.showCommandReply(cmd, reply);
    }
    return result;
  }

  /**
   * Slack shows a slash command's ack body to the user: ephemeral unless response_type is in_channel.
   * A body with invalid blocks shows nothing here (Slack shows the user an error instead).
   */
  private showCommandReply(cmd: SlashCommandInput, reply: unknown): void {
    const args: Args = typeof reply === 'string' ? { text: reply } : typeof reply === 'object' && reply !== null ? (reply as Args) : {};
    const text = typeof args.text === 'string' ? args.text : '';
    const b = readBlocks(args);
    if ('error' in b || (text === '' && !b.blocks?.length)) return;
    const blocks = b.blocks ? { blocks: b.blocks } : {};
    if (args.response_type === 'in_channel') {
      this.messages.push({ channel: cmd.channel, ts: this.nextTs(), text, ...blocks, user: this.botUserId, updates: [] });
    } else {
      this.ephemerals.push({ channel: cmd.channel, user: cmd.user, text, ...blocks, message_ts: this.nextTs() });
    }
  }

  /** Whether the click would land on a button the clicker can see now. */
  /**
   * A response_url as Slack hands one out with a command typed by `user` in `channel`, for a
   * load generator that signs its own requests (bench/ack-load.ts).
   */
  responseUrlFor(cmd: { channel: string; user: string }): string {
    return newResponseUrl(this, this.baseUrl, 'commands', cmd);
  }

  holdsButton(click: ButtonClickInput): boolean {
    try {
      heldButton(this, click);
      return true;
    } catch {
      return false;
    }
  }

  async clickButton(url: string, click: ButtonClickInput, opts?: SignOpts): Promise<HttpResult> {
    const payload = blockActionsPayload(this, click, this.clickResponseUrl(click));
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return postSigned(url, body, this.signingSecret, opts);
  }

  private clickResponseUrl(click: ButtonClickInput): string {
    const threadTs = this.findMessage(click.channel, click.messageTs)?.thread_ts ?? this.ephemerals.find((e) => e.channel === click.channel && e.message_ts === click.messageTs)?.thread_ts;
    return newResponseUrl(this, this.baseUrl, 'actions', {
      channel: click.channel,
      user: click.user,
      messageTs: click.messageTs,
      ...(threadTs ? { threadTs } : {}),
    });
  }

  /**
   * A person adds an emoji reaction to a message; Slack sends the app a reaction_added event
   * (signed JSON) when it subscribes to it and is in the conversation. Returns the app's answer,
   * or why no event was sent.
   */
  async addReaction(url: string, reaction: ReactionInput, opts?: SignOpts): Promise<(HttpResult & { event: Record<string, unknown> }) | { notSent: string }> {
    const event = reactionEvent(this, reaction);
    if (typeof event === 'string') return { notSent: event };
    return { ...(await this.deliverEvent(url, event, opts)), event };
  }

  /**
   * Delivers an event_callback, signed. With retryNum it is Slack's retry of an event it sent:
   * the same event (the same event_id) with X-Slack-Retry-Num and X-Slack-Retry-Reason, as Slack
   * sends when the app's answer didn't come within 3 s or wasn't a 2xx (up to 3 retries: at
   * once, after 1 minute, after 5).
   */
  deliverEvent(url: string, event: Record<string, unknown>, opts: SignOpts = {}): Promise<HttpResult> {
    return postSigned(url, JSON.stringify(event), this.signingSecret, opts, 'application/json');
  }

  // ---- Playing the user over Socket Mode: envelopes on the app's WebSocket. ----

  /** Resolves once a Socket Mode client has connected and been sent `hello`. */
  socketConnected(): Promise<void> {
    return this.hub.connected();
  }

  /** Resolves with the app's ack frame (its payload is shown like an HTTP ack body); rejects after timeoutMs. */
  async sendSlashCommandSocket(cmd: SlashCommandInput, timeoutMs = 3000): Promise<SocketAck> {
    this.checkTyped(cmd);
    const responseUrl = newResponseUrl(this, this.baseUrl, 'commands', { channel: cmd.channel, user: cmd.user });
    const ack = await this.hub.send('slash_commands', slashCommandFields(this, cmd, responseUrl), true, timeoutMs);
    this.showCommandReply(cmd, ack.payload);
    return ack;
  }

  /** block_actions arrive as `interactive` envelopes with accepts_response_payload false, as captured. */
  async clickButtonSocket(click: ButtonClickInput, timeoutMs = 3000): Promise<SocketAck> {
    const payload = blockActionsPayload(this, click, this.clickResponseUrl(click));
    return this.hub.send('interactive', payload, false, timeoutMs);
  }

  /** addReaction over Socket Mode: the event_callback as the payload of an `events_api` envelope. */
  async addReactionSocket(reaction: ReactionInput, timeoutMs = 3000): Promise<SocketAck | { notSent: string }> {
    const event = reactionEvent(this, reaction);
    if (typeof event === 'string') return { notSent: event };
    return this.hub.send('events_api', event, false, timeoutMs);
  }

  // ---- Playing the user with views: the Home tab, modals, shortcuts. ----

  /** Sends a payload the way Slack does: interactive ones as a signed form, events as signed JSON, or on the socket. */
  private async deliver(to: AppEndpoint, payload: Record<string, unknown>, opts: { event?: boolean; acceptsResponse?: boolean } = {}): Promise<{ status: number; body: unknown }> {
    if (to === SOCKET) {
      const ack = await this.hub.send(opts.event ? 'events_api' : 'interactive', payload, opts.acceptsResponse ?? false, 3000);
      return { status: 200, body: ack.payload ?? '' };
    }
    const res = opts.event
      ? await postSigned(to, JSON.stringify(payload), this.signingSecret, {}, 'application/json')
      : await postSigned(to, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), this.signingSecret);
    let body: unknown = res.body;
    try {
      body = res.body === '' ? '' : (JSON.parse(res.body) as unknown);
    } catch {
      // A plain-text body is kept as text.
    }
    return { status: res.status, body };
  }

  /** The person's direct message with the app (the Messages tab beside Home), made on first use. */
  dmWithBot(user: string): string {
    for (const c of this.conversations.values()) {
      if (c.type === 'im' && c.bot && c.members?.has(user)) return c.id;
    }
    return this.addDm(this.nextId('D'), user, this.botUserId).id;
  }

  /** The person opens the app's Home tab: Slack sends app_home_opened (with the view it shows, if any). */
  async openHome(to: AppEndpoint, user: string): Promise<{ status: number }> {
    const held = this.homeOf(user);
    const res = await this.deliver(to, appHomeOpenedEvent(this, user, this.dmWithBot(user), held), { event: true });
    return { status: res.status };
  }

  homeOf(user: string): HeldView | undefined {
    const id = this.homes.get(user);
    return id ? this.views.get(id) : undefined;
  }

  /** The modal a person sees, or a clear error when none is open. */
  private openModal(user: string): HeldView {
    const held = this.topModal(user);
    if (!held) throw new Error(`${user} has no modal open`);
    return held;
  }

  /** Types or picks values into the inputs of the person's open modal, by action_id. */
  fillModal(user: string, values: Record<string, string>): HeldView {
    const held = this.openModal(user);
    enterValues(this, held, values);
    return held;
  }

  /**
   * The person presses Submit on their open modal (after filling `values`). Slack's client sends
   * nothing while a required input is empty. The app's ack decides what the person sees next.
   */
  async submitModal(to: AppEndpoint, user: string, values: Record<string, string> = {}): Promise<SubmitOutcome> {
    const held = this.fillModal(user, values);
    const missing = missingInputs(held);
    if (missing.length > 0) throw new Error(`required inputs left empty: ${missing.join(', ')} (Slack's client would not submit)`);
    const res = await this.deliver(to, viewSubmissionPayload(this, held, issueTrigger(this, user)), { acceptsResponse: true });
    if (res.status !== 200) return { result: 'refused', reason: `HTTP ${res.status}` };
    const ack = typeof res.body === 'object' && res.body !== null ? (res.body as Record<string, unknown>) : {};
    const stack = this.modalStacks.get(user) ?? [];
    switch (ack.response_action) {
      case undefined:
        stack.pop();
        return { result: 'closed' };
      case 'clear':
        this.modalStacks.set(user, []);
        return { result: 'cleared' };
      case 'errors': {
        const errors = typeof ack.errors === 'object' && ack.errors !== null ? (ack.errors as Record<string, string>) : {};
        const inputs = new Set(Object.keys(freshValues(held.view)));
        const stray = Object.keys(errors).filter((id) => !inputs.has(id));
        if (Object.keys(errors).length === 0 || stray.length > 0) return { result: 'refused', reason: `errors name no input block: ${stray.join(', ') || '(none given)'}` };
        held.errors = errors;
        return { result: 'errors', errors };
      }
      case 'update':
      case 'push': {
        const invalid = validateView(ack.view, 'modal');
        if (invalid.length > 0) return { result: 'refused', reason: invalid.join('; ') };
        const view = ack.view as Record<string, unknown>;
        if (ack.response_action === 'update') {
          held.view = view;
          held.values = freshValues(view, held.values);
          held.hash = this.nextTs();
          delete held.errors;
          return { result: 'updated' };
        }
        if (stack.length >= VIEW_LIMITS.modalStack) return { result: 'refused', reason: 'push_limit_reached' };
        const id = this.nextId('V');
        this.views.set(id, { id, type: 'modal', user, hash: this.nextTs(), view, values: freshValues(view), rootId: held.rootId, previousId: held.id, suggested: new Map() });
        stack.push(id);
        return { result: 'pushed' };
      }
      default:
        return { result: 'refused', reason: `unknown response_action ${String(ack.response_action)}` };
    }
  }

  /** The person closes their open modal (Cancel or ✕); the app hears of it only when it asked (notify_on_close). */
  async closeModal(to: AppEndpoint, user: string): Promise<void> {
    const held = this.openModal(user);
    this.modalStacks.get(user)?.pop();
    if (held.view.notify_on_close === true) await this.deliver(to, viewClosedPayload(this, held));
  }

  /**
   * The person types `query` into an external select of their open modal: Slack asks the app for
   * options (block_suggestion) once the query is min_query_length long (default 3), and shows at
   * most 100 of a valid answer. Returns the values offered.
   */
  async typeIntoSelect(to: AppEndpoint, user: string, actionId: string, query: string): Promise<string[]> {
    const held = this.openModal(user);
    const found = elementsOf(held.view).find((e) => e.element.action_id === actionId && e.element.type === 'external_select');
    if (!found) throw new Error(`no external select "${actionId}" in view ${held.id}`);
    const minLength = typeof found.element.min_query_length === 'number' ? found.element.min_query_length : 3;
    if (query.length < minLength) return [];
    const res = await this.deliver(to, blockSuggestionPayload(this, held, found.blockId, actionId, query), { acceptsResponse: true });
    const body = typeof res.body === 'object' && res.body !== null ? (res.body as Record<string, unknown>) : {};
    const options = Array.isArray(body.options) ? body.options : [];
    // The answer is held to a static select's rules: at most 100 options, each a valid option object.
    const errors = validateBlocks([{ type: 'actions', elements: [{ type: 'static_select', action_id: 'suggested', options }] }]);
    if (res.status !== 200 || errors.length > 0) {
      held.suggested.set(actionId, []);
      return [];
    }
    held.suggested.set(actionId, options as Array<Record<string, unknown>>);
    return options.map((o) => String((o as { value: unknown }).value));
  }

  /** A click on a button in the person's Home tab or open modal, by action_id or label. */
  async clickInView(to: AppEndpoint, user: string, surface: 'home' | 'modal', button: string): Promise<{ status: number }> {
    const held = surface === 'home' ? this.homeOf(user) : this.topModal(user);
    if (!held) throw new Error(`${user} has no ${surface} view`);
    const buttons = elementsOf(held.view).filter((e) => e.element.type === 'button');
    const label = (el: Record<string, unknown>) => (el.text as { text?: string } | undefined)?.text;
    const byId = buttons.filter((b) => b.element.action_id === button);
    const matches = byId.length > 0 ? byId : buttons.filter((b) => label(b.element) === button);
    if (matches.length !== 1) throw new Error(`${matches.length === 0 ? 'no' : 'more than one'} button "${button}" in ${surface} (buttons: ${buttons.map((b) => `${String(b.element.action_id)} "${label(b.element) ?? ''}"`).join(', ') || 'none'})`);
    const hit = matches[0] as { blockId: string; element: Record<string, unknown> };
    const res = await this.deliver(to, viewButtonPayload(this, held, hit.blockId, hit.element, issueTrigger(this, user)));
    return { status: res.status };
  }

  private declaredShortcut(callbackId: string, type: 'global' | 'message'): void {
    if (this.shortcuts && !this.shortcuts.some((s) => s.callback_id === callbackId && s.type === type)) {
      throw new Error(`the app declares no ${type} shortcut "${callbackId}", so Slack offers none`);
    }
  }

  /** The person runs a global shortcut (the ⚡ menu). */
  async runShortcut(to: AppEndpoint, user: string, callbackId: string): Promise<{ status: number }> {
    this.declaredShortcut(callbackId, 'global');
    return { status: (await this.deliver(to, shortcutPayload(this, user, callbackId, issueTrigger(this, user)))).status };
  }

  /** The person runs a message shortcut from a message's ⋮ menu, on a message they can see. */
  async runMessageShortcut(to: AppEndpoint, input: { user: string; channel: string; messageTs: string; callbackId: string }): Promise<{ status: number }> {
    this.declaredShortcut(input.callbackId, 'message');
    const c = this.conversations.get(input.channel);
    const message = this.findMessage(input.channel, input.messageTs);
    if (!c || !this.isMember(c, input.user) || !message) throw new Error(`${input.user} sees no message ${input.messageTs} in ${input.channel}`);
    const responseUrl = newResponseUrl(this, this.baseUrl, 'commands', { channel: input.channel, user: input.user, ...(message.thread_ts ? { threadTs: message.thread_ts } : {}) });
    const payload = messageActionPayload(this, { ...input, message: this.messageJson(message) }, issueTrigger(this, input.user), responseUrl);
    return { status: (await this.deliver(to, payload)).status };
  }

  /** Drops sockets and connections and stops listening. Stop the Bolt app first, or it will try to reconnect. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.hub.close();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    })();
    return this.closing;
  }
}
