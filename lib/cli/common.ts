// Shared pieces of the flow commands: exit codes, TLS options, connecting to a TARGET.
// It is loaded by every command: it imports only what connecting needs.
import type { Logger } from 'pino';
import type { ConnectionOptions, OfConnection } from '../switch/connection.js';
import { connectSwitch, parseTarget } from '../switch/target.js';
import { loadTlsOptions } from '../tls.js';
import { terminatingWith } from './fatal-signal.js';

/** Exit codes a script can rely on. */
export const EXIT_OK = 0;
export const EXIT_DIFFERENT = 1;
export const EXIT_FAILURE = 1;
export const EXIT_ERROR = 2;

export class UsageError extends Error {}

/** --private-key, --certificate and --ca-cert, for `ssl:` targets (set once by the CLI). */
let tlsOptions: Parameters<typeof loadTlsOptions>[0] = {};

export function setTlsOptions(o: typeof tlsOptions): void {
  tlsOptions = o;
}

/** pino is loaded only when asked for (OFCTL_TS_LOG=info|debug): errors reach the user as exceptions. */
export async function flowToolLogger(): Promise<Logger | undefined> {
  return process.env.OFCTL_TS_LOG ? (await import('../log.js')).createLogger('ofctl-ts') : undefined;
}

/**
 * ovs-ofctl's warning for a flow-mod whose match names a field its protocol does not allow (the
 * field is dropped and the flow matches more than written), on stderr, with the flow's place.
 */
export function warnNormalized(where: string, pre: string, post: string): void {
  const p = `ofctl-ts: ${where ? `${where}: ` : ''}`;
  process.stderr.write(`${p}normalization changed ofp_match, details:\n${p} pre: ${pre}\n${p}post: ${post}\n`);
}

/** The TLS credentials given on the command line, loaded (undefined when none were given). */
export function cliTls(): ReturnType<typeof loadTlsOptions> {
  return loadTlsOptions(tlsOptions);
}

/** While a -t/--timeout runs (withTimeout): when it ends, and the connections to close then. */
let alarm: { readonly at: number; readonly open: Set<OfConnection>; expired: boolean } | undefined;

async function openTarget(text: string, extra: ConnectionOptions): Promise<OfConnection> {
  const logger = await flowToolLogger();
  // Key files are read only for a target that needs them.
  const tls = text.startsWith('ssl:') ? loadTlsOptions(tlsOptions) : undefined;
  // Under an alarm a silent peer is given up soon after it (the alarm speaks first), not after 15 s.
  const wait = alarm ? { requestTimeoutMs: Math.min(15_000, Math.max(0, alarm.at - Date.now()) + 1000) } : {};
  return connectSwitch(parseTarget(text, process.env, tls), { features: false, ...wait, ...(logger ? { logger } : {}), ...extra });
}

/** Runs fn on a session with TARGET, closed afterwards; `extra` tunes the session (monitor's echoes). */
export async function withTarget<T>(text: string, fn: (c: OfConnection) => Promise<T>, extra: ConnectionOptions = {}): Promise<T> {
  const timed = alarm;
  const conn = await openTarget(text, extra);
  // A connection that comes up after the alarm went off is not used: the command has ended.
  if (timed?.expired) {
    conn.close('-t/--timeout expired');
    throw new Error(ALARM_MESSAGE);
  }
  timed?.open.add(conn);
  try {
    return await fn(conn);
  } finally {
    timed?.open.delete(conn);
    conn.close('done');
  }
}

/** What ovs-ofctl prints when its -t/--timeout alarm goes off (fatal_signal's warning). */
export const ALARM_MESSAGE = terminatingWith('SIGALRM');
/** ovs-ofctl dies of SIGALRM there: a shell sees 128 + 14. */
export const EXIT_ALARM = 142;

/**
 * -t/--timeout SECS, as ovs-ofctl's time_alarm(): the whole command (every connection it opens,
 * port names included) must end within `timeoutS` seconds; else its connections are closed,
 * `ofctl-ts: CMD: terminating with signal 14 (Alarm clock)` goes to stderr and the exit code is
 * 142, as a shell reports ovs-ofctl's. No timeout: `fn` runs as it is. Nested calls keep the first alarm.
 * From the command line, quick.ts's armTimeout goes off first and ends the process as ovs-ofctl's
 * alarm does; this one serves the command modules called in-process (a program, the tests).
 */
export async function withTimeout(command: string, timeoutS: number | undefined, fn: () => Promise<number>): Promise<number> {
  if (timeoutS === undefined || alarm) return fn();
  const mine = { at: Date.now() + timeoutS * 1000, open: new Set<OfConnection>(), expired: false };
  alarm = mine;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      mine.expired = true;
      for (const c of mine.open) c.close('-t/--timeout expired');
      process.stderr.write(`ofctl-ts: ${command}: ${ALARM_MESSAGE}\n`);
      resolve(EXIT_ALARM);
    }, timeoutS * 1000);
  });
  try {
    return await Promise.race([fn(), expired]);
  } finally {
    clearTimeout(timer);
    alarm = undefined;
  }
}
