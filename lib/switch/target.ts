// Where to reach a switch: `tcp:IP:PORT`, `unix:PATH`, or a bridge name whose management socket
// lives in $OVS_RUNDIR (default /var/run/openvswitch), as ovs-ofctl resolves it.
import { connect as netConnect, Socket } from 'node:net';
import { join } from 'node:path';
import { ConnectionOptions, OfConnection } from './connection.js';

export type Target = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export class TargetError extends Error {}

export function parseTarget(text: string, env: NodeJS.ProcessEnv = process.env): Target {
  if (text.startsWith('tcp:')) {
    const m = /^tcp:(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
    if (!m || Number(m[2]) > 65535) throw new TargetError(`${text}: expected tcp:IP:PORT`);
    return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  }
  if (text.startsWith('unix:')) {
    if (text.length === 5) throw new TargetError(`${text}: expected unix:PATH`);
    return { kind: 'unix', path: text.slice(5) };
  }
  if (/^[A-Za-z0-9_.-]+$/.test(text)) {
    return { kind: 'unix', path: join(env.OVS_RUNDIR ?? '/var/run/openvswitch', `${text}.mgmt`) };
  }
  throw new TargetError(`${text}: not a target (tcp:IP:PORT, unix:PATH or a bridge name)`);
}

export function formatTarget(t: Target): string {
  return t.kind === 'tcp' ? `tcp:${t.host}:${t.port}` : `unix:${t.path}`;
}

function openSocket(t: Target, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = t.kind === 'tcp' ? netConnect(t.port, t.host) : netConnect(t.path);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new TargetError(`${formatTarget(t)}: connection timed out`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(new TargetError(`${formatTarget(t)}: ${err.message}`));
    });
  });
}

/** Connects actively to a switch (a bridge's mgmt socket or a `ptcp:` listener) and handshakes. */
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
