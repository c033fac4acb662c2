// pino loggers, to stderr so stdout stays the command's output: pretty lines in a terminal, JSON
// lines otherwise (for log collectors). OFCTL_TS_LOG sets the level.
import { pino, Logger } from 'pino';

export function createLogger(name: string, level = process.env.OFCTL_TS_LOG ?? 'warn'): Logger {
  if (process.stderr.isTTY) {
    return pino({ name, level, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } } });
  }
  return pino({ name, level }, pino.destination(2));
}

export type { Logger };
