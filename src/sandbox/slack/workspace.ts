// The workspace's state and the bookkeeping around Web API calls: auth, injected faults, the call log,
// and what tests read back. The methods themselves are in web-api.ts; HTTP is in server.ts.

import { randomBytes } from 'node:crypto';
import type { Args } from './args.js';
import type { HeldView } from './views.js';
import type {
  ApiCall,
  EmulatorOptions,
  SlackLimits,
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
  /** When Slack handed it out (the workspace clock), and how often it was posted to. */
  issuedAt: number;
  uses: number;
}

export const DEFAULT_LIMITS: SlackLimits = {
  postMessagesPerSecond: 1,
  postMessageBurst: 3,
  responseUrlUses: 5,
  responseUrlTtlMs: 30 * 60_000,
  maxUploadBytes: 1024 ** 3,
  triggerTtlMs: 3000,
  callsPerMinuteByTier: { 1: 1, 2: 20, 3: 50, 4: 100 },
};

/**
 * The rate-limit tier of each method the emulator serves, from each method's page in
 * docs.slack.dev/reference/methods. chat.postMessage has its own limit (one a second per
 * channel, takePostToken); auth.test and chat.getPermalink are "Special" there, held to Tier 4.
 */
const TIER_1_BURST = 3;
const TIER_OF_METHOD: Record<string, 1 | 2 | 3 | 4> = {
  'apps.connections.open': 1,
  'auth.test': 4,
  'chat.delete': 3,
  'chat.getPermalink': 4,
  'chat.postEphemeral': 4,
  'chat.update': 3,
  'conversations.create': 2,
  'conversations.history': 3,
  'conversations.info': 3,
  'conversations.invite': 3,
  'files.completeUploadExternal': 4,
  'files.getUploadURLExternal': 4,
  'pins.add': 2,
  'usergroups.users.list': 2,
  'users.info': 4,
  'views.open': 4,
  'views.publish': 4,
  'views.push': 4,
  'views.update': 4,
};

/** What a fresh install of an app with chat:write and no chat:write.public holds. */
export const DEFAULT_SCOPES = ['chat:write', 'commands', 'files:write', 'usergroups:read'];

/** Which bot scope each Web API method needs (docs.slack.dev/reference/methods); others need none here. */
const SCOPE_OF_METHOD: Record<string, string> = {
  'chat.postMessage': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'files.getUploadURLExternal': 'files:write',
  'files.completeUploadExternal': 'files:write',
  'usergroups.users.list': 'usergroups:read',
  // conversations.create/invite/history check theirs per channel type (channels.ts).
  'pins.add': 'pins:write',
};

export type ConversationType = 'public_channel' | 'private_channel' | 'im' | 'mpim';

/** A conversation and who is in it. A public channel without a member list is open to every person. */
export interface Conversation {
  id: string;
  name: string;
  type: ConversationType;
  /** People (and the bot, once invited) in it; undefined for an open public channel. */
  members?: Set<string>;
  /** The bot's own membership, kept apart so an open public channel can still lack the bot. */
  bot: boolean;
  /** conversations.create: when (unix seconds) and by whom. */
  created?: number;
  creator?: string;
  /** Timestamps of the messages pinned here (pins.add). */
  pins?: Set<string>;
  /** Archived (archive): readable, but nobody posts, edits or invites there. */
  archived?: boolean;
}

export interface PendingFile {
  filename: string;
  length: number;
  /** files.getUploadURLExternal's alt_txt: the image described for screen readers. */
  altTxt?: string;
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
  readonly conversations = new Map<string, Conversation>();
  readonly scopes: ReadonlySet<string>;
  readonly botEvents: ReadonlySet<string>;
  readonly limits: SlackLimits;
  readonly now: () => number;
  /** chat.postMessage tokens per channel: a bucket that refills postMessagesPerSecond up to the burst. */
  private readonly postBuckets = new Map<string, { tokens: number; at: number }>();
  /** Every other method's calls within the last minute, per method (its tier's number at most). */
  private readonly methodCalls = new Map<string, number[]>();
  readonly files = new Map<string, PendingFile>();
  readonly responseTargets = new Map<string, ResponseTarget>();
  /** trigger_ids handed out with interactions: whose, when, and whether a view was opened with it. */
  readonly triggers = new Map<string, { user: string; issuedAt: number; used: boolean }>();
  /** Every view the app opened or published, by id. */
  readonly views = new Map<string, HeldView>();
  /** Each person's open modals, root first: what they see on top is the last. */
  readonly modalStacks = new Map<string, string[]>();
  /** Each person's Home tab view. */
  readonly homes = new Map<string, string>();
  /** The shortcuts the app declares (its manifest): Slack offers only those. Undefined: any. */
  readonly shortcuts?: ReadonlyArray<{ callback_id: string; type: 'global' | 'message' }>;
  private readonly faults = new Map<string, Fault[]>();
  private lastTsMicros = 0;
  private readonly delays = new Map<string, number[]>();
  private seq = 0;

  constructor(opts: EmulatorOptions = {}) {
    this.botToken = opts.botToken ?? 'xoxb-emulator-bot';
    this.appToken = opts.appToken ?? 'xapp-emulator-app';
    this.signingSecret = opts.signingSecret ?? randomBytes(16).toString('hex');
    this.teamId = opts.teamId ?? 'T0EMULATOR';
    if (opts.enterprise) this.enterprise = opts.enterprise;
    this.scopes = new Set(opts.scopes ?? DEFAULT_SCOPES);
    this.botEvents = new Set(opts.botEvents ?? []);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    if (opts.shortcuts) this.shortcuts = opts.shortcuts;
  }

  /** A view a person sees now: their Home tab, or a modal in their open stack. */
  isShown(held: HeldView): boolean {
    return held.type === 'home' ? this.homes.get(held.user) === held.id : (this.modalStacks.get(held.user) ?? []).includes(held.id);
  }

  /** The modal on top of a person's stack, if one is open. */
  topModal(user: string): HeldView | undefined {
    const stack = this.modalStacks.get(user) ?? [];
    const id = stack[stack.length - 1];
    return id ? this.views.get(id) : undefined;
  }

  /** A message a person wrote (the app's Web API calls only post as the bot). */
  postAsUser(channel: string, user: string, text: string, threadTs?: string): RecordedMessage {
    const c = this.conversations.get(channel);
    if (!c || !this.isMember(c, user)) throw new Error(`${user} can't post in ${channel}`);
    const message: RecordedMessage = { channel, ts: this.nextTs(), ...(threadTs ? { thread_ts: threadTs } : {}), text, user, updates: [] };
    this.messages.push(message);
    return message;
  }

  addUserGroup(id: string, userIds: string[]): void {
    this.userGroups.set(id, [...userIds]);
  }

  /** Optional: users.info and slash-command user_name default to a name derived from the id. */
  addUser(id: string, profile: Partial<UserProfile>): void {
    const name = profile.name ?? id.toLowerCase();
    this.users.set(id, { name, real_name: profile.real_name ?? name, tz: profile.tz ?? 'Europe/Amsterdam' });
  }

  /**
   * A channel. Public by default and open to every person; the bot is in it only when `bot` is
   * set (it was invited). A private channel needs its members.
   */
  addChannel(id: string, name: string, opts: { private?: boolean; members?: string[]; bot?: boolean } = {}): Conversation {
    if (opts.private && !opts.members) throw new Error(`private channel ${id} needs its members`);
    return this.addConversation({
      id,
      name,
      type: opts.private ? 'private_channel' : 'public_channel',
      ...(opts.members ? { members: new Set(opts.members) } : {}),
      bot: opts.bot ?? false,
    });
  }

  /** A direct message between two people, or between a person and the bot (the app's Messages tab). */
  addDm(id: string, a: string, b: string): Conversation {
    const withBot = a === this.botUserId || b === this.botUserId;
    const person = a === this.botUserId ? b : a;
    return this.addConversation({ id, name: 'directmessage', type: 'im', members: new Set(withBot ? [person] : [a, b]), bot: withBot });
  }

  /** A group DM among people; the bot is never in one it wasn't added to. */
  addGroupDm(id: string, people: string[]): Conversation {
    return this.addConversation({ id, name: `mpdm-${people.map((p) => this.userProfile(p).name).join('--')}-1`, type: 'mpim', members: new Set(people), bot: false });
  }

  private addConversation(c: Conversation): Conversation {
    this.conversations.set(c.id, c);
    return c;
  }

  /** Whether the workspace has this person: added with addUser or in a user group (conversations.invite checks). */
  knowsUser(id: string): boolean {
    return this.users.has(id) || [...this.userGroups.values()].some((members) => members.includes(id));
  }

  /** A channel as conversations.create and conversations.invite answer with it. */
  channelJson(c: Conversation): Record<string, unknown> {
    return {
      id: c.id,
      name: c.name,
      is_channel: c.type === 'public_channel',
      is_group: c.type === 'private_channel',
      is_im: false,
      is_mpim: false,
      is_private: c.type === 'private_channel',
      created: c.created ?? 0,
      creator: c.creator ?? '',
      is_archived: c.archived === true,
      is_general: false,
      name_normalized: c.name,
      is_member: c.bot,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      previous_names: [],
    };
  }

  /** A person writes a message in a conversation they are in (to react to, or to read back). */
  userPosts(channel: string, user: string, text: string): RecordedMessage {
    const c = this.conversations.get(channel);
    if (!c) throw new Error(`no conversation ${channel}`);
    if (!this.isMember(c, user)) throw new Error(`${user} is not in ${channel}, so can't write there`);
    if (c.archived) throw new Error(`${channel} is archived: nobody writes there`);
    const message: RecordedMessage = { channel, ts: this.nextTs(), text, user, updates: [] };
    this.messages.push(message);
    return message;
  }

  /** /invite @bot: the bot joins. */
  inviteBot(id: string): void {
    const c = this.conversations.get(id);
    if (!c) throw new Error(`no conversation ${id}`);
    c.bot = true;
  }

  /**
   * Someone archives a channel (as teams do with an incident's once it is over): Slack then
   * answers is_archived to chat.postMessage, chat.postEphemeral and conversations.invite, and
   * is_inactive to chat.update ("within a frozen, archived or deleted channel").
   */
  archive(id: string): void {
    const c = this.conversations.get(id);
    if (!c) throw new Error(`no conversation ${id}`);
    c.archived = true;
  }

  /**
   * Whether a person is in a conversation. Only those who joined a channel or were added are, in
   * a public one too: Slack answers user_not_in_channel to an ephemeral for anyone else.
   */
  isMember(c: Conversation, user: string): boolean {
    return c.members?.has(user) ?? false;
  }

  /**
   * The app's DM with a person (their Messages tab), as chat.postMessage reaches it when given the
   * person's user id as its channel: made on first use.
   */
  appDmWith(user: string): Conversation | undefined {
    if (!this.knowsUser(user)) return undefined;
    for (const c of this.conversations.values()) if (c.type === 'im' && c.bot && c.members?.has(user)) return c;
    return this.addDm(this.nextId('D'), this.botUserId, user);
  }

  /**
   * Whether the bot may post a message in `channel`: it must be in it, or hold chat:write.public
   * for a public channel. A conversation the bot can't see is channel_not_found, as Slack answers.
   */
  postAccess(channel: string | undefined, opts: { publicScope: boolean } = { publicScope: true }): string | undefined {
    const c = channel ? this.conversations.get(channel) : undefined;
    if (!c) return 'channel_not_found';
    if (c.archived && (c.bot || c.type === 'public_channel')) return 'is_archived';
    if (c.bot) return undefined;
    if (c.type !== 'public_channel') return 'channel_not_found';
    return opts.publicScope && this.scopes.has('chat:write.public') ? undefined : 'not_in_channel';
  }

  /**
   * One chat.postMessage against the channel's bucket: undefined when it may go, else the
   * seconds to wait (Retry-After).
   */
  takePostToken(channel: string): number | undefined {
    const { postMessagesPerSecond: rate, postMessageBurst: burst } = this.limits;
    const now = this.now();
    const bucket = this.postBuckets.get(channel) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.postBuckets.set(channel, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate));
  }

  /**
   * One call of a method with a tier: undefined when it may go, else Retry-After. "N per minute"
   * read as strictly as it can be: at most N calls in any 60 s, not a bucket that refills while
   * it drains (which lets nearly 2N through in a minute).
   */
  takeMethodToken(method: string): number | undefined {
    const tier = TIER_OF_METHOD[method];
    if (tier === undefined) return undefined;
    // Tier 1 "tolerates a small amount of burst behavior": three calls (a restart's reconnects).
    const limit = Math.max(this.limits.callsPerMinuteByTier[tier], tier === 1 ? TIER_1_BURST : 0);
    const now = this.now();
    const recent = (this.methodCalls.get(method) ?? []).filter((at) => at > now - 60_000);
    this.methodCalls.set(method, recent);
    if (recent.length >= limit) return Math.max(1, Math.ceil(((recent[0] ?? now) + 60_000 - now) / 1000));
    recent.push(now);
    return undefined;
  }

  userProfile(id: string): UserProfile {
    return this.users.get(id) ?? { name: id.toLowerCase(), real_name: id.toLowerCase(), tz: 'Europe/Amsterdam' };
  }

  channelName(id: string): string {
    return this.conversations.get(id)?.name ?? id.toLowerCase();
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
      // Only the bot's own messages carry its bot and app ids.
      ...(m.user === this.botUserId ? { bot_id: this.botId, app_id: this.appId } : {}),
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

  /**
   * Unique, increasing message timestamps in Slack's 'seconds.micros' form. As in Slack, the
   * seconds are when the message was posted (clients show them as its time); the micros only
   * keep two posts in the same instant apart.
   */
  nextTs(): string {
    this.lastTsMicros = Math.max(Date.now() * 1000, this.lastTsMicros + 1);
    return `${Math.floor(this.lastTsMicros / 1_000_000)}.${String(this.lastTsMicros % 1_000_000).padStart(6, '0')}`;
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
    const at = this.now();
    const reply = (body: ApiBody, status = 200, headers: Record<string, string> = {}): ApiResponse => {
      const retryAfter = headers['Retry-After'];
      this.calls.push({ method, args: logged, ok: body.ok, ...(body.error ? { error: body.error } : {}), at, ...(retryAfter ? { retryAfter: Number(retryAfter) } : {}) });
      return { status, headers, body };
    };
    const handler = handlers[method];
    if (!handler) return reply({ ok: false, error: 'unknown_method' });
    // Socket Mode's apps.connections.open is the one method that takes the app-level token.
    const expected = method === 'apps.connections.open' ? this.appToken : this.botToken;
    // No token at all is not_authed; a wrong one invalid_auth (docs: both on every method).
    if (token === undefined || token === '') return reply({ ok: false, error: 'not_authed' });
    if (token !== expected) return reply({ ok: false, error: 'invalid_auth' });

    const scope = SCOPE_OF_METHOD[method];
    if (scope && !this.scopes.has(scope)) {
      return reply({ ok: false, error: 'missing_scope', needed: scope, provided: [...this.scopes].join(',') });
    }

    const fault = this.faults.get(method)?.shift();
    const ratelimited = (seconds: number) => reply({ ok: false, error: 'ratelimited' }, 429, { 'Retry-After': String(seconds) });
    if (fault?.kind === 'ratelimit') return ratelimited(fault.seconds);
    if (fault?.kind === 'fail') return reply({ ok: false, error: fault.error });
    if (fault?.kind === 'http') return reply({ ok: false, error: `http_${fault.status}` }, fault.status);
    if (method === 'chat.postMessage') {
      // The limit is per channel; a post the bot may not make there is refused before it counts.
      const channel = typeof args.channel === 'string' ? args.channel : undefined;
      const wait = channel && !this.postAccess(channel) ? this.takePostToken(channel) : undefined;
      if (wait !== undefined) return ratelimited(wait);
    } else {
      const wait = this.takeMethodToken(method);
      if (wait !== undefined) return ratelimited(wait);
    }
    return reply(handler(args));
  }
}
