import pino, { type Logger } from 'pino';

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
    },
    destination,
  );
}
