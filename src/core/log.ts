// pino, with every logged object and message passed through redaction: a secret that
// reaches a log line by accident (an error message quoting a DSN) still doesn't leave.
// Errors are logged whole (type, message, stack, code, cause), redacted like the rest.
import { pino, type DestinationStream, type Logger } from 'pino';
import { plainMentions } from './mention.js';
import { redactText, redactValue } from './redact.js';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'vlinders-ops' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (obj) => redactValue(obj) },
      // redactValue has already turned errors into plain objects; pino's own serializer would
      // fold the cause into the message and call the type "Object".
      serializers: { err: (err: unknown) => err },
      hooks: {
        logMethod(args, method) {
          // log.error(err) alone: pino would take the message unredacted from the error.
          const given: unknown[] = args[0] instanceof Error && typeof args[1] !== 'string' ? [{ err: args[0] }, args[0].message] : args;
          const clean = given.map((a) => (typeof a === 'string' ? redactText(a) : a));
          return method.apply(this, clean as Parameters<typeof method>);
        },
        // A log has no mentions; the bot's own (an audit detail naming a lock holder) show as @U123.
        streamWrite: (line) => plainMentions(line),
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
