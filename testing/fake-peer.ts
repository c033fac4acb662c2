// A scripted OpenFlow peer for session tests: it speaks through raw sockets so tests can send
// exactly the bytes they want (garbage, old versions, silence) to an OfConnection.
import { createServer, Server, Socket } from 'node:net';
import { decodeMessage, encodeMessage, OfMessage } from '../codecs/openflow/messages.js';

export class FakePeer {
  readonly received: OfMessage[] = [];
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 8) {
        const len = this.buf.readUInt16BE(2);
        if (this.buf.length < len) break;
        const res = decodeMessage(this.buf.subarray(0, len));
        this.buf = this.buf.subarray(len);
        if (res.ok) this.received.push(res.msg);
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  send(m: OfMessage): void {
    this.socket.write(encodeMessage(m));
  }

  raw(hex: string): void {
    this.socket.write(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
  }

  /** Resolves with the first received message of that type (waits for it). */
  async next<T extends OfMessage['type']>(type: T, timeoutMs = 5000): Promise<Extract<OfMessage, { type: T }>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type);
      if (i >= 0) return this.received.splice(i, 1)[0] as Extract<OfMessage, { type: T }>;
      if (Date.now() > until) throw new Error(`fake peer: no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Answers HELLO and FEATURES like a switch with the given datapath id. */
  async actAsSwitch(dpid = 0x1234n): Promise<void> {
    this.send({ type: 'hello', xid: 1, versions: [4] });
    await this.next('hello');
    const f = await this.next('features_request');
    this.send({ type: 'features_reply', xid: f.xid, datapathId: dpid, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f });
  }
}

/** A server socket a test connects our OfConnection to; yields the peer side. */
export async function fakeSwitchServer(): Promise<{ server: Server; port: number; peer: Promise<FakePeer> }> {
  let resolvePeer!: (p: FakePeer) => void;
  const peer = new Promise<FakePeer>((r) => (resolvePeer = r));
  const server = createServer((s) => resolvePeer(new FakePeer(s)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return { server, port: addr.port, peer };
}
