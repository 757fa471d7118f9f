// Mentions that ping (<@U…>, <#C…>, <!subteam^S…>) are made only here, by the bot, from ids
// that have Slack's id shapes. Every other string is escaped wherever Slack shows it, so
// outside text (alert labels, pod logs, typed arguments) can't ping or disguise a link.
// A mention made here survives that escaping because it carries a random key this process
// holds and outside text can't know; the surfaces turn it into Slack's form (mrkdwn) or a
// plain `@U123` (terminal, files, logs). The key never leaves the process.
import { randomBytes } from 'node:crypto';

const KEY = randomBytes(12).toString('hex');
const OPEN = '\uE000';
const CLOSE = '\uE001';
const MARKED = new RegExp(`${OPEN}${KEY}(@|#|!subteam\\^)([A-Z0-9]+)${CLOSE}`, 'g');

const USER_ID = /^[UW][A-Z0-9]{1,20}$/;
const CHANNEL_ID = /^[CG][A-Z0-9]{1,20}$/;
const GROUP_ID = /^S[A-Z0-9]{1,20}$/;

/** `<@U123>` and `<@U123|name>` (how Slack sends a mention it escaped), or a bare user id. */
const TYPED_USER = /^(?:<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,20}))$/;

const mark = (kind: string, id: string) => `${OPEN}${KEY}${kind}${id}${CLOSE}`;

/** `<@U123>` once shown in Slack; an id of any other shape stays the text it is. */
export function mentionUser(id: string): string {
  return USER_ID.test(id) ? mark('@', id) : id;
}

/** The user id a person typed (a mention, or an id as a users_select gives it); undefined for anything else. */
export function typedUserId(text: string): string | undefined {
  const m = TYPED_USER.exec(text.trim());
  return m?.[1] ?? m?.[2];
}

/** `<#C123>` once shown in Slack. */
export function mentionChannel(id: string): string {
  return CHANNEL_ID.test(id) ? mark('#', id) : `#${id}`;
}

/** `<!subteam^S123>` (a user group, which pings its members) once shown in Slack. */
export function mentionGroup(id: string): string {
  return GROUP_ID.test(id) ? mark('!subteam^', id) : id;
}

/** Escaped mrkdwn with the bot's own mentions made live; the text must be escaped already. */
export function liveMentions(escaped: string): string {
  return escaped.replace(MARKED, (_m, kind: string, id: string) => `<${kind}${id}>`);
}

/** The bot's mentions as plain text, for surfaces that have none (terminal, files, logs). */
export function plainMentions(text: string): string {
  return text.replace(MARKED, (_m, kind: string, id: string) => `${kind === '#' ? '#' : '@'}${id}`);
}
