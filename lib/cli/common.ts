// Shared pieces of the flow commands: connecting to a TARGET, reading "a target or a file".
import { existsSync, statSync } from 'node:fs';
import type { Flow } from '../../codecs/openflow/flow.js';
import { asSwitchHolds } from '../flowset/flowset.js';
import { readFlowFile } from '../flowset/flow-file.js';
import type { OfConnection } from '../switch/connection.js';
import { dumpFlows } from '../switch/flow-ops.js';
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

export async function openTarget(text: string): Promise<OfConnection> {
  // pino is loaded only when asked for (OFCTL_TS_LOG=info|debug): errors reach the user as exceptions.
  const logger = process.env.OFCTL_TS_LOG ? (await import('../log.js')).createLogger('ofctl-ts') : undefined;
  // Key files are read only for a target that needs them.
  const tls = text.startsWith('ssl:') ? loadTlsOptions(tlsOptions) : undefined;
  return connectSwitch(parseTarget(text, process.env, tls), { features: false, ...(logger ? { logger } : {}) });
}

export async function withTarget<T>(text: string, fn: (c: OfConnection) => Promise<T>): Promise<T> {
  const conn = await openTarget(text);
  try {
    return await fn(conn);
  } finally {
    conn.close('done');
  }
}

function isFile(p: string): boolean {
  return p === '-' || (existsSync(p) && statSync(p).isFile());
}

/** Flows of "a target or a file", as the switch holds them (files are normalised through the codec). */
export async function loadFlows(source: string): Promise<Flow[]> {
  if (isFile(source)) return readFlowFile(source).map((f) => asSwitchHolds(f.flow));
  return withTarget(source, (c) => dumpFlows(c));
}
