// Passive side: ovs-vswitchd connects to us (`ovs-vsctl set-controller br tcp:127.0.0.1:6653`).
// Each accepted connection becomes one session; a failing session never affects the others.
import { createServer, Server } from 'node:net';
import { Subject } from 'rxjs';
import type { Logger } from 'pino';
import { ConnectionOptions, OfConnection } from './connection.js';
import { Target } from './target.js';

export interface OfListener {
  /** Sessions that completed the handshake. */
  readonly sessions$: Subject<OfConnection>;
  readonly server: Server;
  close(): Promise<void>;
}

export function listen(t: Target, opts: ConnectionOptions & { logger?: Logger } = {}): Promise<OfListener> {
  const sessions$ = new Subject<OfConnection>();
  const live = new Set<OfConnection>();
  const server = createServer((sock) => {
    const peer = sock.remoteAddress ? `${sock.remoteAddress}:${sock.remotePort}` : 'unix';
    const conn = new OfConnection(sock, peer, opts);
    live.add(conn);
    void conn.closed.then(() => live.delete(conn));
    conn.handshake().then(
      () => sessions$.next(conn),
      (err: unknown) => opts.logger?.warn({ peer, err: String(err) }, 'OpenFlow handshake failed'),
    );
  });
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
    if (t.kind === 'tcp') server.listen(t.port, t.host, onListening);
    else server.listen(t.path, onListening);
  });
}
