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
  // Bolt logs a debug line on every ack: the text is built (and redacted) only for a level
  // that is written, or each request would pay for a line nobody reads.
  const write = (lvl: 'debug' | 'info' | 'warn' | 'error') => (...msgs: unknown[]) => {
    if (child.isLevelEnabled(lvl)) child[lvl](fields(msgs), text(msgs));
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
