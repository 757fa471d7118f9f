// Sends rendered Reports to Slack: messages in order, files through the v2 upload flow.
// The WebClient retries 429s after Retry-After on its own. Every `text` given here is text
// as the bot wrote it (with outside text in it): it is redacted and escaped here, the one
// place that sends it; blocks come escaped from their builders (blocks.ts, cards.ts).
// Reports are redacted here too: alert threads and incidents don't pass the command engine.
import type { webApi } from '@slack/bolt';
import { redactText } from '../core/redact.js';
import { redactReport, type Report } from '../core/report.js';
import { renderReport, type Block } from './blocks.js';
import { SLACK_LIMITS } from './limits.js';
import { escapeMrkdwn, truncate } from './mrkdwn.js';

type WebClient = webApi.WebClient;

/** A message's top-level text: Slack parses it as mrkdwn (and notifies from it). */
const messageText = (text: string) => truncate(escapeMrkdwn(redactText(text)), SLACK_LIMITS.messageText);

export interface Where {
  channel: string;
  threadTs?: string;
}

export class SlackPoster {
  constructor(private client: WebClient) {}

  /** Posts a Report, then its thread of details under its first message; returns the ts of its first message. */
  async report(where: Where, report: Report, footer?: string): Promise<string | undefined> {
    const rendered = renderReport(redactReport({ ...report, thread: undefined }), { footer: footer === undefined ? undefined : redactText(footer) });
    let firstTs: string | undefined;
    for (const message of rendered.messages) {
      const res = await this.client.chat.postMessage({
        channel: where.channel,
        thread_ts: where.threadTs,
        text: messageText(message.text),
        blocks: message.blocks,
        unfurl_links: false,
      });
      firstTs ??= res.ts;
    }
    for (const file of rendered.files) {
      // Files belong with the report: in its thread, or in the thread of its first message.
      const threadTs = where.threadTs ?? firstTs;
      const common = { channel_id: where.channel, filename: file.filename, title: file.title ?? file.filename, content: file.content };
      await this.client.filesUploadV2(threadTs ? { ...common, thread_ts: threadTs } : common);
    }
    const detailsWhere = { channel: where.channel, threadTs: where.threadTs ?? firstTs };
    for (const detail of report.thread ?? []) await this.report(detailsWhere, detail);
    return firstTs;
  }

  /** Replaces a message with a Report, in place (an incident's root message). Its first message's worth. */
  async updateReport(channel: string, ts: string, report: Report): Promise<void> {
    const first = renderReport(redactReport(report), { maxMessages: 1 }).messages[0];
    if (first) await this.client.chat.update({ channel, ts, text: messageText(first.text), blocks: first.blocks });
  }

  /** A Report only the user sees. Ephemeral messages can't carry files, so long ones are split. */
  async ephemeralReport(where: Where, user: string, report: Report): Promise<void> {
    // A preview has no thread to put details in: they follow as more ephemeral messages.
    for (const part of [{ ...report, thread: undefined }, ...(report.thread ?? [])]) {
      const rendered = renderReport(redactReport(part), { maxMessages: 20 });
      for (const message of rendered.messages) {
        await this.client.chat.postEphemeral({ channel: where.channel, user, thread_ts: where.threadTs, text: messageText(message.text), blocks: message.blocks });
      }
    }
  }

  async ephemeralBlocks(where: Where, user: string, text: string, blocks: Block[]): Promise<void> {
    await this.client.chat.postEphemeral({ channel: where.channel, user, thread_ts: where.threadTs, text: messageText(text), blocks });
  }

  async ephemeral(where: Where, user: string, text: string): Promise<void> {
    await this.client.chat.postEphemeral({ channel: where.channel, user, thread_ts: where.threadTs, text: messageText(text) });
  }

  async post(where: Where, text: string, blocks?: Block[]): Promise<string | undefined> {
    const res = await this.client.chat.postMessage({ channel: where.channel, thread_ts: where.threadTs, text: messageText(text), blocks, unfurl_links: false });
    return res.ts;
  }

  async update(channel: string, ts: string, text: string, blocks?: Block[]): Promise<void> {
    await this.client.chat.update({ channel, ts, text: messageText(text), blocks });
  }
}

/**
 * Progress in a thread: one message, updated in place at most once a second, so long
 * work shows "4/5 workers Ready" without flooding the thread or hitting rate limits.
 */
export class ThreadProgress {
  private ts?: string;
  private lastSent = 0;
  private pending?: string;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private poster: SlackPoster,
    private where: Where,
    private minIntervalMs = 1000,
  ) {}

  update = (text: string): Promise<void> => {
    this.pending = text;
    const wait = this.lastSent + this.minIntervalMs - Date.now();
    if (wait <= 0) return this.flush();
    this.timer ??= setTimeout(() => void this.flush(), wait);
    return Promise.resolve();
  };

  /** Sends whatever is waiting; call when the work ends so the last line is shown. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const text = this.pending;
    this.pending = undefined;
    if (text === undefined) return this.chain;
    this.lastSent = Date.now();
    this.chain = this.chain.then(async () => {
      const line = `⏳ ${text}`;
      if (this.ts) await this.poster.update(this.where.channel, this.ts, line);
      else this.ts = await this.poster.post(this.where, line);
    }).catch(() => undefined);
    return this.chain;
  }
}
