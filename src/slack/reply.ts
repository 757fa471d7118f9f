// Answers to the person who typed a command or clicked a button, through the response_url Slack
// sent with it. It works in every conversation (a DM, a private channel without the bot), where
// chat.postMessage and chat.postEphemeral fail, but Slack takes at most 5 posts within 30 minutes.
import type { RespondArguments } from '@slack/bolt';
import { request } from 'undici';
import { redactReport, type Report } from '../core/report.js';
import { fitsOneMessage, inMessages, renderReport, type Block } from './blocks.js';
import { SLACK_LIMITS } from './limits.js';
import { messageText } from './mrkdwn.js';

export interface ReplyMessage {
  text: string;
  blocks?: Block[];
}

/** How a person brings the bot into a conversation (its display name is the manifest's). */
export const INVITE_ME = 'invite me with `/invite @vlinders-ops`';

/** The one line for a change asked where the bot can't keep its thread. */
export const INVITE_LINE = `${INVITE_ME} to run changes here`;

/** Whether a Web API error says the bot can't post in that conversation (not in it, or can't see it). */
export function isClosedConversation(err: unknown): boolean {
  const error = slackErrorCode(err);
  return error === 'not_in_channel' || error === 'channel_not_found';
}

/** The error code of a Web API call Slack answered ok:false (WebAPIPlatformError's data.error). */
export function slackErrorCode(err: unknown): string | undefined {
  const error = (err as { data?: { error?: unknown } } | undefined)?.data?.error;
  return typeof error === 'string' ? error : undefined;
}

/** Sends one message to the person; nothing reads what it resolves to. */
export type ReplyPost = (message: RespondArguments) => Promise<unknown>;

/**
 * Posts to a response_url as Bolt's respond() does (the message as JSON; a status other than
 * 2xx throws), through undici's request rather than fetch: fetch's web streams cost about
 * 0.5 ms of CPU a post, as much as the rest of answering a command (bench/ack-latency.ts).
 */
export function postToResponseUrl(url: string): ReplyPost {
  return async (message) => {
    const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode > 299) throw new Error(`Slack refused the post to the response_url: HTTP ${response.statusCode}`);
  };
}

export class ResponseUrlReply {
  private used = 0;
  private readonly expiresAt: number;

  /** A reply through the response_url Slack sent with a command, click or shortcut. */
  static to(responseUrl: string): ResponseUrlReply {
    return new ResponseUrlReply(postToResponseUrl(responseUrl));
  }

  constructor(
    private readonly respond: ReplyPost,
    private readonly now: () => number = Date.now,
  ) {
    this.expiresAt = now() + SLACK_LIMITS.responseUrlTtlMs;
  }

  /** How many posts the URL still takes. */
  get left(): number {
    return this.now() > this.expiresAt ? 0 : SLACK_LIMITS.responseUrlUses - this.used;
  }

  ephemeral(text: string): Promise<boolean> {
    return this.messages([{ text }], 'ephemeral');
  }

  /**
   * Sends messages within the uses left: neighbours share one message while their blocks fit
   * (50 a message). What still doesn't fit is cut, and the last message says so. False when
   * nothing could be sent.
   */
  async messages(messages: ReplyMessage[], responseType: 'ephemeral' | 'in_channel'): Promise<boolean> {
    const packed = packMessages(messages, this.left);
    for (const message of packed) {
      this.used += 1;
      // Text is redacted and escaped here, as SlackPoster does for what it posts; blocks come escaped from their builders.
      await this.respond({ response_type: responseType, replace_original: false, text: messageText(message.text), ...(message.blocks ? { blocks: message.blocks } : {}) });
    }
    return packed.length > 0;
  }
}

/** Messages merged into at most `room` messages, in order, each within what one message takes (fitsOneMessage). */
export function packMessages(messages: ReplyMessage[], room: number): ReplyMessage[] {
  if (room <= 0) return [];
  const out: ReplyMessage[] = [];
  for (const m of messages) {
    const last = out.at(-1);
    if (m.blocks && last?.blocks && fitsOneMessage([...last.blocks, ...m.blocks])) last.blocks.push(...m.blocks);
    else out.push({ text: m.text, ...(m.blocks ? { blocks: [...m.blocks] } : {}) });
  }
  if (out.length <= room) return out;
  const kept = out.slice(0, room);
  const cut = out.length - room;
  const lastKept = kept[room - 1] as ReplyMessage;
  const note = `…${cut} more message${cut === 1 ? '' : 's'} did not fit in this reply.`;
  lastKept.text = `${lastKept.text}\n${note}`;
  if (lastKept.blocks) {
    const noted: Block = { type: 'context', elements: [{ type: 'mrkdwn', text: note }] };
    lastKept.blocks = [...(inMessages(lastKept.blocks, [noted])[0] ?? []), noted];
  }
  return kept;
}

/**
 * A Report as reply messages: redacted (it may not have passed the engine), the root then each
 * thread detail, and how many of its files a reply can't carry.
 */
export function reportReplyMessages(report: Report, footer?: string): { messages: ReplyMessage[]; files: number } {
  const messages: ReplyMessage[] = [];
  let files = 0;
  for (const [i, part] of [{ ...report, thread: undefined }, ...(report.thread ?? [])].entries()) {
    const rendered = renderReport(redactReport(part), { maxMessages: 20, ...(i === 0 && footer ? { footer } : {}) });
    messages.push(...rendered.messages);
    files += rendered.files.length;
  }
  return { messages, files };
}
