// The simulated switch against our own controller side (listener, OfConnection, flow-ops) and
// against scripted raw peers: handshake and requests, atomic bundles, split dumps, reconnects,
// garbage, arbitrary chunking and the inactivity probe.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { encodeMessage, FlowModMessage, OfMessage, OFPFC_DELETE, OFPTT_ALL } from '../../codecs/openflow/messages.js';
import { readFlowFile } from '../../lib/flowset/flow-file.js';
import { startSimSwitches, stopSimSwitches } from '../../testing/sim/fleet.js';
import { SimEvent, SimSwitch, SimSwitchOptions } from '../../testing/sim/sim-switch.js';
import { OfConnection } from '../../lib/switch/connection.js';
import { BundleError } from '../../lib/switch/errors.js';
import { applyFlowMods, dumpFlowReplies, dumpFlows } from '../../lib/switch/flow-ops.js';
import { listen, OfListener } from '../../lib/switch/listener.js';
import { eventually, freePort } from '../../testing/wait.js';
import { FakePeer } from '../../testing/fake-peer.js';

const SEED = 'fixtures/seed-003/compute-br-tun.add-flows.txt';
const SEED_OVS_DUMP = 'fixtures/seed-003/compute-br-tun.ovs31-of13-nostats.txt';
const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);

/** Our own controller side: a listener whose sessions are collected in order. */
class Controller {
  readonly sessions: OfConnection[] = [];

  private constructor(readonly listener: OfListener, readonly target: string) {
    listener.sessions$.subscribe((c) => this.sessions.push(c));
  }

  static async start(port?: number): Promise<Controller> {
    const p = port ?? (await freePort());
    const l = await listen({ kind: 'tcp', host: '127.0.0.1', port: p }, { echoIntervalMs: 60_000 });
    return new Controller(l, `tcp:127.0.0.1:${p}`);
  }

  async session(n: number): Promise<OfConnection> {
    await eventually(() => this.sessions.length >= n, `controller session ${n}`, 10_000, undefined, 5);
    return this.sessions[n - 1]!;
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}

/** A scripted controller speaking raw bytes; each switch connection becomes a FakePeer. */
class RawController {
  readonly peers: FakePeer[] = [];

  private constructor(readonly server: Server, readonly target: string) {}

  static async start(): Promise<RawController> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('no port');
    const rc = new RawController(server, `tcp:127.0.0.1:${addr.port}`);
    server.on('connection', (s) => rc.peers.push(new FakePeer(s)));
    return rc;
  }

  async peer(n: number): Promise<FakePeer> {
    await eventually(() => this.peers.length >= n, `switch connection ${n}`, 10_000, undefined, 5);
    return this.peers[n - 1]!;
  }

  close(): Promise<void> {
    for (const p of this.peers) p.socket.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const closedSocket = (p: FakePeer): Promise<void> =>
  p.socket.destroyed ? Promise.resolve() : new Promise((r) => p.socket.once('close', () => r()));

function simSwitch(controller: string, extra: Partial<SimSwitchOptions> = {}): SimSwitch {
  const sw = new SimSwitch({
    datapathId: 0xa1b2c3n, controller, name: 'br-tun', initialBackoffMs: 20, probeIntervalMs: 0,
    ports: [{ name: 'patch-int', ofport: 1 }, { name: 'vxlan-0a000002', ofport: 2 }], ...extra,
  });
  sw.start();
  return sw;
}

const flowMod = (text: string): FlowModMessage => parseFlow(text);

describe('simulated switch under our controller side', function () {
  this.timeout(30_000);
  let ctl: Controller;
  let sw: SimSwitch;
  beforeEach(async () => {
    ctl = await Controller.start();
    sw = simSwitch(ctl.target);
  });
  afterEach(async () => {
    await sw.stop();
    await ctl.close();
  });

  it('connects as ovs-vswitchd does and answers features, ports, config, role, description and echo', async () => {
    const c = await ctl.session(1);
    expect(c.datapathId).to.equal(0xa1b2c3n);
    expect(sw.connected).to.equal(true);
    const [ports] = await c.request({ type: 'port_desc_request', flags: 0 });
    expect(ports?.type === 'port_desc_reply' && ports.ports.map((p) => [p.name, p.portNo])).to.deep.equal([
      ['patch-int', 1], ['vxlan-0a000002', 2], ['br-tun', 0xfffe],
    ]);
    const getConfig = async (): Promise<OfMessage | undefined> => (await c.request({ type: 'get_config_request' }))[0];
    expect(await getConfig()).to.include({ type: 'get_config_reply', flags: 0, missSendLen: 128 });
    await c.send({ type: 'set_config', flags: 0, missSendLen: 1234 });
    expect(await getConfig()).to.include({ missSendLen: 1234 });
    const [role] = await c.request({ type: 'role_request', role: 0, generationId: 0n });
    expect(role).to.include({ type: 'role_reply', role: 1, generationId: 0xffffffffffffffffn });
    const [desc] = await c.request({ type: 'desc_request', flags: 0 });
    expect(desc?.type === 'desc_reply' && desc.desc.hw).to.equal('Open vSwitch');
    const [echo] = await c.request({ type: 'echo_request', data: Buffer.from('ping') });
    expect(echo?.type === 'echo_reply' && echo.data.toString()).to.equal('ping');
  });

  it('refuses what it does not know as OVS does: unknown type, experimenter, multipart', async () => {
    const c = await ctl.session(1);
    const refusal = (m: Parameters<OfConnection['request']>[0]): Promise<string> =>
      c.request(m).then(() => 'answered', (e: Error) => e.message);
    expect(await refusal({ type: 'unknown', ofType: 99, version: 4, body: Buffer.alloc(8) })).to.equal('OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE');
    expect(await refusal({ type: 'experimenter', experimenter: 0x1234, expType: 5, data: Buffer.alloc(4) }))
      .to.equal('OFPET_BAD_REQUEST/OFPBRC_BAD_EXPERIMENTER');
    expect(await refusal({ type: 'multipart_request', mpType: 200, flags: 0, body: Buffer.alloc(0) })).to.equal('OFPET_BAD_REQUEST/OFPBRC_BAD_MULTIPART');
    expect(await refusal({ type: 'features_reply', datapathId: 1n, nBuffers: 0, nTables: 1, auxiliaryId: 0, capabilities: 0 }))
      .to.equal('OFPET_BAD_REQUEST/OFPBRC_BAD_TYPE');
    expect(c.isOpen).to.equal(true);
  });

  it("applies the seed pipeline in one bundle and holds what OVS 3.1 prints for it", async () => {
    const c = await ctl.session(1);
    const events: SimEvent[] = [];
    sw.events$.subscribe((e) => events.push(e));
    await applyFlowMods(c, readFlowFile(SEED).map((f) => f.flow));
    expect(sw.dumpText().sort()).to.deep.equal(lines(SEED_OVS_DUMP).sort());
    expect((await dumpFlows(c)).length).to.equal(lines(SEED_OVS_DUMP).length);
    expect(sw.counters).to.include({ bundlesCommitted: 1, flowMods: 13, bundlesFailed: 0 });
    const bundles = events.filter((e) => e.type === 'bundle');
    expect(bundles).to.have.length(1);
    expect(bundles[0]).to.include({ ok: true, flowMods: 13 });
  });

  it('applies a bundle all or nothing: one refused flow and nothing changes, its position named', async () => {
    const c = await ctl.session(1);
    await applyFlowMods(c, readFlowFile(SEED).map((f) => f.flow));
    const before = sw.dumpText().sort();
    const atCommit = [
      flowMod('table=30,priority=1 actions=drop'),
      parseFlow('table=4', { mode: 'match', command: OFPFC_DELETE }),
      flowMod('table=31,priority=1 actions=group:77'),
      flowMod('table=32,priority=1 actions=drop'),
    ];
    const refusedAtCommit = await applyFlowMods(c, atCommit).then(() => undefined, (e: unknown) => e);
    expect(refusedAtCommit).to.be.instanceOf(BundleError);
    expect((refusedAtCommit as BundleError).failures).to.deep.equal([{ index: 2, reason: 'OFPET_BAD_ACTION/OFPBAC_BAD_OUT_GROUP' }]);
    expect(sw.dumpText().sort()).to.deep.equal(before);
    // Refused when added (as OVS checks a message when it joins the bundle).
    const atAdd = [flowMod('table=30,priority=1 actions=drop'), flowMod('table=254,priority=1 actions=drop')];
    const refusedAtAdd = await applyFlowMods(c, atAdd).then(() => undefined, (e: unknown) => e);
    expect((refusedAtAdd as BundleError).failures).to.deep.equal([{ index: 1, reason: 'OFPET_BAD_REQUEST/OFPBRC_EPERM' }]);
    expect(sw.dumpText().sort()).to.deep.equal(before);
    expect(sw.counters).to.include({ bundlesCommitted: 1, bundlesFailed: 1 });
    expect(c.isOpen).to.equal(true);
  });

  it('answers a barrier after every earlier message, each refused flow-mod reported with its xid', async () => {
    const c = await ctl.session(1);
    const barriers = firstValueFrom(sw.events$.pipe(filter((e) => e.type === 'barrier')));
    const failures = await c.sendConfirmed([
      flowMod('table=1,priority=1,send_flow_rem actions=drop'),
      flowMod('table=5,priority=1 actions=goto_table:2'),
      flowMod('table=2,priority=1 actions=drop'),
      { ...flowMod('table=2,priority=2 actions=drop'), table: OFPTT_ALL },
    ]);
    expect(failures).to.deep.equal([
      { index: 1, reason: 'OFPET_BAD_INSTRUCTION/OFPBIC_BAD_TABLE_ID' },
      { index: 3, reason: 'OFPET_FLOW_MOD_FAILED/OFPFMFC_BAD_TABLE_ID' },
    ]);
    expect(await barriers).to.include({ type: 'barrier' });
    expect(sw.counters).to.include({ flowMods: 2, flowModErrors: 2 });
    // A deleted send_flow_rem flow is reported to the controller (OFPRR_DELETE).
    const removed = firstValueFrom(c.messages$.pipe(filter((m) => m.type === 'flow_removed')));
    await c.sendConfirmed([parseFlow('table=1', { mode: 'match', command: OFPFC_DELETE })]);
    expect(await removed).to.include({ type: 'flow_removed', table: 1, priority: 1, reason: 2 });
  });

  it('splits a large dump into replies of at most 64 KiB, all but the last marked REPLY_MORE', async () => {
    const c = await ctl.session(1);
    await applyFlowMods(c, Array.from({ length: 3000 }, (_, i) => flowMod(`table=5,priority=${i + 1},tun_id=${i} actions=output:${(i % 7) + 1}`)));
    await applyFlowMods(c, [flowMod('table=6,priority=1,cookie=0x42 actions=drop')]);
    const replies = await dumpFlowReplies(c, { table: 5 });
    expect(replies.length).to.be.above(1);
    expect(replies.map((r) => r.flags)).to.deep.equal([...replies.slice(1).map(() => 1), 0]);
    for (const r of replies) expect(encodeMessage(r).length).to.be.at.most(0xffff);
    for (const r of replies.slice(0, -1)) expect(encodeMessage(r).length).to.be.above(0xffff - 200);
    expect(replies.flatMap((r) => r.flows).map((f) => f.priority).sort((a, b) => a - b))
      .to.deep.equal(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect((await dumpFlows(c, { cookie: 0x42n, cookieMask: 0xffn })).map((f) => f.table)).to.deep.equal([6]);
  });

  it('keeps its flows and reconnects when the controller closes the session', async () => {
    const c1 = await ctl.session(1);
    await applyFlowMods(c1, readFlowFile(SEED).map((f) => f.flow));
    const disconnected = firstValueFrom(sw.events$.pipe(filter((e) => e.type === 'disconnected')));
    c1.close('test: controller drops the switch');
    await disconnected;
    const c2 = await ctl.session(2);
    expect(c2.datapathId).to.equal(0xa1b2c3n);
    expect((await dumpFlows(c2)).length).to.equal(13);
    expect(sw.counters.sessions).to.equal(2);
  });

  it('stop() ends the session for good', async () => {
    const c = await ctl.session(1);
    await sw.stop();
    expect(await c.closed).to.match(/closed/);
    expect(sw.state).to.equal('stopped');
    await new Promise((r) => setTimeout(r, 100));
    expect(ctl.sessions).to.have.length(1);
  });
});

describe('simulated switch: connecting and reconnecting', function () {
  this.timeout(30_000);

  it('keeps trying with backoff until a controller listens, then connects', async () => {
    const port = await freePort();
    const sw = simSwitch(`tcp:127.0.0.1:${port}`, { initialBackoffMs: 20, maxBackoffMs: 80 });
    let ctl: Controller | undefined;
    try {
      await eventually(() => sw.state === 'backoff', 'a refused connection and a backoff');
      ctl = await Controller.start(port);
      const c = await ctl.session(1);
      expect(c.datapathId).to.equal(0xa1b2c3n);
    } finally {
      await sw.stop();
      await ctl?.close();
    }
  });

  it('connects to a unix: controller target too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-sim-'));
    const path = join(dir, 'controller.sock');
    const l = await listen({ kind: 'unix', path });
    const sw = simSwitch(`unix:${path}`);
    try {
      expect((await firstValueFrom(l.sessions$)).datapathId).to.equal(0xa1b2c3n);
    } finally {
      await sw.stop();
      await l.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('startSimSwitches: many switches, each its own datapath id, all connected', async () => {
    const ctl = await Controller.start();
    const sws = startSimSwitches(20, ctl.target, 0x1000n, { initialBackoffMs: 20, probeIntervalMs: 0 });
    try {
      await ctl.session(20);
      expect(ctl.sessions.map((c) => c.datapathId!).sort((a, b) => (a < b ? -1 : 1)))
        .to.deep.equal(Array.from({ length: 20 }, (_, i) => 0x1000n + BigInt(i)));
      expect(sws.every((s) => s.connected)).to.equal(true);
    } finally {
      await stopSimSwitches(sws);
      await ctl.close();
    }
  });
});

describe('simulated switch under a scripted controller', function () {
  this.timeout(30_000);
  let raw: RawController;
  const switches: SimSwitch[] = [];
  const start = (extra: Partial<SimSwitchOptions> = {}): SimSwitch => {
    const sw = simSwitch(raw.target, extra);
    switches.push(sw);
    return sw;
  };
  beforeEach(async () => {
    raw = await RawController.start();
  });
  afterEach(async () => {
    await stopSimSwitches(switches.splice(0));
    await raw.close();
  });

  it('sends HELLO with the OpenFlow 1.3 bitmap and handles a session fed one byte at a time', async () => {
    const sw = start();
    const peer = await raw.peer(1);
    expect((await peer.next('hello')).versions).to.deep.equal([4]);
    const bytes = Buffer.concat([
      encodeMessage({ type: 'hello', xid: 1, versions: [4] }),
      ...['table=1,priority=1 actions=drop', 'table=2,priority=1 actions=drop', 'table=3,priority=1 actions=drop']
        .map((t, i) => encodeMessage({ ...flowMod(t), xid: 10 + i })),
      encodeMessage({ type: 'barrier_request', xid: 99 }),
    ]);
    for (let i = 0; i < bytes.length; i++) {
      peer.socket.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
    expect((await peer.next('barrier_reply')).xid).to.equal(99);
    expect(sw.flows.size).to.equal(3);
  });

  it('garbage from the controller closes that session only; the switch reconnects and others carry on', async () => {
    const ctl = await Controller.start();
    const bystander = new SimSwitch({ datapathId: 0x77n, controller: ctl.target, initialBackoffMs: 20, probeIntervalMs: 0 });
    bystander.start();
    try {
      const sw = start();
      const peer = await raw.peer(1);
      peer.send({ type: 'hello', xid: 1, versions: [4] });
      await eventually(() => sw.connected, 'HELLO exchanged');
      peer.raw('04000004 00000002'); // a header claiming 4 bytes: no way to find the next message
      await closedSocket(peer);
      const again = await raw.peer(2);
      again.send({ type: 'hello', xid: 1, versions: [4] });
      again.send({ type: 'barrier_request', xid: 5 });
      expect((await again.next('barrier_reply')).xid).to.equal(5);
      const c = await ctl.session(1);
      await c.barrier();
      expect(c.isOpen).to.equal(true);
      expect(bystander.counters.sessions).to.equal(1);
    } finally {
      await bystander.stop();
      await ctl.close();
    }
  });

  it('answers an undecodable message with an error and keeps the session', async () => {
    start();
    const peer = await raw.peer(1);
    peer.send({ type: 'hello', xid: 1, versions: [4] });
    const fm = encodeMessage({ ...flowMod('table=1,priority=1,in_port=1 actions=drop'), xid: 7 });
    const badMatch = Buffer.from(fm);
    badMatch.writeUInt16BE(0x00c8, 50); // the OXM match claims 200 bytes
    peer.socket.write(badMatch);
    const e1 = await peer.next('error');
    expect([e1.xid, e1.errType, e1.code, e1.data.equals(badMatch)]).to.deep.equal([7, 1, 6, true]);
    const badCommand = Buffer.from(fm);
    badCommand[25] = 9;
    badCommand.writeUInt32BE(8, 4);
    peer.socket.write(badCommand);
    const e2 = await peer.next('error');
    expect([e2.xid, e2.errType, e2.code]).to.deep.equal([8, 5, 6]); // OFPFMFC_BAD_COMMAND
    peer.send({ type: 'barrier_request', xid: 9 });
    expect((await peer.next('barrier_reply')).xid).to.equal(9);
  });

  it('drops a session that sends another OpenFlow version after negotiating 1.3, or none it shares', async () => {
    start();
    const peer = await raw.peer(1);
    peer.send({ type: 'hello', xid: 1, versions: [4] });
    peer.raw('01120008 00000002'); // an OpenFlow 1.0 BARRIER_REQUEST
    await closedSocket(peer);
    const next = await raw.peer(2);
    next.raw('01000008 00000001'); // a plain OpenFlow 1.0 HELLO
    const e = await next.next('error');
    expect([e.errType, e.code]).to.deep.equal([0, 0]); // OFPET_HELLO_FAILED / INCOMPATIBLE
    await closedSocket(next);
  });

  it('probes an idle controller with an echo request and drops it when unanswered', async () => {
    const sw = start({ probeIntervalMs: 100 });
    const peer = await raw.peer(1);
    peer.send({ type: 'hello', xid: 1, versions: [4] });
    const probe = await peer.next('echo_request');
    peer.send({ type: 'echo_reply', xid: probe.xid, data: probe.data });
    // The answer kept the session: it probes again, and this time the probe goes unanswered.
    await peer.next('echo_request');
    expect(peer.socket.destroyed).to.equal(false);
    await closedSocket(peer);
    const reason = await firstValueFrom(sw.events$.pipe(filter((e) => e.type === 'disconnected')));
    expect(reason).to.deep.include({ reason: 'no response to inactivity probe after 0.1 seconds' });
    await raw.peer(2);
  });
});
