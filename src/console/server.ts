// The console's HTTP server: the page, and a small JSON API through which the page plays the
// demo people against the real bot (slash commands and button clicks go through the Slack
// workspace emulator, signed as Slack signs them) and reads back what the workspace shows.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { SlackWorkspaceEmulator } from '../sandbox/slack/index.js';
import { commandTextAsSent } from '../sandbox/slack/user.js';
import type { DemoChannel, DemoUser } from './demo.js';
import { pageAssets } from './page.js';
import { consoleState, isPng, stateVersion } from './state.js';

export interface Banner {
  /** True when the cluster is the sandbox (the emulator with a seeded Vlinders world). */
  sandbox: boolean;
  /** What the banner says about the cluster. */
  cluster: string;
}

export interface ConsoleServerOptions {
  slack: SlackWorkspaceEmulator;
  /** The bot's request URL (HTTP mode), where Slack would POST. */
  botUrl: string;
  /** The slash command, e.g. /vlinders. */
  command: string;
  users: readonly DemoUser[];
  channels: readonly DemoChannel[];
  banner: Banner;
  log: Logger;
  /**
   * Required in the X-Console-Token header of every /api request when set: the console on a
   * real cluster acts there as its demo admin, so only whoever started it may use it.
   */
  token?: string;
}

const MAX_BODY = 64 * 1024;
// Slack caps what can be typed after a slash command; anything near it is a mistake here.
const MAX_COMMAND_TEXT = 4000;

const SECURITY_HEADERS = {
  // The page loads only its own script and style, and the text it shows comes from the bot,
  // so nothing inline or from elsewhere may run even if rendering ever slipped.
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));

async function readJson(req: IncomingMessage): Promise<unknown> {
  // A JSON content type can't be sent cross-origin without a CORS preflight, which this
  // server never answers: a web page elsewhere can't run commands through the console.
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'expected application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid JSON');
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return result.data;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function createConsoleServer(opts: ConsoleServerOptions): Server {
  const { slack, users, channels } = opts;
  const assets = pageAssets();
  const userIds = new Set(users.map((u) => u.id));
  const commandBody = z.object({ user: z.string(), channel: z.string(), text: z.string().max(MAX_COMMAND_TEXT) });
  const clickBody = z.object({ user: z.string(), channel: z.string(), ts: z.string(), actionId: z.string() });
  const homeBody = z.object({ user: z.string() });
  const viewBody = z.discriminatedUnion('op', [
    z.object({ op: z.literal('click'), user: z.string(), surface: z.enum(['home', 'modal']), actionId: z.string().max(255) }),
    z.object({ op: z.literal('submit'), user: z.string(), values: z.record(z.string().max(255), z.string().max(3000)) }),
    z.object({ op: z.literal('close'), user: z.string() }),
    z.object({ op: z.literal('suggest'), user: z.string(), actionId: z.string().max(255), query: z.string().max(200) }),
  ]);
  const shortcutBody = z.object({ user: z.string(), channel: z.string(), ts: z.string(), callbackId: z.string().max(255) });

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) opts.log.error({ err }, 'console request failed');
      const message = err instanceof HttpError ? err.message : 'console error; see its log';
      if (!res.headersSent) sendJson(res, status, { error: message });
      else res.destroy();
    });
  });

  /** Only the console's own origin, by name or loopback address (no DNS rebinding). */
  function checkHost(req: IncomingMessage): void {
    const address = server.address();
    const port = address && typeof address === 'object' ? address.port : undefined;
    const bound = address && typeof address === 'object' ? address.address : '';
    // Bound to every interface on purpose (host 0.0.0.0): any name may reach it.
    if (!['127.0.0.1', '::1'].includes(bound)) return;
    let host: URL;
    try {
      host = new URL(`http://${req.headers.host ?? ''}`);
    } catch {
      throw new HttpError(421, 'bad Host header');
    }
    if (!LOOPBACK.has(host.hostname) || Number(host.port || 80) !== port) throw new HttpError(421, 'unexpected Host header');
    const origin = req.headers.origin;
    if (req.method === 'POST' && origin !== undefined && origin !== `http://${req.headers.host}`) throw new HttpError(403, 'cross-origin request refused');
  }

  function checkUser(user: string): void {
    if (!userIds.has(user)) throw new HttpError(400, `unknown demo user ${user}`);
  }

  function checkToken(req: IncomingMessage, path: string): void {
    if (!opts.token || !path.startsWith('/api/')) return;
    const given = Buffer.from(String(req.headers['x-console-token'] ?? ''));
    const wanted = Buffer.from(opts.token);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) throw new HttpError(401, 'this console needs the token it printed when it started');
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkHost(req);
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    checkToken(req, path);
    if (req.method === 'GET') {
      const asset = assets.get(path);
      if (asset) return send(res, 200, asset.type, asset.body);
      if (path === '/api/meta') {
        return sendJson(res, 200, {
          banner: opts.banner,
          command: opts.command,
          users,
          bot: { id: slack.botUserId, name: 'vlinders-ops' },
          channels,
          shortcuts: slack.shortcuts ?? [],
        });
      }
      if (path === '/api/state') {
        const user = url.searchParams.get('user') ?? '';
        checkUser(user);
        // Polled twice a second: answer "nothing new" without building the state.
        const since = url.searchParams.get('since');
        if (since !== null && since === stateVersion(slack)) return sendJson(res, 200, { version: since, unchanged: true });
        return sendJson(res, 200, consoleState(slack, user, channels));
      }
      const upload = /^\/api\/uploads\/(\d+)$/.exec(path);
      if (upload) {
        const file = slack.uploads[Number(upload[1])];
        if (!file) throw new HttpError(404, 'no such upload');
        return isPng(file.bytes) ? send(res, 200, 'image/png', file.bytes) : send(res, 200, 'text/plain; charset=utf-8', file.content);
      }
      throw new HttpError(404, 'not found');
    }
    if (req.method === 'POST' && path === '/api/command') return command(res, parse(commandBody, await readJson(req)));
    if (req.method === 'POST' && path === '/api/click') return click(res, parse(clickBody, await readJson(req)));
    if (req.method === 'POST' && path === '/api/home') return home(res, parse(homeBody, await readJson(req)));
    if (req.method === 'POST' && path === '/api/view') return viewAction(res, parse(viewBody, await readJson(req)));
    if (req.method === 'POST' && path === '/api/shortcut') return shortcut(res, parse(shortcutBody, await readJson(req)));
    throw new HttpError(405, 'method not allowed');
  }

  /** Types `/vlinders <text>` as a demo person: Slack's signed slash-command request to the bot. */
  async function command(res: ServerResponse, body: z.infer<typeof commandBody>): Promise<void> {
    checkUser(body.user);
    let text = body.text.trim();
    if (text === opts.command || text.startsWith(`${opts.command} `)) text = text.slice(opts.command.length).trim();
    else if (text.startsWith('/')) throw new HttpError(400, `Only ${opts.command} is installed in this workspace.`);
    if (text === '') text = 'help';
    const channel = slack.channelName(body.channel);
    // As a Slack client sends it: entities escaped, a known @name or #channel as its mention.
    const result = await slack.sendSlashCommand(opts.botUrl, { user: body.user, channel: body.channel, text: commandTextAsSent(slack, text), channelName: channel });
    if (result.status !== 200) throw new HttpError(502, `the bot answered HTTP ${result.status}`);
    sendJson(res, 200, { ok: true, ms: result.ms });
  }

  /**
   * Clicks a button the person can see, as Slack's signed block_actions request. Like a Slack
   * client, the page can only click buttons that are there now, so a card whose buttons were
   * replaced can't be approved twice from a stale page.
   */
  async function click(res: ServerResponse, body: z.infer<typeof clickBody>): Promise<void> {
    checkUser(body.user);
    const click = { user: body.user, channel: body.channel, messageTs: body.ts, button: body.actionId };
    if (!slack.holdsButton(click)) throw new HttpError(409, 'That button is no longer there.');
    const result = await slack.clickButton(opts.botUrl, click);
    if (result.status !== 200) throw new HttpError(502, `the bot answered HTTP ${result.status}`);
    sendJson(res, 200, { ok: true, ms: result.ms });
  }

  /** The person opens the app's Home tab: Slack's app_home_opened, signed, to the bot. */
  async function home(res: ServerResponse, body: z.infer<typeof homeBody>): Promise<void> {
    checkUser(body.user);
    const result = await slack.openHome(opts.botUrl, body.user);
    if (result.status !== 200) throw new HttpError(502, `the bot answered HTTP ${result.status}`);
    sendJson(res, 200, { ok: true });
  }

  /**
   * What a person does with a view the workspace shows them: a button in Home or a modal, Submit,
   * Cancel, typing into a select. Like Slack's client, only what the view holds can be used:
   * anything else is refused as the emulator refuses it.
   */
  async function viewAction(res: ServerResponse, body: z.infer<typeof viewBody>): Promise<void> {
    checkUser(body.user);
    try {
      if (body.op === 'click') return sendJson(res, 200, await slack.clickInView(opts.botUrl, body.user, body.surface, body.actionId));
      if (body.op === 'submit') return sendJson(res, 200, await slack.submitModal(opts.botUrl, body.user, body.values));
      if (body.op === 'close') {
        await slack.closeModal(opts.botUrl, body.user);
        return sendJson(res, 200, { ok: true });
      }
      return sendJson(res, 200, { options: await slack.typeIntoSelect(opts.botUrl, body.user, body.actionId, body.query) });
    } catch (err) {
      throw new HttpError(409, err instanceof Error ? err.message : String(err));
    }
  }

  /** A message shortcut from a message's menu (⋮), on a message the person can see. */
  async function shortcut(res: ServerResponse, body: z.infer<typeof shortcutBody>): Promise<void> {
    checkUser(body.user);
    try {
      const result = await slack.runMessageShortcut(opts.botUrl, { user: body.user, channel: body.channel, messageTs: body.ts, callbackId: body.callbackId });
      if (result.status !== 200) throw new HttpError(502, `the bot answered HTTP ${result.status}`);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(409, err instanceof Error ? err.message : String(err));
    }
    sendJson(res, 200, { ok: true });
  }

  return server;
}
