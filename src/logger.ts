import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One root logger per process; components take `log.child({ component })`.
 * Phone numbers and texts are personal data: they are redacted wherever they appear under
 * these keys, and code logs message ids instead.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'simcast' },
      redact: { paths: ['phone', 'to', 'text', 'password', 'secret', '*.phone', '*.text', '*.secret'], censor: '[скрыто]' },
    },
    destination,
  );
}
