// Slack parses &, < and > in mrkdwn and in a message's top-level text: <!channel>, <@U…>,
// <!subteam^…> ping, <https://evil|docs> disguises a link. So every string is escaped
// whole; only the mentions the bot made itself (core/mention.ts) come back live.
import { liveMentions, plainMentions } from '../core/mention.js';
import { redactText } from '../core/redact.js';
import { SLACK_LIMITS } from './limits.js';

/** Any text as mrkdwn: escaped, with the bot's own mentions live. */
export function escapeMrkdwn(text: string): string {
  return liveMentions(escapeEntities(text));
}

/** Text for a file Slack shows: nothing in it may read as a mention or a link. */
export function fileText(text: string): string {
  return escapeEntities(plainMentions(text));
}

function escapeEntities(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A slash command's text as the person typed it. Slack sends &, < and > in it as HTML entities
 * (its formatting guide, "Escaping text"), so `--grep 'a>b'` arrives as `a&gt;b`; the mentions
 * Slack made of a picked @person or #channel (<@U…|name>, <#C…|name>) keep their brackets.
 */
export function typedText(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Cuts text to `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * Splits text into pieces of at most `max` characters, preferring line breaks, so
 * nothing is lost when a section would be too long.
 */
export function splitText(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut <= 0) cut = max;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest);
  return pieces;
}

/**
 * A message's top-level `text` as the bot wrote it (outside text in it) made safe to send:
 * redacted, escaped, within Slack's length. Every path that sends text goes through it.
 */
export function messageText(text: string): string {
  return truncate(escapeMrkdwn(redactText(text)), SLACK_LIMITS.messageText);
}
