// pino loggers: JSON lines by default (machines read logs), to stderr so stdout stays the command's output.
import { pino, Logger } from 'pino';

export function createLogger(name: string, level = process.env.OFCTL_TS_LOG ?? 'warn'): Logger {
  return pino({ name, level }, pino.destination(2));
}

export type { Logger };
