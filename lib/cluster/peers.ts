// Noticing at once that a replica's process is gone. Each replica listens on a TCP port of its own
// (published in its member key) and holds a connection to every live peer's. Nothing is sent on
// them: when a process dies, its kernel closes its sockets and each peer sees the end within a
// round trip, where the peer's etcd lease would take its TTL and etcd's expiry sweep (2-2.5 s) to
// run out. The cluster then revokes that lease, so the dead replica's shards go to their standbys
// now. This is safe whatever the cause of a close: leadership is fenced by generations (OpenFlow
// generation_id, the OVSDB fence), so a replica whose lease was revoked while it still ran writes
// nothing once a newer leader took over, and joins again. A stopped process or a machine that
// vanished closes nothing: its lease runs out as before.
import { createServer, Server, Socket, connect } from 'node:net';
import type { Logger } from 'pino';

export interface Peer {
  readonly id: string;
  /** HOST:PORT of its peer listener. */
  readonly address: string;
  /** The etcd lease of its alive key: this life of the replica. */
  readonly lease: string;
}

interface Link {
  readonly socket: Socket;
  connected: boolean;
  dropped: boolean;
}

/** Retry a peer whose listener did not answer (it may be starting) this long after. */
const RETRY_MS = 1000;

export class PeerWatch {
  private readonly links = new Map<string, Link>();
  private wanted = new Map<string, Peer>();
  private stopped = false;

  private constructor(private readonly server: Server, private readonly accepted: Set<Socket>, readonly address: string,
    private readonly onGone: (peer: Peer) => void, private readonly log: Logger | undefined) {}

  /** Listens on HOST, port chosen by the system. */
  static async start(host: string, onGone: (peer: Peer) => void, log?: Logger): Promise<PeerWatch> {
    // Peers' connections are held open and never read from: one closing means nothing here.
    const accepted = new Set<Socket>();
    const server = createServer((s) => {
      accepted.add(s);
      s.setKeepAlive(true, 5000);
      s.on('error', () => undefined);
      s.on('close', () => accepted.delete(s));
      s.resume();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error(`peer listener on ${host}: no TCP address`);
    return new PeerWatch(server, accepted, `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`, onGone, log);
  }

  /** The live peers now: a connection to each (kept while the same life is alive), none to the others. */
  follow(peers: readonly Peer[]): void {
    if (this.stopped) return;
    const want = new Map(peers.map((p) => [key(p), p]));
    this.wanted = want;
    for (const [k, l] of this.links) {
      if (want.has(k)) continue;
      l.dropped = true;
      l.socket.destroy();
      this.links.delete(k);
    }
    for (const [k, p] of want) {
      if (!this.links.has(k)) this.open(k, p);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const l of this.links.values()) {
      l.dropped = true;
      l.socket.destroy();
    }
    this.links.clear();
    // The peers' connections end with the listener (a stopping replica gave its lease up already).
    for (const s of this.accepted) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private open(k: string, peer: Peer): void {
    const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(peer.address);
    if (!m) return;
    const socket = connect({ host: m[1]!, port: Number(m[2]) });
    const link: Link = { socket, connected: false, dropped: false };
    this.links.set(k, link);
    socket.setKeepAlive(true, 5000);
    socket.on('connect', () => {
      link.connected = true;
    });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.links.get(k) === link) this.links.delete(k);
      if (link.dropped || this.stopped) return;
      if (!link.connected) {
        // Not listening (yet, or any more): nothing is concluded; tried again later.
        setTimeout(() => {
          const p = this.wanted.get(k);
          if (p && !this.stopped && !this.links.has(k)) this.open(k, p);
        }, RETRY_MS).unref();
        return;
      }
      this.log?.warn({ replica: peer.id, peer: peer.address }, 'cluster: a replica\'s peer connection closed: its process is gone');
      this.onGone(peer);
    });
  }
}

function key(p: Peer): string {
  return `${p.id}\u0000${p.lease}\u0000${p.address}`;
}

/** Where a replica's peer listener goes: the host bridges reach it at (--ovs-target), or loopback for a unix target. */
export function peerHostOf(target: string): string {
  const m = /^(?:tcp|ssl):(\[[^\]]+\]|[^:]+):\d+$/.exec(target);
  return m ? m[1]!.replace(/^\[|\]$/g, '') : '127.0.0.1';
}
