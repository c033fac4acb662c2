// Shared pieces of the flow commands: exit codes, TLS options, connecting to a TARGET.
// It is loaded by every command: it imports only what connecting needs.
import type { Logger } from 'pino';
import type { ConnectionOptions, OfConnection } from '../switch/connection.js';
import { connectSwitch, parseTarget } from '../switch/target.js';
import { loadTlsOptions } from '../tls.js';

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

async function openTarget(text: string, extra: ConnectionOptions): Promise<OfConnection> {
  const logger = await flowToolLogger();
  // Key files are read only for a target that needs them.
  const tls = text.startsWith('ssl:') ? loadTlsOptions(tlsOptions) : undefined;
  return connectSwitch(parseTarget(text, process.env, tls), { features: false, ...(logger ? { logger } : {}), ...extra });
}

/** Runs fn on a session with TARGET, closed afterwards; `extra` tunes the session (monitor's echoes). */
export async function withTarget<T>(text: string, fn: (c: OfConnection) => Promise<T>, extra: ConnectionOptions = {}): Promise<T> {
  const conn = await openTarget(text, extra);
  try {
    return await fn(conn);
  } finally {
    conn.close('done');
  }
}
