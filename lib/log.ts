// pino loggers, to stderr so stdout stays the command's output: pretty lines in a terminal, JSON
// lines otherwise (for log collectors). OFCTL_TS_LOG sets the level.
import { createRequire } from 'node:module';
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
    // For a person at a terminal: each line made pretty and written at once, in this thread. (pino's
    // transport is a worker thread: a failing command's last words came before the lines it logged.)
    const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    const pretty = prettyFactory({ colorize: true });
    const out = pino.destination({ dest: 2, sync: true });
    return pino({ name, level, redact }, { write: (line: string) => void out.write(pretty(line)) });
  }
  return pino({ name, level, redact }, stderrLines());
}

/**
 * stderr, written asynchronously (a slow log reader does not stall the event loop), with a count of
 * the bytes taken and written. process.exit() would cut an async write short or let the exit's
 * synchronous flush overtake it (lines lost or out of order): `logsWritten()` waits for them first.
 */
const pending = new Set<{ taken: number; written: number; gone: boolean }>();

function stderrLines(): DestinationStream {
  const stream = pino.destination(2);
  const count = { taken: 0, written: 0, gone: false };
  pending.add(count);
  stream.on('write', (n: number) => (count.written += n));
  // A closed stderr (EPIPE) will write nothing more: nothing to wait for.
  stream.on('error', () => (count.gone = true));
  stream.on('close', () => (count.gone = true));
  return {
    write(line: string): void {
      count.taken += Buffer.byteLength(line);
      stream.write(line);
    },
  };
}

/** Resolves once every line logged so far is written to stderr, or after `capMs` (stderr stuck). */
export async function logsWritten(capMs = 2000): Promise<void> {
  const until = Date.now() + capMs;
  const behind = (): boolean => [...pending].some((c) => c.written < c.taken && !c.gone);
  while (behind() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
}

export type { Logger };
