// OpenFlow sessions: handshake and version negotiation, keepalive, malformed input, multipart,
// bundles and back-pressure — against scripted peers and a real ovs-vswitchd.
import { expect } from 'chai';
import { connect, Socket } from 'node:net';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { formatFlowStatsReplyBytes } from '../../codecs/ofctl/format-flow-stats-bytes.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { OFPBCT_COMMIT_REQUEST, OFPBCT_OPEN_REPLY } from '../../codecs/openflow/messages.js';
import { OfConnection, SessionClosedError } from '../../lib/switch/connection.js';
import { applyFlowMods, dumpFlowReplies, dumpFlows, streamFlowReplies } from '../../lib/switch/flow-ops.js';
import { listen } from '../../lib/switch/listener.js';
import { connectSwitch } from '../../lib/switch/target.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { FakePeer, fakeSwitchServer } from '../../testing/fake-peer.js';

async function pair(opts: ConstructorParameters<typeof OfConnection>[2] = {}): Promise<{ conn: OfConnection; peer: FakePeer; done: () => void }> {
  const { server, port, peer } = await fakeSwitchServer();
  const sock = connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const conn = new OfConnection(sock, `tcp:127.0.0.1:${port}`, opts);
  const p = await peer;
  return { conn, peer: p, done: () => { conn.close('test done'); p.socket.destroy(); server.close(); } };
}

describe('OpenFlow session (scripted peers)', () => {
  it('handshakes with a peer whose HELLO says version 6 with bitmap 0x72 (as OVS sends)', async () => {
    const { conn, peer, done } = await pair();
    const hs = conn.handshake();
    // ofp_header version 6, HELLO, bitmap element {1.0, 1.3, 1.4, 1.5}.
    peer.raw('06000010 00000099 00010008 00000072');
    const hello = await peer.next('hello');
    expect(hello.versions).to.deep.equal([4]);
    const f = await peer.next('features_request');
    peer.send({ type: 'features_reply', xid: f.xid, datapathId: 0xabcdn, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 });
    expect(await hs).to.equal(0xabcdn);
    done();
  });

  it('refuses a peer without OpenFlow 1.3, with an OFPT_ERROR and a clear reason', async () => {
    const { conn, peer, done } = await pair();
    const hs = conn.handshake().then(() => 'succeeded', (e: Error) => e.message);
    peer.raw('01000008 00000001'); // a plain OpenFlow 1.0 HELLO
    const err = await peer.next('error');
    expect([err.errType, err.code]).to.deep.equal([0, 0]); // OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE
    expect(await hs).to.match(/does not support OpenFlow 1\.3/);
    expect(await conn.closed).to.match(/does not support OpenFlow 1\.3/);
    done();
  });

  it('answers echo requests and closes a peer that stops answering ours', async () => {
    const { conn, peer, done } = await pair({ echoIntervalMs: 100, requestTimeoutMs: 300 });
    const hs = conn.handshake();
    await peer.actAsSwitch();
    await hs;
    peer.send({ type: 'echo_request', xid: 77, data: Buffer.from('ping') });
    const reply = await peer.next('echo_reply');
    expect(reply.xid).to.equal(77);
    expect(reply.data.toString()).to.equal('ping');
    // Now the peer goes silent: our echo requests go unanswered.
    await peer.next('echo_request', 2000);
    expect(await conn.closed).to.match(/no reply to echo_request: peer silent for \d+ ms/);
    done();
  });

  it('a session lost while the switch commits a bundle fails it as closed, not as refused: whether it was applied is unknown', async () => {
    const { conn, peer, done } = await pair({ echoIntervalMs: 100 });
    try {
      const hs = conn.handshake();
      await peer.actAsSwitch();
      await hs;
      const fm = parseFlow('table=1,priority=1,actions=drop');
      const outcome = conn.bundle([fm, fm]).then(() => 'committed', (e: Error) => e);
      const open = await peer.next('bundle_control');
      peer.send({ ...open, ctrlType: OFPBCT_OPEN_REPLY });
      peer.send({ type: 'barrier_reply', xid: (await peer.next('barrier_request')).xid });
      expect((await peer.next('bundle_control')).ctrlType).to.equal(OFPBCT_COMMIT_REQUEST);
      // The peer answers nothing more: the echo verdict closes the session during the commit.
      const err = await outcome;
      expect(err).to.be.instanceOf(SessionClosedError);
      expect((err as Error).message).to.match(/no reply to echo_request: peer silent for \d+ ms/);
    } finally {
      done();
    }
  });

  it('closes the session on a malformed message, without throwing', async () => {
    const { conn, peer, done } = await pair();
    const hs = conn.handshake();
    await peer.actAsSwitch();
    await hs;
    // A FLOW_REMOVED whose match claims 200 bytes: decode fails with an offset.
    peer.raw('040b0040 00000005' + '00'.repeat(40) + '000100c8' + '00'.repeat(12));
    expect(await conn.closed).to.match(/^malformed message: .*at byte \d+/);
    done();
  });

  it('answers a well-framed message OVS refuses with OVS\'s error, fails the request it answers, and goes on', async () => {
    const { conn, peer, done } = await pair();
    const hs = conn.handshake();
    await peer.actAsSwitch();
    await hs;
    const barrier = conn.request({ type: 'barrier_request' }).then(() => 'answered', (e: Error) => e.message);
    const sent = await peer.next('barrier_request', 2000);
    // An experimenter message from a vendor OVS does not know, as the barrier's reply.
    peer.raw(`04040014${sent.xid.toString(16).padStart(8, '0')}05e30a78075bcd156e617a6f`);
    expect(await barrier).to.match(/reply refused: .*OFPBRC_BAD_VENDOR/);
    const err = await peer.next('error', 2000);
    expect([err.errType, err.code, err.xid]).to.deep.equal([1, 3, sent.xid]); // OFPET_BAD_REQUEST, OFPBRC_BAD_EXPERIMENTER
    // The session goes on: the next request is answered.
    const again = conn.request({ type: 'barrier_request' });
    peer.send({ type: 'barrier_reply', xid: (await peer.next('barrier_request', 2000)).xid });
    expect((await again)[0]!.type).to.equal('barrier_reply');
    expect(conn.isOpen).to.equal(true);
    done();
  });

  it('an error with a code the codec has no name for still fails the request it answers', async () => {
    const { conn, peer, done } = await pair();
    const hs = conn.handshake();
    await peer.actAsSwitch();
    await hs;
    const barrier = conn.request({ type: 'barrier_request' }).then(() => 'answered', (e: Error) => e.message);
    const sent = await peer.next('barrier_request', 2000);
    // OFPET_EXPERIMENTER, Nicira, exp code 45: no name in OVS 3.1 (37 is NXFMFC_INVALID_TLV_FIELD, now named).
    peer.raw(`04010018${sent.xid.toString(16).padStart(8, '0')}ffff002d000023200000000000000000`);
    expect(await barrier).to.equal('experimenter error 0x2320 code 45');
    expect(conn.isOpen).to.equal(true);
    done();
  });

  it('reassembles multipart replies marked REPLY_MORE', async () => {
    const { conn, peer, done } = await pair();
    const hs = conn.handshake();
    await peer.actAsSwitch();
    await hs;
    const dump = dumpFlows(conn);
    const req = await peer.next('flow_stats_request');
    const flow = (prio: number) => ({
      ...parseFlow(`table=1,priority=${prio},actions=drop`), durationSec: 1, durationNsec: 0, packetCount: 0n, byteCount: 0n,
    });
    peer.send({ type: 'flow_stats_reply', xid: req.xid, flags: 1, flows: [flow(1), flow(2)] });
    peer.send({ type: 'flow_stats_reply', xid: req.xid, flags: 0, flows: [flow(3)] });
    expect((await dump).map((f) => f.priority)).to.deep.equal([1, 2, 3]);
    done();
  });

  it('offers multipart parts as bytes first: taken parts end the request as decoded ones would, declined ones are decoded', async () => {
    const { conn, peer, done } = await pair();
    const hs = conn.handshake();
    await peer.actAsSwitch();
    await hs;
    const raw: string[] = [];
    const decoded: number[] = [];
    const dump = streamFlowReplies(conn, {}, (r) => decoded.push(...r.flows.map((f) => f.priority)), (bytes) => {
      raw.push(formatFlowStatsReplyBytes(bytes, false) ?? '');
      return raw.length !== 2; // the second part is declined: it must reach the decoded consumer
    });
    const req = await peer.next('flow_stats_request');
    const flow = (prio: number) => ({
      ...parseFlow(`table=1,priority=${prio},actions=drop`), durationSec: 1, durationNsec: 0, packetCount: 0n, byteCount: 0n,
    });
    peer.send({ type: 'flow_stats_reply', xid: req.xid, flags: 1, flows: [flow(1)] });
    peer.send({ type: 'flow_stats_reply', xid: req.xid, flags: 1, flows: [flow(2)] });
    peer.send({ type: 'flow_stats_reply', xid: req.xid, flags: 0, flows: [flow(3)] });
    await dump;
    expect(raw).to.deep.equal([' table=1, priority=1 actions=drop\n', ' table=1, priority=2 actions=drop\n', ' table=1, priority=3 actions=drop\n']);
    expect(decoded).to.deep.equal([2]);
    done();
  });

  it('closes the session on a malformed flow stats reply that the byte consumer declines', async () => {
    const { conn, peer, done } = await pair();
    const hs = conn.handshake();
    await peer.actAsSwitch();
    await hs;
    const dump = streamFlowReplies(conn, {}, () => undefined, (bytes) => formatFlowStatsReplyBytes(bytes, true) !== undefined);
    dump.catch(() => undefined);
    const req = await peer.next('flow_stats_request');
    // OFPMP_FLOW reply whose only entry claims 48 bytes (an entry is at least 56).
    peer.raw(`04130048${req.xid.toString(16).padStart(8, '0')}00010000 00000000 0030` + '00'.repeat(54));
    expect(await conn.closed).to.match(/^malformed message: flow stats entry length 48/);
    done();
  });

  it('respects back-pressure: a peer that stops reading holds sendMany, bounded in memory', async () => {
    const { conn, peer, done } = await pair();
    const hs = conn.handshake();
    await peer.actAsSwitch();
    await hs;
    peer.socket.pause();
    const fm = parseFlow('table=4,priority=1,tun_id=0x3e9 actions=mod_vlan_vid:1,resubmit(,10)');
    let finished = false;
    const sending = conn.sendMany(Array.from({ length: 200_000 }, () => fm))
      .then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(finished).to.equal(false);
    // Not everything was queued in memory: 200k × 112 bytes would be 22 MB.
    expect((conn as unknown as { socket: Socket }).socket.writableLength).to.be.below(4 << 20);
    peer.socket.resume();
    await sending;
    expect(finished).to.equal(true);
    done();
  });
});

describe('OpenFlow session with a real ovs-vswitchd', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-tun', 'br-int'] });
  });
  after(async () => {
    await ovs?.stop();
  });

  it('accepts ovs-vswitchd connecting to our listener (set-controller unix:) and learns its datapath id', async () => {
    // ovs-vswitchd only connects to unix: controllers inside its own run directory.
    const path = join(ovs.dir, `ctl-${Math.random().toString(36).slice(2)}.sock`);
    const l = await listen({ kind: 'unix', path });
    try {
      const first = firstValueFrom(l.sessions$);
      await ovs.vsctl('set-controller', 'br-int', `unix:${path}`, '--', 'set', 'Controller', 'br-int', 'max_backoff=1000');
      const conn = await first;
      const dpid = (await ovs.vsctl('get', 'Bridge', 'br-int', 'datapath_id')).trim().replace(/"/g, '');
      expect(conn.datapathId).to.equal(BigInt(`0x${dpid}`));
      await applyFlowMods(conn, [parseFlow('table=23,priority=0,actions=drop')]);
      expect(await ovs.dumpFlowsSorted('br-int')).to.deep.equal([' table=23, priority=0 actions=drop']);
    } finally {
      await l.close();
    }
  });

  it('a garbage-sending peer is dropped while a real switch session carries on', async () => {
    // ovs-vswitchd only connects to unix: controllers inside its own run directory.
    const path = join(ovs.dir, `ctl-${Math.random().toString(36).slice(2)}.sock`);
    const l = await listen({ kind: 'unix', path });
    try {
      const first = firstValueFrom(l.sessions$);
      await ovs.vsctl('set-controller', 'br-tun', `unix:${path}`, '--', 'set', 'Controller', 'br-tun', 'max_backoff=1000');
      const real = await first;
      const bad = connect(path);
      await new Promise((r) => bad.once('connect', r));
      bad.write(Buffer.from('04000008000000010e0e000400000002', 'hex')); // HELLO, then a header claiming 4 bytes
      bad.resume(); // consume our HELLO so the socket can see its end
      await new Promise((r) => bad.once('close', r));
      await real.barrier();
      expect(real.isOpen).to.equal(true);
    } finally {
      await l.close();
    }
  });

  it('a bundle waits for beforeCommit to commit, and is discarded (nothing applied) when it rejects', async () => {
    const conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-int') });
    try {
      const flows = (): ReturnType<typeof parseFlow>[] => [parseFlow('table=61,priority=5,dl_vlan=7 actions=drop'), parseFlow('table=61,priority=6,dl_vlan=8 actions=drop')];
      const table61 = async (): Promise<string[]> => (await ovs.dumpFlowsSorted('br-int')).filter((l) => l.includes('table=61'));
      // Held: the switch has the messages, and has checked them (the barrier), but applies nothing.
      let release = (): void => undefined;
      const held = conn.bundle(flows(), undefined, new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 300));
      expect(await table61()).to.deep.equal([]);
      release();
      await held;
      expect(await table61()).to.have.length(2);

      // Rejected: its error is the bundle's, nothing changed, and the session carries on.
      const refused = Promise.reject(new Error('set-up refused'));
      refused.catch(() => undefined);
      const err = await conn.bundle([parseFlow('table=61,priority=7,dl_vlan=9 actions=drop')], undefined, refused).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.equal('set-up refused');
      expect(await table61()).to.have.length(2);
      await conn.bundle([parseFlow('table=61,priority=8,dl_vlan=10 actions=drop')]);
      expect(await table61()).to.have.length(3);
    } finally {
      conn.close('test done');
    }
  });

  it('reassembles a real multi-part dump (3000 flows, more than one 64 KiB reply)', async () => {
    const conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-tun') });
    try {
      const mods = Array.from({ length: 3000 }, (_, i) => parseFlow(`table=5,priority=${i + 1},tun_id=${i} actions=output:${(i % 7) + 1}`));
      await applyFlowMods(conn, mods);
      const replies = await dumpFlowReplies(conn, { table: 5 });
      expect(replies.length).to.be.above(1);
      expect(replies.flatMap((r) => r.flows)).to.have.length(3000);
      expect(Number((await ovs.ofctl('dump-aggregate', ovs.mgmtTarget('br-tun'), 'table=5')).match(/flow_count=(\d+)/)![1])).to.equal(3000);
    } finally {
      conn.close('test done');
    }
  });
});
