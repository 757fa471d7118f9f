// Bolt wants its own Logger interface; this one writes through pino so every line is JSON
// and passes the same redaction as the rest of the bot.
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import { redactText } from '../core/redact.js';

export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  let level = LogLevel.WARN;
  const text = (msgs: unknown[]) => redactText(msgs.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' '));
  // An error among the arguments is logged whole (stack, cause) beside the text.
  const fields = (msgs: unknown[]) => {
    const err = msgs.find((m) => m instanceof Error);
    return err ? { err } : {};
  };
  return {
    debug: (...msgs) => child.debug(fields(msgs), text(msgs)),
    info: (...msgs) => child.info(fields(msgs), text(msgs)),
    warn: (...msgs) => child.warn(fields(msgs), text(msgs)),
    error: (...msgs) => child.error(fields(msgs), text(msgs)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
