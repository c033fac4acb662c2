// Where to reach a switch: `tcp:IP:PORT`, `ssl:IP:PORT` (mutual TLS), `unix:PATH`, or a bridge name
// whose management socket lives in $OVS_RUNDIR (default /var/run/openvswitch), as ovs-ofctl resolves
// it. Where to listen (`--listen`) is parsed by parseListenTarget: loopback unless an address is given.
import { connect as netConnect, Socket } from 'node:net';
import { strerrorOfCode } from '../strerror.js';
import { nodeTls, opensslReason, TLS_OPTIONS_NEEDED, TlsCredentials } from '../tls.js';
import { bridgeMgmtSocket } from './bridge-socket.js';
import { ConnectionOptions, OfConnection } from './connection.js';

export type Target =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'ssl'; readonly host: string; readonly port: number; readonly tls: TlsCredentials }
  | { readonly kind: 'unix'; readonly path: string; /** The bridge name it was resolved from. */ readonly bridge?: string };

export class TargetError extends Error {}

const LOOPBACK = '127.0.0.1';

const HOST_PORT = /^(\[[^\]]+\]|[^:]+):(\d+)$/;

function hostPort(text: string, rest: string, expected: string): { host: string; port: number } {
  const m = HOST_PORT.exec(rest);
  if (!m || Number(m[2]) > 65535) throw new TargetError(`${text}: expected ${expected}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function sslTarget(text: string, a: { host: string; port: number }, tls: TlsCredentials | undefined): Target {
  if (!tls) throw new TargetError(`${text}: ${TLS_OPTIONS_NEEDED}`);
  return { kind: 'ssl', ...a, tls };
}

/** An active target (we connect). `ssl:` needs the TLS credentials. */
export function parseTarget(text: string, env: NodeJS.ProcessEnv = process.env, tls?: TlsCredentials): Target {
  if (text.startsWith('tcp:')) return { kind: 'tcp', ...hostPort(text, text.slice(4), 'tcp:IP:PORT') };
  if (text.startsWith('ssl:')) return sslTarget(text, hostPort(text, text.slice(4), 'ssl:IP:PORT'), tls);
  if (text.startsWith('unix:')) {
    if (text.length === 5) throw new TargetError(`${text}: expected unix:PATH`);
    return { kind: 'unix', path: text.slice(5) };
  }
  const mgmt = bridgeMgmtSocket(text, env);
  if (mgmt) return { kind: 'unix', path: mgmt, bridge: text };
  throw new TargetError(`${text}: not a target (tcp:IP:PORT, ssl:IP:PORT, unix:PATH or a bridge name)`);
}

/**
 * A passive target (we listen): `tcp:IP:PORT`, `tcp:PORT`, `ssl:IP:PORT`, `ssl:PORT`, `unix:PATH`,
 * or OVS's own spellings `ptcp:PORT[:IP]`, `pssl:PORT[:IP]`, `punix:PATH`. Without an address, only
 * loopback is bound.
 */
export function parseListenTarget(text: string, tls?: TlsCredentials): Target {
  const passive = /^p(tcp|ssl):(\d+)(?::(.+))?$/.exec(text);
  const port = /^(tcp|ssl):(\d+)$/.exec(text);
  let kind: string;
  let a: { host: string; port: number };
  if (passive) {
    kind = passive[1]!;
    a = { host: (passive[3] ?? LOOPBACK).replace(/^\[|\]$/g, ''), port: Number(passive[2]) };
  } else if (port) {
    kind = port[1]!;
    a = { host: LOOPBACK, port: Number(port[2]) };
  } else if (text.startsWith('tcp:') || text.startsWith('ssl:')) {
    kind = text.slice(0, 3);
    a = hostPort(text, text.slice(4), `${kind}:IP:PORT or ${kind}:PORT`);
  } else if (text.startsWith('unix:') || text.startsWith('punix:')) {
    const path = text.slice(text.indexOf(':') + 1);
    if (!path) throw new TargetError(`${text}: expected unix:PATH`);
    return { kind: 'unix', path };
  } else {
    throw new TargetError(`${text}: not a listen target (tcp:[IP:]PORT, ssl:[IP:]PORT, pssl:PORT[:IP], ptcp:PORT[:IP] or unix:PATH)`);
  }
  if (a.port > 65535 || !a.host) throw new TargetError(`${text}: bad address or port`);
  return kind === 'ssl' ? sslTarget(text, a, tls) : { kind: 'tcp', ...a };
}

/** The active spelling (what ovs-vswitchd is told to connect to); IPv6 addresses in brackets. */
export function formatTarget(t: Target): string {
  if (t.kind === 'unix') return `unix:${t.path}`;
  return `${t.kind}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

function openSocket(t: Target, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = t.kind === 'ssl' ? nodeTls().connect({ host: t.host, port: t.port, ...t.tls.clientOptions() })
      : t.kind === 'tcp' ? netConnect(t.port, t.host) : netConnect(t.path);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new TargetError(`${formatTarget(t)}: connection timed out`));
    }, timeoutMs);
    // A TLS socket is usable once the handshake (and the check of the server's certificate) is done.
    s.once(t.kind === 'ssl' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // A bridge name with no mgmt socket: said as ovs-ofctl says it, with where we looked. One
      // whose socket file was left by an ovs-vswitchd that died: ovs-ofctl's words for that too.
      if (t.kind === 'unix' && t.bridge && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) {
        reject(new TargetError(err.code === 'ENOENT' ? `${t.bridge} is not a bridge or a socket (no ovs-vswitchd answers on ${t.path}; set OVS_RUNDIR?)`
          : `${t.path}: failed to open socket (Connection refused)`));
        return;
      }
      // A socket error is said as ovs-ofctl says it (vconn's "connecting to TARGET (strerror)").
      const why = t.kind === 'ssl' ? undefined : strerrorOfCode(err.code);
      reject(new TargetError(why ? `connecting to ${formatTarget(t)} (${why})` : `${formatTarget(t)}: ${opensslReason(err)}`));
    });
  });
}

/** Connects actively to a switch (a bridge's mgmt socket, a `ptcp:` or `pssl:` listener) and handshakes. */
export async function connectSwitch(t: Target, opts: ConnectionOptions = {}): Promise<OfConnection> {
  const sock = await openSocket(t, opts.requestTimeoutMs ?? 15000);
  const conn = new OfConnection(sock, formatTarget(t), opts);
  try {
    await conn.handshake();
  } catch (err) {
    conn.close(err instanceof Error ? err.message : String(err));
    throw err;
  }
  return conn;
}
