// pino loggers, to stderr so stdout stays the command's output: pretty lines in a terminal, JSON
// lines otherwise (for log collectors). OFCTL_TS_LOG sets the level.
import { pino, DestinationStream, Logger } from 'pino';

/**
 * Fields that may carry a secret are censored wherever a caller puts them, at the top level or
 * one level down (e.g. `req.headers.authorization`, `tls.key`). Secrets are not logged on purpose
 * anywhere; this is the net under that rule.
 */
const SECRET_FIELDS = ['authorization', 'token', 'httpToken', 'key', 'passphrase', 'password', 'secret'];
const REDACTED_PATHS = [
  ...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`), 'headers.cookie', '*.headers.authorization', '*.headers.cookie',
];
const redact = { paths: REDACTED_PATHS, censor: '[redacted]' };

export function createLogger(name: string, level = process.env.OFCTL_TS_LOG ?? 'warn', destination?: DestinationStream): Logger {
  if (destination) return pino({ name, level, redact }, destination);
  if (process.stderr.isTTY) {
    return pino({ name, level, redact, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } } });
  }
  return pino({ name, level, redact }, pino.destination(2));
}

export type { Logger };
