// What `monitor` and `snoop` share: ovs-ofctl's monitor_vconn. Every message the switch sends is
// printed (ofp-print's text, on stderr, optionally after a UTC timestamp) until the switch closes
// the connection (exit 1, "vconn_recv (End of file)") or a signal ends it (the fatal_signal line
// ovs-ofctl logs, exit 128+signal, as a shell sees a process the signal killed).
import { constants } from 'node:os';
import { formatMessage } from '../../codecs/ofctl/format-message.js';
import type { OfMessage } from '../../codecs/openflow/messages.js';
import type { OfConnection } from '../switch/connection.js';

export interface MonitorOptions {
  /** --timestamp: each message printed after "YYYY-MM-DD HH:MM:SS.mmm: " (UTC). */
  readonly timestamp?: boolean;
  /** Ends the monitor; its reason, when a signal name ('SIGINT'), is reported as that signal. Default: SIGINT and SIGTERM. */
  readonly stop?: AbortSignal;
  /** Where the messages go (ovs-ofctl prints them on stderr). */
  readonly err?: (s: string) => void;
}

const stderr = (s: string): void => void process.stderr.write(s);

/** xastrftime_msec("%Y-%m-%d %H:%M:%S.###: ", now, utc). */
export function timestampPrefix(now: Date): string {
  return `${now.toISOString().slice(0, 23).replace('T', ' ')}: `;
}

/** The line OVS's fatal_signal module logs on the console before it re-raises the signal. */
function fatalSignalLine(sig: NodeJS.Signals, now: Date): string {
  const what = sig === 'SIGINT' ? 'Interrupt' : sig === 'SIGTERM' ? 'Terminated' : sig;
  return `${now.toISOString().slice(0, 19)}Z|00001|fatal_signal|WARN|terminating with signal ${constants.signals[sig]} (${what})\n`;
}

/** A stop signal: the one given, or SIGINT/SIGTERM of this process (handlers removed when done). */
function stopSignal(given: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
  if (given) return { signal: given, release: () => undefined };
  const ac = new AbortController();
  const on = (sig: NodeJS.Signals): void => ac.abort(sig);
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return { signal: ac.signal, release: () => (process.off('SIGINT', on), process.off('SIGTERM', on)) };
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
      err(fatalSignalLine(ended.sig, new Date()));
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
