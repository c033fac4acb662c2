// A plain `ofctl-ts dump-flows TARGET [--no-stats]` spends most of its time waiting twice: for the
// switch to collect its flows (~175 ms for 100k in OVS 3.1) and for Node to load the CLI (~150 ms:
// yargs, the codec, the formatter). Loaded before anything else (bin/ofctl-ts.js), this module
// connects and sends the dump request at once, so the two waits overlap. It imports node:net and one small helper only;
// the session (lib/switch/connection.ts) adopts the socket later, with the replies still unread.
import { connect, Socket } from 'node:net';
import { bridgeMgmtSocket } from '../switch/bridge-socket.js';

/**
 * What ovs-ofctl -O OpenFlow13 sends for `dump-flows BR`, byte for byte (a test compares both with
 * a capture of ovs-ofctl and with our encoder): HELLO (xid 1, version bitmap {1.3}), then
 * OFPMP_FLOW (xid 2) for every table, any out_port and out_group, any cookie, an empty match.
 */
export const EARLY_DUMP_BYTES = Buffer.from(
  '04000010000000010001000800000010' // HELLO
  + '04120038000000020001000000000000' // MULTIPART_REQUEST, OFPMP_FLOW
  + 'ff000000ffffffffffffffff00000000' // table all, out_port and out_group any
  + '000000000000000000000000000000000001000400000000', // cookie/mask 0, empty OXM match
  'hex',
);
/** The xid of the request in EARLY_DUMP_BYTES (the HELLO is xid 1). */
export const EARLY_DUMP_XID = 2;

export interface EarlyDump {
  /** The TARGET text the dump was started for. */
  readonly target: string;
  /** Connected (or connecting); nothing read from it yet. */
  readonly socket: Socket;
}

let pending: EarlyDump | undefined;

/** Options of `dump-flows` that do not change the request; anything else disables the early dump. */
const PLAIN_OPTIONS = new Set(['--stats', '--no-stats', '--names', '--no-names']);

/** The socket path or TCP address of a TARGET, or undefined when it is not a plain one (ssl:, a typo…). */
function address(target: string, env: NodeJS.ProcessEnv): { path: string } | { host: string; port: number } | undefined {
  if (target.startsWith('unix:') && target.length > 5) return { path: target.slice(5) };
  const tcp = /^tcp:(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(target);
  if (tcp) return Number(tcp[2]) <= 65535 ? { host: tcp[1]!, port: Number(tcp[2]) } : undefined;
  const mgmt = bridgeMgmtSocket(target, env);
  return mgmt ? { path: mgmt } : undefined;
}

/**
 * Starts the dump when argv is exactly `dump-flows TARGET` plus options that leave the request as
 * is (no MATCH, no --diff, no TLS). Anything else is left to the CLI as usual.
 */
export function startEarlyDump(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  const [command, target, ...rest] = argv;
  if (command !== 'dump-flows' || !target || target.startsWith('-')) return;
  if (!rest.every((o) => PLAIN_OPTIONS.has(o))) return;
  const where = address(target, env);
  if (!where) return;
  const socket = 'path' in where ? connect(where.path) : connect(where.port, where.host);
  // Until the CLI adopts it, the socket neither keeps the process alive nor reports errors: a
  // failed early connect is simply not adopted, and the CLI's own connect reports the failure.
  socket.unref();
  socket.on('error', () => undefined);
  socket.write(EARLY_DUMP_BYTES);
  pending = { target, socket };
}

/**
 * The early dump for this TARGET, once it is connected; undefined if none was started, or if its
 * connect failed (the CLI then connects as usual and reports why).
 */
export async function takeEarlyDump(target: string): Promise<EarlyDump | undefined> {
  const e = pending;
  pending = undefined;
  if (!e) return undefined;
  const connected = e.target === target && await new Promise<boolean>((resolve) => {
    if (e.socket.destroyed) resolve(false);
    else if (!e.socket.connecting) resolve(true);
    else {
      e.socket.once('connect', () => resolve(true));
      e.socket.once('close', () => resolve(false));
    }
  });
  if (!connected) {
    e.socket.destroy();
    return undefined;
  }
  e.socket.ref();
  return e;
}
