// pino, with every logged object and message passed through redaction: a secret that
// reaches a log line by accident (an error message quoting a DSN) still doesn't leave.
import { pino, type DestinationStream, type Logger } from 'pino';
import { redactText, redactValue } from './redact.js';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'vlinders-ops' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (obj) => redactValue(obj) },
      hooks: {
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === 'string' ? redactText(a) : a));
          return method.apply(this, clean as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
