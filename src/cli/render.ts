// Report → terminal text. The same text is what Slack uploads as a file when a report
// is too long for messages, so both surfaces say the same thing.
import { plainMentions } from '../core/mention.js';
import { STATUS_EMOJI, type Report } from '../core/report.js';
import { formatTable } from '../core/table.js';

export function renderText(report: Report): string {
  const out: string[] = [`${STATUS_EMOJI[report.status]} ${report.title}`];
  if (report.summary) out.push(report.summary);
  for (const section of report.sections ?? []) {
    out.push('');
    if (section.title) out.push(`== ${section.title} ==`);
    if (section.fields?.length) {
      const width = Math.max(...section.fields.map((f) => f.label.length));
      for (const f of section.fields) out.push(`${f.label.padEnd(width)}  ${f.value}`);
    }
    if (section.rows?.length) out.push(...formatTable(section.header, section.rows));
    if (section.lines?.length) out.push(...section.lines);
  }
  for (const a of report.attachments ?? []) {
    out.push('', `--- ${a.title ?? a.filename} ---`, a.content);
  }
  for (const c of report.charts ?? []) out.push('', `📈 chart: ${c.title}`);
  for (const offer of report.offers ?? []) out.push('', `${offer.intro} Run: ${offer.words.join(' ')}`);
  for (const detail of report.thread ?? []) out.push('', renderText(detail));
  // The terminal has no mentions: the bot's own show as @U123.
  return plainMentions(out.join('\n'));
}

export function renderJson(report: Report): string {
  return plainMentions(JSON.stringify(report, null, 2));
}

/**
 * Slack's mrkdwn as a terminal shows it: `code` and *bold* without their marks, links as
 * "label (url)", mentions as @name, and the three escaped characters back as themselves.
 */
export function terminalText(text: string): string {
  return text
    .replace(/^```[a-z]*\n?|\n?```$/gm, '')
    .replace(/`([^`\n]+)`/g, '$1')
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s.,:;!?)])/gm, '$1$2')
    .replace(/<(https?:\/\/[^|>\s]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:\/\/[^|>\s]+)>/g, '$1')
    .replace(/<[@#]([UWCSG][A-Z0-9]+)(?:\|([^>]+))?>/g, (_m, id: string, label?: string) => `@${label ?? id}`)
    .replace(/<!(here|channel|everyone)>/g, '@$1')
    .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]+))?>/g, (_m, label?: string) => label ?? '@group')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
