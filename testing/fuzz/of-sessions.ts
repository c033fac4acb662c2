// OfConnection's stream framing under fuzz: after a normal handshake, a scripted switch writes a
// stream of valid and fuzzed messages, cut at random points. The session must end exactly as the
// first protocol violation in the stream says (malformed framing or message, wrong version, a
// HELLO without 1.3) or, when there is none, stay open and answer an echo; nothing may throw,
// and a bystander session must carry on.
import { connect, createServer, Server, Socket } from 'node:net';
import { RefusedMessage } from '../../codecs/openflow/errors.js';
import { decodeMessage, encodeMessage } from '../../codecs/openflow/messages.js';
import { OfConnection } from '../../lib/switch/connection.js';
import { FakePeer } from '../fake-peer.js';
import { OpenFlowInputs } from './gen-openflow.js';
import { rngFor, Stream } from './rng.js';
import { UncaughtCollector } from './uncaught.js';

/** How a session must end: open (answers the probe), open but silent (waiting for the rest of a message), or closed for a reason. */
export type Expected = 'open' | 'waiting' | 'malformed' | 'version' | 'hello';

export interface SessionResult {
  readonly index: number;
  readonly expected: Expected;
  /** How the session ended: 'open' (answered the final echo) or its close reason. */
  readonly got: string;
  readonly crashes: readonly unknown[];
  readonly bytes: Buffer;
}

/**
 * What OfConnection must do with this stream (after the handshake): the first violation decides.
 * The stream ends with our echo request at `probeAt`; the session answers it only when a message
 * starts there (otherwise the probe is the tail of a message that swallowed it).
 */
function expectedEnd(stream: Buffer, probeAt: number): Expected {
  let off = 0;
  let probeFramed = false;
  while (stream.length - off >= 8) {
    if (off === probeAt) probeFramed = true;
    const len = stream.readUInt16BE(off + 2);
    if (len < 8) return 'malformed';
    if (stream.length - off < len) return 'waiting';
    const raw = stream.subarray(off, off + len);
    off += len;
    const r = decodeMessage(raw);
    // A message OVS refuses is answered with an error and the session goes on (after the version check).
    if (!r.ok && r.error instanceof RefusedMessage) {
      if (raw[0] !== 4) return 'version';
      continue;
    }
    if (!r.ok) return 'malformed';
    if (r.msg.type === 'hello') {
      if (r.msg.versions.length ? !r.msg.versions.includes(4) : raw[0]! < 4) return 'hello';
    } else if (raw[0] !== 4) {
      return 'version';
    }
  }
  return probeFramed && off === stream.length ? 'open' : 'waiting';
}

const REASONS: Readonly<Record<Exclude<Expected, 'open' | 'waiting'>, RegExp>> = {
  malformed: /^malformed message: /,
  version: /^unexpected OpenFlow version /,
  hello: /^peer does not support OpenFlow 1\.3/,
};

export function endMatches(expected: Expected, got: string): boolean {
  return expected === 'open' || expected === 'waiting' ? got === expected : REASONS[expected].test(got);
}

/** A listening scripted switch: each connection becomes a FakePeer. */
class PeerServer {
  private readonly waiting: Array<(p: FakePeer) => void> = [];
  readonly server: Server = createServer((s) => this.waiting.shift()?.(new FakePeer(s)));

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new Error('no port');
    return a.port;
  }

  /** Our OfConnection to a new peer, handshake done. */
  async session(port: number): Promise<{ conn: OfConnection; peer: FakePeer }> {
    const peerP = new Promise<FakePeer>((r) => this.waiting.push(r));
    const sock: Socket = connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const conn = new OfConnection(sock, `fuzz:${port}`, { requestTimeoutMs: 5000, echoIntervalMs: 60_000 });
    const peer = await peerP;
    const hs = conn.handshake();
    await peer.actAsSwitch();
    await hs;
    return { conn, peer };
  }
}

/** Valid and fuzzed messages back to back: what session `index` is fed. */
export function sessionStream(inputs: OpenFlowInputs, seed: number, index: number): { bytes: Buffer; cuts: number[] } {
  const rng = rngFor(seed, Stream.OPENFLOW_SESSION, index);
  const parts: Buffer[] = [];
  for (let n = rng.range(1, 6); n > 0; n--) {
    parts.push(rng.chance(0.5) ? rng.pick(inputs.seeds).bytes : inputs.input(rng.u32() & 0x7fffffff).bytes);
  }
  const bytes = Buffer.concat(parts);
  const cuts = [...new Set(Array.from({ length: rng.int(6) }, () => rng.int(bytes.length + 1)))].sort((a, b) => a - b);
  return { bytes, cuts };
}

export class SessionFuzzer {
  private readonly peers = new PeerServer();
  private port = 0;
  private bystander: { conn: OfConnection; peer: FakePeer } | undefined;
  private uncaught: UncaughtCollector | undefined;

  constructor(
    private readonly inputs: OpenFlowInputs,
    private readonly seed: number,
  ) {}

  async start(): Promise<void> {
    this.port = await this.peers.listen();
    this.bystander = await this.peers.session(this.port);
    this.uncaught = new UncaughtCollector();
  }

  /** Feeds session `index` its stream, then an echo request, and reports how it ended. */
  async run(index: number): Promise<SessionResult> {
    const { bytes, cuts } = sessionStream(this.inputs, this.seed, index);
    const probe = 0x7e000000 + (index & 0xffffff);
    const stream = Buffer.concat([bytes, encodeMessage({ type: 'echo_request', xid: probe, data: Buffer.alloc(0) })]);
    const expected = expectedEnd(stream, bytes.length);
    const { conn, peer } = await this.peers.session(this.port);
    this.uncaught!.take();
    let last = 0;
    for (const c of [...cuts, stream.length]) {
      peer.socket.write(stream.subarray(last, c));
      last = c;
    }
    const answered = async (): Promise<string> => {
      for (;;) {
        const m = await peer.next('echo_reply', expected === 'waiting' ? 50 : 5000).catch(() => undefined);
        if (!m) return expected === 'waiting' && conn.isOpen ? 'waiting' : 'no echo reply';
        if (m.xid === probe) return 'open';
      }
    };
    const got = await Promise.race([conn.closed, answered()]);
    conn.close('test done');
    peer.socket.destroy();
    await new Promise((r) => setTimeout(r, 0));
    return { index, expected, got, crashes: this.uncaught!.take(), bytes: stream };
  }

  /** The bystander still answers. */
  async bystanderAlive(): Promise<boolean> {
    const b = this.bystander!;
    if (!b.conn.isOpen) return false;
    const xid = 0x7fffff00;
    b.peer.send({ type: 'echo_request', xid, data: Buffer.from('still there?') });
    const reply = await b.peer.next('echo_reply', 5000).catch(() => undefined);
    return reply?.xid === xid;
  }

  async stop(): Promise<void> {
    this.uncaught?.restore();
    this.bystander?.conn.close('fuzz done');
    this.bystander?.peer.socket.destroy();
    await new Promise<void>((r) => this.peers.server.close(() => r()));
  }
}
