// The workspace's state and the bookkeeping around Web API calls: auth, injected faults, the call log,
// and what tests read back. The methods themselves are in web-api.ts; HTTP is in server.ts.

import { randomBytes } from 'node:crypto';
import type { Args } from './args.js';
import type {
  ApiCall,
  EmulatorOptions,
  RecordedEphemeral,
  RecordedMessage,
  RecordedResponse,
  RecordedUpload,
} from './types.js';

export type ApiBody = Record<string, unknown> & { ok: boolean; error?: string };
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: ApiBody;
}

type Fault = { kind: 'ratelimit'; seconds: number } | { kind: 'fail'; error: string } | { kind: 'http'; status: number };

export interface UserProfile {
  name: string;
  real_name: string;
  tz: string;
}

/** Where a response_url leads back to: the command or click it came with. */
export interface ResponseTarget {
  channel: string;
  user: string;
  messageTs?: string;
  threadTs?: string;
}

export interface PendingFile {
  filename: string;
  length: number;
  content?: Buffer;
}

export class SlackWorkspace {
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly teamId: string;
  readonly enterprise?: { id: string; name: string };
  readonly botUserId = 'UBOTEMULATOR';
  readonly botId = 'BBOTEMULATOR';
  readonly appId = 'A0EMULATOR';
  readonly teamDomain = 'vlinders-emulator';
  readonly teamName = 'Vlinders Emulator';

  messages: RecordedMessage[] = [];
  ephemerals: RecordedEphemeral[] = [];
  uploads: RecordedUpload[] = [];
  responses: RecordedResponse[] = [];
  calls: ApiCall[] = [];

  readonly userGroups = new Map<string, string[]>();
  readonly users = new Map<string, UserProfile>();
  readonly channels = new Map<string, string>();
  readonly files = new Map<string, PendingFile>();
  readonly responseTargets = new Map<string, ResponseTarget>();
  private readonly faults = new Map<string, Fault[]>();
  private readonly delays = new Map<string, number[]>();
  private tsSeconds = Math.floor(Date.now() / 1000);
  private tsMicros = 0;
  private seq = 0;

  constructor(opts: EmulatorOptions = {}) {
    this.botToken = opts.botToken ?? 'xoxb-emulator-bot';
    this.appToken = opts.appToken ?? 'xapp-emulator-app';
    this.signingSecret = opts.signingSecret ?? randomBytes(16).toString('hex');
    this.teamId = opts.teamId ?? 'T0EMULATOR';
    if (opts.enterprise) this.enterprise = opts.enterprise;
  }

  addUserGroup(id: string, userIds: string[]): void {
    this.userGroups.set(id, [...userIds]);
  }

  /** Optional: users.info and slash-command user_name default to a name derived from the id. */
  addUser(id: string, profile: Partial<UserProfile>): void {
    const name = profile.name ?? id.toLowerCase();
    this.users.set(id, { name, real_name: profile.real_name ?? name, tz: profile.tz ?? 'Europe/Amsterdam' });
  }

  /** Optional: conversations.info and channel_name default to a name derived from the id. */
  addChannel(id: string, name: string): void {
    this.channels.set(id, name);
  }

  userProfile(id: string): UserProfile {
    return this.users.get(id) ?? { name: id.toLowerCase(), real_name: id.toLowerCase(), tz: 'Europe/Amsterdam' };
  }

  channelName(id: string): string {
    return this.channels.get(id) ?? id.toLowerCase();
  }

  rateLimitNext(method: string, retryAfterSeconds: number, times = 1): void {
    this.queueFault(method, { kind: 'ratelimit', seconds: retryAfterSeconds }, times);
  }

  failNext(method: string, error: string, times = 1): void {
    this.queueFault(method, { kind: 'fail', error }, times);
  }

  /** Answers the next `times` calls with an HTTP error status, as Slack does in an outage (the client retries those). */
  serverErrorNext(method: string, status = 503, times = 1): void {
    this.queueFault(method, { kind: 'http', status }, times);
  }

  /** The next `times` calls of `method` are answered only after `ms` (a slow Slack: lets tests race two calls). */
  slowNext(method: string, ms: number, times = 1): void {
    const queue = this.delays.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(ms);
    this.delays.set(method, queue);
  }

  /** How long to hold the answer to this call of `method` (0 unless slowNext asked for more). */
  takeDelay(method: string): number {
    return this.delays.get(method)?.shift() ?? 0;
  }

  private queueFault(method: string, fault: Fault, times: number): void {
    const queue = this.faults.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(method, queue);
  }

  threadOf(channel: string, ts: string): RecordedMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.thread_ts === ts);
  }

  findMessage(channel: string, ts: string): RecordedMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  /** A message as Slack shows it in API answers and in block_actions payloads. */
  messageJson(m: RecordedMessage): Record<string, unknown> {
    return {
      type: 'message',
      user: m.user,
      bot_id: this.botId,
      app_id: this.appId,
      team: this.teamId,
      text: m.text,
      ts: m.ts,
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
      ...(m.blocks ? { blocks: m.blocks } : {}),
    };
  }

  /**
   * Polls `probe` every ~10ms until it returns something other than undefined, null or false.
   * A probe that throws fails the wait at once, so a broken assertion isn't hidden as a timeout.
   */
  async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false && value !== null) return value;
      if (Date.now() >= deadline) throw new Error(this.describeTimeout(probe, timeoutMs));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  private describeTimeout(probe: () => unknown, timeoutMs: number): string {
    const recent = this.calls
      .slice(-8)
      .map((c) => `${c.method}(${c.ok ? 'ok' : c.error ?? 'error'})`)
      .join(', ');
    const source = probe.toString().replace(/\s+/g, ' ').slice(0, 160);
    return (
      `waitFor: condition not met within ${timeoutMs}ms: ${source}\n` +
      `  workspace: ${this.messages.length} messages, ${this.ephemerals.length} ephemerals, ` +
      `${this.uploads.length} uploads, ${this.responses.length} responses\n` +
      `  last Web API calls: ${recent || '(none)'}`
    );
  }

  /** Unique, increasing message timestamps in Slack's 'seconds.micros' form. */
  nextTs(): string {
    this.tsMicros += 100;
    if (this.tsMicros >= 1_000_000) {
      this.tsSeconds += 1;
      this.tsMicros = 0;
    }
    return `${this.tsSeconds}.${String(this.tsMicros).padStart(6, '0')}`;
  }

  /** A short unique id with a Slack-like prefix (F for files, etc.). */
  nextId(prefix: string): string {
    this.seq += 1;
    return `${prefix}0EMU${String(this.seq).padStart(5, '0')}`;
  }

  /**
   * One Web API call: token check, then any injected fault, then the method. Every call is logged.
   * `handlers` maps method names to their implementations (web-api.ts).
   */
  call(
    method: string,
    args: Args,
    token: string | undefined,
    handlers: Record<string, (args: Args) => ApiBody>,
  ): ApiResponse {
    const { token: _token, ...logged } = args;
    const reply = (body: ApiBody, status = 200, headers: Record<string, string> = {}): ApiResponse => {
      this.calls.push({ method, args: logged, ok: body.ok, ...(body.error ? { error: body.error } : {}) });
      return { status, headers, body };
    };
    const handler = handlers[method];
    if (!handler) return reply({ ok: false, error: 'unknown_method' });
    // Socket Mode's apps.connections.open is the one method that takes the app-level token.
    const expected = method === 'apps.connections.open' ? this.appToken : this.botToken;
    if (token !== expected) return reply({ ok: false, error: 'invalid_auth' });

    const fault = this.faults.get(method)?.shift();
    if (fault?.kind === 'ratelimit') {
      return reply({ ok: false, error: 'ratelimited' }, 429, { 'Retry-After': String(fault.seconds) });
    }
    if (fault?.kind === 'fail') return reply({ ok: false, error: fault.error });
    if (fault?.kind === 'http') return reply({ ok: false, error: `http_${fault.status}` }, fault.status);
    return reply(handler(args));
  }
}
