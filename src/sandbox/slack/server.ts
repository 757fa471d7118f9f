// The emulator as a real HTTP server on 127.0.0.1: the Web API under /api/, file upload URLs,
// response_urls, and Socket Mode on the same port. It also plays the user against the app.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs, readBody, tokenOf, type Args } from './args.js';
import { SocketHub } from './socket.js';
import { blockActionsPayload, heldButton, newResponseUrl, postSigned, reactionEvent, slashCommandFields } from './user.js';
import { readBlocks, webApiMethods } from './web-api.js';
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
  async addReaction(url: string, reaction: ReactionInput, opts?: SignOpts): Promise<HttpResult | { notSent: string }> {
    const event = reactionEvent(this, reaction);
    if (typeof event === 'string') return { notSent: event };
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
