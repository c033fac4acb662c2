// What `monitor` and `snoop` share: ovs-ofctl's monitor_vconn. Every message the switch sends is
// printed (ofp-print's text, on stderr, optionally after a UTC timestamp) until the switch closes
// the connection (exit 1, "vconn_recv (End of file)") or a signal ends it (the fatal_signal line
// ovs-ofctl logs, exit 128+signal, as a shell sees a process the signal killed).
import { constants } from 'node:os';
import { formatMessage } from '../../codecs/ofctl/format-message.js';
import type { OfMessage } from '../../codecs/openflow/messages.js';
import type { OfConnection } from '../switch/connection.js';
import { fatalSignalLine } from './fatal-signal.js';

export interface MonitorOptions {
  /** --timestamp: each message printed after "YYYY-MM-DD HH:MM:SS.mmm: " (UTC). */
  readonly timestamp?: boolean;
  /** Ends the monitor; its reason, when a signal name ('SIGINT'), is reported as that signal (the CLI's own signals end the process). */
  readonly stop?: AbortSignal;
  /** Where the messages go (ovs-ofctl prints them on stderr). */
  readonly err?: (s: string) => void;
}

const stderr = (s: string): void => void process.stderr.write(s);

/** xastrftime_msec("%Y-%m-%d %H:%M:%S.###: ", now, utc). */
export function timestampPrefix(now: Date): string {
  return `${now.toISOString().slice(0, 23).replace('T', ' ')}: `;
}

/**
 * A stop signal: the one given, else none: from the command line, Ctrl-C and kill end the process as
 * they end ovs-ofctl's (quick.ts prints fatal_signal's line and dies of the signal).
 */
function stopSignal(given: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
  return { signal: given ?? new AbortController().signal, release: () => undefined };
}

/**
 * Prints each message that arrives on `conn` until it closes or `opts.stop` fires; returns the
 * exit code. `onMessage` sees each message after it is printed (monitor answers nothing more).
 */
export async function monitorConnection(conn: OfConnection, opts: MonitorOptions): Promise<number> {
  const err = opts.err ?? stderr;
  const { signal, release } = stopSignal(opts.stop);
  const print = (m: OfMessage): void => {
    const text = formatMessage(m);
    const head = opts.timestamp ? timestampPrefix(new Date()) : '';
    // A message this printer does not model is named, not guessed at; monitoring goes on.
    err(text === undefined ? `${head}ofctl-ts: cannot print a ${m.type} message\n` : head + text);
  };
  const sub = conn.messages$.subscribe(print);
  try {
    const ended = await new Promise<{ sig?: NodeJS.Signals; closed?: string }>((resolve) => {
      if (signal.aborted) resolve({ sig: signalName(signal.reason) });
      signal.addEventListener('abort', () => resolve({ sig: signalName(signal.reason) }), { once: true });
      void conn.closed.then((closed) => resolve({ closed }));
    });
    if (ended.sig) {
      err(fatalSignalLine(ended.sig));
      return 128 + constants.signals[ended.sig];
    }
    if (signal.aborted) return 0;
    throw new Error(`vconn_recv (${ended.closed === 'connection closed by peer' ? 'End of file' : ended.closed})`);
  } finally {
    sub.unsubscribe();
    release();
  }
}

function signalName(reason: unknown): NodeJS.Signals | undefined {
  return typeof reason === 'string' && reason in constants.signals ? (reason as NodeJS.Signals) : undefined;
}
