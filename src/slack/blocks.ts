// Report → Block Kit, within Slack's limits. Nothing is ever dropped: long sections are
// split across blocks, too many blocks across messages, and a report too long for a few
// messages is uploaded whole as a text file with a preview in the message.
import type { types } from '@slack/bolt';
import { renderText } from '../cli/render.js';
import { STATUS_EMOJI, type Report, type ReportAttachment, type ReportSection } from '../core/report.js';
import { formatTable } from '../core/table.js';
import { SLACK_LIMITS } from './limits.js';
import { plainMentions } from '../core/mention.js';
import { escapeMrkdwn, fileText, splitText, truncate } from './mrkdwn.js';

export type Block = types.KnownBlock;

export interface SlackMessage {
  /** Notification and fallback text, as the bot wrote it: SlackPoster escapes it when it sends. */
  text: string;
  blocks: Block[];
}

export interface RenderedReport {
  messages: SlackMessage[];
  files: ReportAttachment[];
}

export interface RenderOptions {
  /** A context line under the report (who asked, which command). */
  footer?: string;
  /** More messages than this and the report goes into a file instead. */
  maxMessages?: number;
}

const mrkdwnSection = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** Text split into section blocks of at most Slack's section length. */
function textSections(text: string, wrap: (piece: string) => string = (p) => p, overhead = 0): Block[] {
  // Slack rejects empty section text, so blank pieces are left out.
  return splitText(text, SLACK_LIMITS.sectionText - overhead)
    .filter((piece) => piece.trim() !== '')
    .map((piece) => mrkdwnSection(wrap(piece)));
}

function sectionBlocks(section: ReportSection): Block[] {
  const blocks: Block[] = [];
  if (section.title?.trim()) blocks.push(mrkdwnSection(`*${truncate(escapeMrkdwn(section.title.trim()), 200)}*`));
  const fieldTexts = (section.fields ?? []).map((f) => `*${escapeMrkdwn(f.label.trim() || '-')}*\n${escapeMrkdwn(f.value)}`);
  // A field too long for a field becomes its own section, split as needed.
  const shortFields = fieldTexts.filter((t) => t.length <= SLACK_LIMITS.fieldText);
  for (let i = 0; i < shortFields.length; i += SLACK_LIMITS.sectionFields) {
    blocks.push({ type: 'section', fields: shortFields.slice(i, i + SLACK_LIMITS.sectionFields).map((t) => ({ type: 'mrkdwn', text: t })) });
  }
  for (const t of fieldTexts.filter((t) => t.length > SLACK_LIMITS.fieldText)) blocks.push(...textSections(t));
  if (section.rows?.length) {
    const table = formatTable(section.header, section.rows).join('\n');
    blocks.push(...textSections(escapeMrkdwn(table), (p) => '```' + p + '```', 6));
  }
  if (section.lines?.length) blocks.push(...textSections(escapeMrkdwn(section.lines.join('\n'))));
  return blocks;
}

export function headline(report: Report): string {
  return `${STATUS_EMOJI[report.status]} ${report.title}`;
}

function fallbackText(report: Report): string {
  return truncate(report.summary ? `${headline(report)}: ${report.summary}` : headline(report), SLACK_LIMITS.sectionText);
}

/**
 * Blocks in order, cut into messages Slack takes: each at most its block count and its blocks'
 * size together. `tail` is what the first message must still have room for.
 */
/** Whether blocks fit one message: Slack's block count, and the size of its blocks together. */
export function fitsOneMessage(blocks: Block[]): boolean {
  return blocks.length <= SLACK_LIMITS.blocksPerMessage && JSON.stringify(blocks).length <= SLACK_LIMITS.blocksJsonPerMessage;
}

export function inMessages(blocks: Block[], tail: Block[] = []): Block[][] {
  const sizeOf = (b: Block) => JSON.stringify(b).length + 1;
  const messages: Block[][] = [];
  let current: Block[] = [];
  let count = tail.length;
  let size = 2 + tail.reduce((n, b) => n + sizeOf(b), 0);
  for (const block of blocks) {
    const blockSize = sizeOf(block);
    if (current.length > 0 && (count + 1 > SLACK_LIMITS.blocksPerMessage || size + blockSize > SLACK_LIMITS.blocksJsonPerMessage)) {
      messages.push(current);
      [current, count, size] = [[], 0, 2];
    }
    current.push(block);
    count++;
    size += blockSize;
  }
  if (current.length > 0) messages.push(current);
  return messages;
}

export function renderReport(report: Report, opts: RenderOptions = {}): RenderedReport {
  const maxMessages = opts.maxMessages ?? 3;
  // plain_text is shown as typed, never parsed for mentions or links.
  const head: Block[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(plainMentions(headline(report)), SLACK_LIMITS.headerText), emoji: true } }];
  if (report.summary) head.push(...textSections(escapeMrkdwn(report.summary)));
  const body = (report.sections ?? []).flatMap(sectionBlocks);
  const footer: Block[] = opts.footer ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(escapeMrkdwn(opts.footer), 2000) }] }] : [];
  const files = (report.attachments ?? []).map((a) => ({ ...a, title: a.title === undefined ? undefined : fileText(a.title), content: fileText(a.content) }));
  const all = [...head, ...body, ...footer];
  const text = fallbackText(report);

  const chunks = inMessages(all);
  if (chunks.length === 1) return { messages: [{ text, blocks: all }], files };
  if (chunks.length <= maxMessages) {
    return { messages: chunks.map((blocks, i) => ({ text: i === 0 ? text : `${headline(report)} (${i + 1}/${chunks.length})`, blocks })), files };
  }

  // Too long for a few messages: a preview, and the whole report as a file.
  const filename = `${plainMentions(report.title).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-|-$/g, '') || 'report'}.txt`;
  const note: Block = { type: 'context', elements: [{ type: 'mrkdwn', text: `Output is too long for messages: the whole report is in the file *${filename}*.` }] };
  const preview = inMessages([...head, ...body], [note, ...footer])[0] ?? [];
  return {
    messages: [{ text, blocks: [...preview, note, ...footer] }],
    files: [{ filename, title: fileText(report.title), content: fileText(renderText({ ...report, attachments: [], thread: [], offers: [] })) }, ...files],
  };
}
