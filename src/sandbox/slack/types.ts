// The records and inputs of the Slack workspace emulator: what tests read back and what they pass in.

/** A message the bot posted, as the channel now shows it. */
export interface RecordedMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  /** Who wrote it: the bot user id (Web API posts), or a person (userPosts). */
  user: string;
  /** Every chat.update (or response_url replace), oldest first; text/blocks above are the latest. */
  updates: Array<{ text: string; blocks?: unknown[] }>;
  deleted?: boolean;
}

export interface RecordedEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  /** What chat.postEphemeral answered; a click on this message carries container.is_ephemeral=true. */
  message_ts: string;
}

export interface RecordedUpload {
  channel: string;
  thread_ts?: string;
  filename: string;
  title?: string;
  /** The uploaded bytes as utf8. */
  content: string;
  /** The uploaded bytes as they came (a PNG is not text). */
  bytes: Buffer;
  /** What files.getUploadURLExternal was given as alt_txt. */
  alt_txt?: string;
  initial_comment?: string;
}

/** One POST to a response_url the emulator handed out with a slash command or a click. */
export interface RecordedResponse {
  channel: string;
  /** Who the command or click came from: an ephemeral response goes to them. */
  user: string;
  text: string;
  blocks?: unknown[];
  response_type?: string;
  replace_original?: boolean;
  delete_original?: boolean;
}

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  ok: boolean;
  error?: string;
  /** When it arrived, on the workspace clock. */
  at: number;
  /** The Retry-After of a 429, in seconds. */
  retryAfter?: number;
}

/** Slack's documented limits the emulator keeps; tests may loosen or tighten them, the defaults are Slack's. */
export interface SlackLimits {
  /** chat.postMessage: about one message per second per channel... */
  postMessagesPerSecond: number;
  /** ...after a short burst beyond it (Slack: "generous burst behavior"; not documented as a number). */
  postMessageBurst: number;
  /** A response_url takes 5 posts... */
  responseUrlUses: number;
  /** ...within 30 minutes of the command or click that brought it. */
  responseUrlTtlMs: number;
  /** files.getUploadURLExternal: Slack takes files up to 1 GB. */
  maxUploadBytes: number;
  /** A trigger_id opens a view within 3 s of its interaction, once. */
  triggerTtlMs: number;
  /**
   * Calls a minute per method, by the method's tier (docs.slack.dev/apis/web-api/rate-limits:
   * Tier 1 "1+", Tier 2 "20+", Tier 3 "50+", Tier 4 "100+" per minute, per method per workspace
   * per app). The emulator grants the number, not the "+": at most that many in any 60 s.
   */
  callsPerMinuteByTier: Record<1 | 2 | 3 | 4, number>;
}

export interface EmulatorOptions {
  /**
   * The bot token's scopes (default: chat:write, commands, files:write, usergroups:read).
   * Methods whose scope is missing answer missing_scope; chat:write.public lets the bot post
   * in public channels it hasn't joined.
   */
  scopes?: string[];
  limits?: Partial<SlackLimits>;
  /** The Events API bot events the app subscribes to (manifest settings.event_subscriptions.bot_events); default none. */
  botEvents?: string[];
  /** The clock of rate limits and response_url expiry (default Date.now). */
  now?: () => number;
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
  teamId?: string;
  /** Makes the workspace part of an Enterprise Grid org: bodies then carry enterprise_id/enterprise_name. */
  enterprise?: { id: string; name: string };
  /** The app's shortcuts (manifest features.shortcuts); when given, only these can be run. */
  shortcuts?: Array<{ callback_id: string; type: 'global' | 'message' }>;
}

export interface SlashCommandInput {
  user: string;
  channel: string;
  text: string;
  /** Default '/vlinders'. */
  command?: string;
  userName?: string;
  channelName?: string;
}

/**
 * A click on a button the emulator holds: in a message, or in an ephemeral message shown to
 * `user`. The payload carries that button's own action_id, value and block_id.
 */
export interface ButtonClickInput {
  user: string;
  channel: string;
  messageTs: string;
  /** The button's action_id, or its label (the text shown on it). */
  button: string;
}

/** A person adding an emoji reaction to a message (Slack's name for it, without colons: `pushpin`). */
export interface ReactionInput {
  user: string;
  channel: string;
  ts: string;
  reaction: string;
}

export interface SignOpts {
  signature?: 'valid' | 'bad' | 'none';
  /** Shifts X-Slack-Request-Timestamp, e.g. -360 for a 6-minute-old request; still validly signed for it. */
  timestampSkewSeconds?: number;
  /** Sets X-Slack-Retry-Num / X-Slack-Retry-Reason like a Slack redelivery. */
  retryNum?: number;
}

export interface HttpResult {
  status: number;
  body: string;
  ms: number;
}

/** The app's reply on the socket: the frame it sent back with the same envelope_id. */
export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
}
