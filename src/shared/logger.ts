import pino, { type Logger } from 'pino';
import { scrubTickets } from './log-scrub';

export type { Logger };

/**
 * Structured JSON logs. The redact list is a second line of defence: code
 * never passes passwords or tickets to the logger on purpose.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'portcullis' },
      redact: {
        paths: ['password', '*.password', 'req.headers.cookie', 'req.headers.authorization', 'ticket', '*.ticket'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        // Ticket ids quoted in messages and error texts are masked too (src/shared/log-scrub.ts).
        logMethod(args, method) {
          method.apply(this, args.map((arg) => scrubTickets(arg)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
