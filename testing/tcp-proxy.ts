// A loopback TCP proxy that a test can cut (every connection dropped, new ones refused) and mend:
// a client behind it loses its server while the server itself goes on (and can be written to and
// compacted by others meanwhile).
import { createServer, Server, Socket } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  private readonly server: Server;
  port = 0;

  private constructor(targetPort: number, targetHost: string) {
    this.server = createServer((client) => {
      if (this.cut) {
        client.destroy();
        return;
      }
      const upstream = new Socket();
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      upstream.connect(targetPort, targetHost, () => {
        client.pipe(upstream);
        upstream.pipe(client);
      });
    });
  }

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, targetHost);
    await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
    const addr = proxy.server.address();
    proxy.port = typeof addr === 'object' && addr ? addr.port : 0;
    return proxy;
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Drops every connection and refuses new ones until mend(). */
  sever(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }

  mend(): void {
    this.cut = false;
  }

  async stop(): Promise<void> {
    this.sever();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
