// Sends rendered Reports to Slack: messages in order, files through the v2 upload flow.
// The WebClient retries 429s after Retry-After on its own. Every `text` given here is text
// as the bot wrote it (with outside text in it): it is redacted and escaped here, the one
// place that sends it; blocks come escaped from their builders (blocks.ts, cards.ts).
// Reports are redacted here too: alert threads and incidents don't pass the command engine.
import type { webApi } from '@slack/bolt';
import { redactText } from '../core/redact.js';
import { STATUS_EMOJI, redactReport, type Report, type ReportStatus } from '../core/report.js';
import { chartAltText, renderChartPng, type LineChart } from '../charts/index.js';
import { httpFetch } from '../core/http-fetch.js';
import { renderReport, type Block } from './blocks.js';
import { escapeMrkdwn, messageText } from './mrkdwn.js';
import { LatestEdit } from './latest-edit.js';
import { slackPacers, type RatePacer } from './pacer.js';
import { INVITE_ME, isClosedConversation } from './reply.js';

type WebClient = webApi.WebClient;

const UPLOAD_TIMEOUT_MS = 30_000;

/** A message's top-level text: Slack parses it as mrkdwn (and notifies from it). */

export interface Where {
  channel: string;
  threadTs?: string;
}

/** A file of a report, by name, and how to upload it. */
type Share = [filename: string, upload: () => Promise<unknown>];

export class SlackPoster {
  private latestEdits = new LatestEdit();

  constructor(
    private client: WebClient,
    private pacer: RatePacer = slackPacers().posts,
    /** chat.update's turns, one key for the workspace: its limit is the method's, not a channel's. */
    private edits: RatePacer = slackPacers().edits,
  ) {}

  /** Posts a Report, then its thread of details under its first message; returns the ts of its first message. */
  /** `onRoot` hears of the first message as soon as it is posted (a scheduled tick records it). */
  async report(where: Where, report: Report, footer?: string, onRoot?: (ts: string) => Promise<void>): Promise<string | undefined> {
    const shown = redactReport({ ...report, thread: undefined });
    const rendered = renderReport(shown, { footer: footer === undefined ? undefined : redactText(footer) });
    let firstTs: string | undefined;
    for (const message of rendered.messages) {
      await this.pacer.turn(where.channel);
      const res = await this.client.chat.postMessage({
        channel: where.channel,
        thread_ts: where.threadTs,
        text: messageText(message.text),
        blocks: message.blocks,
        unfurl_links: false,
      });
      if (firstTs === undefined && res.ts) {
        firstTs = res.ts;
        await onRoot?.(firstTs);
      }
    }
    // Files and charts belong with the report: in its thread, or in the thread of its first message.
    const filesWhere = { channel: where.channel, threadTs: where.threadTs ?? firstTs };
    const shares: Share[] = [
      ...rendered.files.map((file): Share => {
        const common = { channel_id: where.channel, filename: file.filename, title: file.title ?? file.filename, content: file.content };
        return [file.filename, () => this.client.filesUploadV2(filesWhere.threadTs ? { ...common, thread_ts: filesWhere.threadTs } : common)];
      }),
      ...(shown.charts ?? []).map((chart): Share => [`${chart.id}.png`, () => this.uploadChart(filesWhere, chart)]),
    ];
    await this.share(filesWhere, shares);
    for (const detail of report.thread ?? []) await this.report(filesWhere, detail);
    return firstTs;
  }

  /**
   * Shares a report's files. Where the bot can't share files (not in the channel), the first
   * refusal stops the rest, and one line names them all and how to get them.
   */
  private async share(where: Where, shares: Share[]): Promise<void> {
    const refused: string[] = [];
    for (const [filename, upload] of shares) {
      if (refused.length === 0) {
        try {
          await upload();
          continue;
        } catch (err) {
          // chat:write.public lets the bot post in a public channel it isn't in, but not share files there.
          if (!isClosedConversation(err)) throw err;
        }
      }
      refused.push(`*${escapeMrkdwn(filename)}*`);
    }
    if (refused.length === 0) return;
    const named = refused.length === 1 ? refused[0] : `${refused.slice(0, -1).join(', ')} and ${refused.at(-1)}`;
    await this.post(where, `📎 I can't share ${named} here: ${INVITE_ME} to get ${refused.length === 1 ? 'files' : 'them'} in this channel.`);
  }

  /**
   * A chart as a PNG through Slack's v2 upload flow, by hand: files.getUploadURLExternal takes
   * the alt text as `alt_txt` (its documented name; WebClient.filesUploadV2 sends `alt_text`,
   * which Slack does not document), the bytes go to the upload URL, and
   * files.completeUploadExternal shares the file in the thread.
   */
  async uploadChart(where: Where, chart: LineChart): Promise<void> {
    const png = renderChartPng(chart);
    const filename = `${chart.id}.png`;
    const url = (await this.client.apiCall('files.getUploadURLExternal', { filename, length: png.length, alt_txt: chartAltText(chart) })) as { upload_url?: string; file_id?: string };
    if (!url.upload_url || !url.file_id) throw new Error('Slack answered files.getUploadURLExternal without an upload_url and file_id');
    const sent = await httpFetch(new URL(url.upload_url), { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(png) }, { system: 'Slack file upload', timeoutMs: UPLOAD_TIMEOUT_MS, maxBytes: 64 * 1024 });
    if (!sent.ok) throw new Error(`Slack's upload URL answered HTTP ${sent.status} for ${filename}`);
    await this.client.files.completeUploadExternal({ files: [{ id: url.file_id, title: chart.title }], channel_id: where.channel, ...(where.threadTs ? { thread_ts: where.threadTs } : {}) });
  }

  /** Replaces a message with a Report, in place (an incident's root message). Its first message's worth. */
  async updateReport(channel: string, ts: string, report: Report): Promise<void> {
    const first = renderReport(redactReport(report), { maxMessages: 1 }).messages[0];
    if (first) await this.update(channel, ts, first.text, first.blocks);
  }

  async post(where: Where, text: string, blocks?: Block[]): Promise<string | undefined> {
    await this.pacer.turn(where.channel);
    const res = await this.client.chat.postMessage({ channel: where.channel, thread_ts: where.threadTs, text: messageText(text), blocks, unfurl_links: false });
    return res.ts;
  }

  /** Edits a message in place; edits of one message asked for while one is on its way collapse into the newest. */
  async update(channel: string, ts: string, text: string, blocks?: Block[]): Promise<void> {
    await this.latestEdits.edit(`${channel}/${ts}`, async () => {
      await this.edits.turn('chat.update');
      await this.client.chat.update({ channel, ts, text: messageText(text), blocks });
    });
  }
}

/**
 * Progress in a thread: one message, edited in place at most once a second. Lines that come
 * faster are coalesced: only the newest is sent when the next edit may go, and never while an
 * edit is still on its way (one the Web API is holding back after a 429's Retry-After).
 */
export class ThreadProgress {
  private ts?: string;
  /** The line last sent, without its ⏳. */
  private shown?: string;
  private lastSent = 0;
  private latest?: string;
  private timer?: NodeJS.Timeout;
  private sending?: Promise<void>;

  constructor(
    private poster: SlackPoster,
    private where: Where,
    private minIntervalMs = 1000,
  ) {}

  update = (text: string): Promise<void> => {
    this.latest = text;
    this.schedule();
    return Promise.resolve();
  };

  /** Sends whatever is waiting and resolves when it is shown; call when the work ends. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.sending || this.latest !== undefined) {
      if (!this.sending) this.send();
      await this.sending;
    }
  }

  private schedule(): void {
    if (this.sending || this.timer) return; // the running edit or the timer picks up the newest line
    const wait = this.lastSent + this.minIntervalMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.send();
      }, wait);
    } else {
      this.send();
    }
  }

  private send(): void {
    const text = this.latest;
    if (text === undefined) return;
    this.latest = undefined;
    this.lastSent = Date.now();
    this.sending = (async () => {
      await this.write(`⏳ ${text}`);
      this.shown = text;
    })()
      .catch(() => undefined)
      .finally(() => {
        this.sending = undefined;
        if (this.latest !== undefined) this.schedule();
      });
  }

  /**
   * When the work has ended: the last line shown, with the outcome's mark in place of ⏳, so
   * the thread doesn't say the work is still running.
   */
  async finish(status: ReportStatus): Promise<void> {
    await this.flush();
    if (this.shown !== undefined) await this.write(`${STATUS_EMOJI[status]} ${this.shown}`).catch(() => undefined);
  }

  private async write(line: string): Promise<void> {
    if (this.ts) await this.poster.update(this.where.channel, this.ts, line);
    else this.ts = await this.poster.post(this.where, line);
  }
}
