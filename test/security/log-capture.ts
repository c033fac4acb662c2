// A logger whose every line is kept, to check what the log says (and what it never says).
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger, Logger } from '../../lib/log.js';

export interface CapturedLog {
  readonly logger: Logger;
  /** Everything written so far. */
  text(): string;
  /** Parsed lines whose msg is this. */
  lines(msg: string): Array<Record<string, unknown>>;
}

export function captureLog(level = 'debug'): CapturedLog {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const logger = createLogger('test', level, sink);
  return {
    logger,
    text: () => out,
    lines: (msg) => out.split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg),
  };
}

/** The base64 body lines of a PEM file: any of them in an output means the key leaked. */
export function pemBodyLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
}
