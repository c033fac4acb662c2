// Real packets across a real VXLAN tunnel between two hosts in network namespaces, programmed by the
// controller (see bed.ts): flood & learn, l2pop + ARP responder, removal, and flows replaced under a
// running ping without loss; the bed's own helpers for stateful tests (TCP outcomes, open connections)
// and an underlay that carries the tunnel's frames and nothing else.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipelineOptions } from '../../pipelines/options.js';
import { runCli } from '../../testing/run-cli.js';
import { eventually } from '../../testing/wait.js';
import { Bed, captureUnderlay, Host, listenTcp, ping, pings, pingsOverVxlanOnly, sh, startBed, tcpConnect, tcpOpen } from './bed.js';

const learned = async (h: Host): Promise<string[]> =>
  (await h.box!.dumpFlowsSorted('br-tun')).filter((l) => l.startsWith(' cookie=') && l.includes('hard_timeout=300, priority=1,vlan_tci='));

describe('two hosts, real VXLAN, flood & learn', function () {
  this.timeout(120_000);
  let bed: Bed;
  before(async () => {
    bed = await startBed(pipelineOptions(), 'fl');
  });
  after(async () => {
    await bed?.stop();
  });

  it('VM A pings VM B; both hosts learn the way back in table 20', async () => {
    const [a, b] = bed.hosts as [Host, Host];
    await eventually(() => ping(a, b), 'the first ping (tunnel and ARP warm-up)', 15_000, undefined, 200);
    expect(await ping(a, b, 3)).to.equal(true);
    expect((await learned(a)).some((l) => l.includes(`dl_dst=${b.vmMac}`))).to.equal(true);
    expect((await learned(b)).some((l) => l.includes(`dl_dst=${a.vmMac}`))).to.equal(true);
  });

  it('the underlay carries VXLAN frames only: neither host answers the tunnel traffic itself', async () => {
    const [a, b] = bed.hosts as [Host, Host];
    await pingsOverVxlanOnly(a, b);
  });

  it('TCP helpers: connected, refused (nothing listens), timeout (dropped); data both ways; a cut connection is seen', async () => {
    const [a, b] = bed.hosts as [Host, Host];
    const capture = await captureUnderlay(b);
    const server = await listenTcp(b, 22);
    expect(await tcpConnect(a, b, 22)).to.equal('connected');
    expect(await tcpConnect(a, b, 80)).to.equal('refused');
    const open = await tcpOpen(a, b, 22);
    expect(open.outcome).to.equal('connected');
    expect(await open.exchange()).to.equal('ok');
    // B's replies to A vanish (a blackhole route in B's VM): a new connection times out, the open one stops passing data.
    await sh('ip', 'netns', 'exec', b.vmNs, 'ip', 'route', 'add', 'blackhole', `${a.vmIp}/32`);
    expect(await tcpConnect(a, b, 22, 500)).to.equal('timeout');
    expect(await open.exchange()).to.equal('timeout');
    await sh('ip', 'netns', 'exec', b.vmNs, 'ip', 'route', 'del', 'blackhole', `${a.vmIp}/32`);
    expect(await open.exchange()).to.equal('ok');
    // The server gone, the open connection is closed by its peer.
    await server.stop();
    expect(await open.exchange()).to.equal('closed');
    await open.close();
    const frames = await capture.stop();
    expect(frames.vxlan).to.be.at.least(10);
    expect(frames.other, frames.other.join('\n')).to.deep.equal([]);
  });
});

describe('the two-host bed', function () {
  this.timeout(60_000);
  it('refuses a bad topology line with its reason and leaves nothing behind', async () => {
    const P = `bx${process.pid % 1000}`;
    const ours = async (): Promise<string[]> => (await sh('ip', 'netns', 'list')).split('\n').filter((l) => l.startsWith(P));
    const bad = '{"type":"network","id":"other"}';
    const err = await startBed(pipelineOptions(), 'bx', { topology: [bad] }).then(async (b) => {
      await b.stop();
      return 'started';
    }, (e: unknown) => e);
    expect(String(err)).to.contain('bed topology line rejected').and.to.contain(bad);
    expect(await ours()).to.deep.equal([]);
  });
});

describe('two hosts, real VXLAN, l2pop + ARP responder', function () {
  this.timeout(120_000);
  let bed: Bed;
  before(async () => {
    bed = await startBed(pipelineOptions({ l2pop: true, arpResponder: true }), 'lp');
  });
  after(async () => {
    await bed?.stop();
  });

  it('VM A pings VM B, and no ARP request is flooded to the tunnel (answered in table 21)', async () => {
    const [a, b] = bed.hosts as [Host, Host];
    await eventually(() => ping(a, b), 'the first ping (tunnel warm-up)', 15_000, undefined, 200);
    expect(await ping(a, b, 5)).to.equal(true);
    const t22 = (await a.box!.ofctl('dump-flows', a.box!.mgmtTarget('br-tun'), 'table=22,dl_vlan=1')).trim();
    expect(t22).to.match(/n_packets=0,/);
    const t21 = (await a.box!.ofctl('dump-flows', a.box!.mgmtTarget('br-tun'), `table=21,arp,arp_tpa=${b.vmIp}`)).trim();
    expect(t21).to.match(/n_packets=[1-9]/);
  });

  it("replacing host A's flows while a ping runs loses no packets", async () => {
    const [a, b] = bed.hosts as [Host, Host];
    // Every flow of br-tun rewritten (a new cookie) by replace-flows in one atomic bundle, three
    // times, under a 100 pps ping.
    const current = await a.box!.dumpFlowsSorted('br-tun');
    // Not the flows the learn action made (their own hard_timeout; learn() mentions one too).
    const ours = current.filter((l) => !/ table=20, hard_timeout=\d+, /.test(l));
    const original = join(a.box!.dir, 'original.flows');
    writeFileSync(original, ours.join('\n'));
    // The last replacement restores the controller's own flows, so the next test starts from them.
    const files = ['0x1111', '0x2222'].map((c, i) => {
      const f = join(a.box!.dir, `replace${i}.flows`);
      writeFileSync(f, ours.map((l) => l.replace(/cookie=0x[0-9a-f]+/g, `cookie=${c}`)).join('\n'));
      return f;
    }).concat(original);
    const pinging = sh('ip', 'netns', 'exec', a.vmNs, 'ping', '-c', '200', '-i', '0.01', '-W', '1', b.vmIp).catch((e: { stdout?: string }) => e.stdout ?? '');
    for (const f of files) {
      await new Promise((r) => setTimeout(r, 300));
      const r = await runCli(['replace-flows', `unix:${a.box!.mgmt('br-tun')}`, f]);
      expect(r.code, r.stderr).to.equal(0);
    }
    const out = await pinging;
    expect(out, out).to.match(/200 packets transmitted, 200 received, 0% packet loss/);
  });

  it("removing VM B's port stops the traffic and removes its flows", async () => {
    const [a, b] = bed.hosts as [Host, Host];
    bed.store.applyLine(`{"type":"remove","kind":"port","id":"${b.portId}"}`);
    // Its l2pop and ARP-responder flows go (a learned entry, which OVS expires itself, may stay).
    await eventually(async () => !(await a.box!.dumpFlowsSorted('br-tun')).some((l) => l.includes(b.vmMac) && !/ table=20, hard_timeout=\d+, /.test(l)),
      'its flows to go');
    await eventually(async () => (await b.box!.vsctl('get', 'Port', b.tap, 'tag')).trim() === '4095', 'its tap to be parked on the dead VLAN');
    await sh('ip', 'netns', 'exec', a.vmNs, 'ip', 'neigh', 'flush', 'all');
    expect(await pings(a, b, 2)).to.equal(0);
  });
});
