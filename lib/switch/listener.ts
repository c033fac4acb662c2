// Passive side: ovs-vswitchd connects to us (`ovs-vsctl set-controller br tcp:127.0.0.1:6653`, or
// `ssl:…` after `ovs-vsctl set-ssl KEY CERT CACERT`). Each accepted connection becomes one session;
// a failing session never affects the others. Over TLS a peer is accepted only with a certificate
// the CA signed; a refused peer is logged as a warning and the listener carries on.
import { createServer, Server, Socket } from 'node:net';
import { Subject } from 'rxjs';
import type { Logger } from 'pino';
import { ConnectionOptions, OfConnection } from './connection.js';
import { formatTarget, Target } from './target.js';

export interface OfListener {
  /** Sessions that completed the handshake. */
  readonly sessions$: Subject<OfConnection>;
  readonly server: Server;
  close(): Promise<void>;
}

function peerOf(sock: Socket): string {
  return sock.remoteAddress ? `${sock.remoteAddress}:${sock.remotePort}` : 'unix';
}

export function listen(t: Target, opts: ConnectionOptions & { logger?: Logger } = {}): Promise<OfListener> {
  const sessions$ = new Subject<OfConnection>();
  const live = new Set<OfConnection>();
  const accept = (sock: Socket): void => {
    const peer = peerOf(sock);
    const conn = new OfConnection(sock, peer, opts);
    live.add(conn);
    void conn.closed.then(() => live.delete(conn));
    conn.handshake().then(
      () => sessions$.next(conn),
      (err: unknown) => opts.logger?.warn({ peer, err: String(err) }, 'OpenFlow handshake failed'),
    );
  };
  const server: Server = t.kind === 'ssl'
    ? t.tls.createServer(
      (sock, peer) => {
        opts.logger?.info({ peer: peer.address, subject: peer.subject, fingerprint: peer.fingerprint, protocol: peer.protocol }, 'TLS peer accepted');
        accept(sock);
      },
      (r) => opts.logger?.warn({ peer: r.address, listen: formatTarget(t), reason: r.reason, subject: r.subject, fingerprint: r.fingerprint }, 'TLS peer refused'),
    )
    : createServer(accept);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const onListening = (): void => {
      server.off('error', reject);
      resolve({
        sessions$,
        server,
        close: () => new Promise((r) => {
          for (const c of live) c.close('listener closed');
          sessions$.complete();
          server.close(() => r());
        }),
      });
    };
    if (t.kind === 'unix') server.listen(t.path, onListening);
    else server.listen(t.port, t.host, onListening);
  });
}
