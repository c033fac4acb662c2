// Every golden file is something OVS accepts and holds: loaded into a sandboxed ovs-vswitchd with
// ovs-ofctl, it dumps back unchanged. And the rendered pipelines take the paths Neutron's take, as
// ofproto/trace shows.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveHostState } from '../../lib/state/host-state.js';
import { readTopology } from '../../lib/topology/model.js';
import { FIXTURES, goldenCases, goldenPath } from '../../testing/golden-cases.js';
import { BRIDGES, byteOrder, renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../../testing/sandbox.js';

describe('golden flows in a real ovs-vswitchd', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;
  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-tun'] });
    // patch-int = 1 and two tunnels (ofports 2 and 3), as the rendered pipelines expect.
    await ovs.vsctl('add-port', 'br-tun', 'patch-int', '--', 'set', 'Interface', 'patch-int', 'type=patch', 'options:peer=patch-tun',
      'ofport_request=1',
      '--', 'add-port', 'br-tun', 'vxlan-0afa0002', '--', 'set', 'Interface', 'vxlan-0afa0002', 'type=vxlan',
      'options:remote_ip=10.250.0.2', 'options:local_ip=10.250.0.1', 'options:in_key=flow', 'options:out_key=flow', 'ofport_request=2',
      '--', 'add-port', 'br-tun', 'vxlan-0afa0003', '--', 'set', 'Interface', 'vxlan-0afa0003', 'type=vxlan',
      'options:remote_ip=10.250.0.3', 'options:local_ip=10.250.0.1', 'options:in_key=flow', 'options:out_key=flow', 'ofport_request=3');
  });
  after(async () => {
    await ovs?.stop();
  });

  async function load(flowsText: string): Promise<void> {
    const file = join(ovs.dir, 'load.flows');
    writeFileSync(file, flowsText);
    await ovs.ofctl('del-flows', ovs.mgmtTarget('br-tun'));
    await ovs.ofctl('--bundle', 'add-flows', ovs.mgmtTarget('br-tun'), file);
  }

  it('each golden file loads with ovs-ofctl and dumps back unchanged', async () => {
    let files = 0;
    for (const c of goldenCases()) {
      for (const host of c.hosts) {
        for (const bridge of BRIDGES) {
          const text = readFileSync(goldenPath(c, host, bridge), 'utf8');
          await load(text);
          const back = (await ovs.dumpFlowsSorted('br-tun')).sort(byteOrder);
          expect(back, `${c.name} ${host} ${bridge}`).to.deep.equal(text.split('\n').filter((l) => l).sort(byteOrder));
          files++;
        }
      }
    }
    expect(files).to.be.at.least(20);
  });

  const h1 = (): ReturnType<typeof deriveHostState> => deriveHostState(readTopology(`${FIXTURES}topologies/three-hosts.jsonl`), 'h1');

  it('flood & learn: a broadcast from patch-int on VLAN 1 leaves every tunnel of the network, tun_id set, untagged', async () => {
    await load(renderText(h1(), 'br-tun', pipelineOptions()).join('\n'));
    const out = await ovs.appctl('ofproto/trace', 'br-tun', 'in_port=1,dl_vlan=1,dl_src=fa:16:3e:01:00:01,dl_dst=ff:ff:ff:ff:ff:ff');
    expect(out).to.match(/22\. dl_vlan=1, priority 1, cookie 0x[0-9a-f]+\s+pop_vlan\s+set_field:0x64->tun_id\s+output:2\s+output:3/);
    expect(out).to.match(/Final flow: tun_id=0x64,in_port=1,vlan_tci=0x0000,/);
  });

  it('a frame from a tunnel with a known VNI reaches patch-int with the local VLAN, and learns the way back', async () => {
    const state = deriveHostState(readTopology(`${FIXTURES}topologies/seed-003.jsonl`), 'compute');
    await load(renderText(state, 'br-tun', pipelineOptions({ profile: 'classic' })).join('\n'));
    const out = await ovs.appctl('ofproto/trace', 'br-tun',
      'in_port=2,tun_id=0x3e9,dl_src=fa:16:3e:83:95:fa,dl_dst=fa:16:3e:00:00:01', '-generate');
    expect(out).to.match(/ 4\. tun_id=0x3e9, priority 1\s+push_vlan:0x8100\s+set_field:4097->vlan_vid\s+resubmit\(,10\)/);
    expect(out).to.match(/10\. priority 1\s+learn\([^\n]*\)\s+(->[^\n]*\s+)?output:1/);
    expect(out).to.match(/Final flow: tun_id=0x3e9,in_port=2,dl_vlan=1,/);
    // The learned entry is the one in the seed dump.
    const seedLearned = readFileSync(`${FIXTURES}seed-003/compute-br-tun.ovs31-of13-nostats.txt`, 'utf8')
      .split('\n').find((l) => l.startsWith(' table=20, hard_timeout=300'));
    expect((await ovs.dumpFlowsSorted('br-tun')).filter((l) => l.startsWith(' table=20, hard_timeout'))).to.deep.equal([seedLearned]);
  });

  it('l2pop + ARP responder: an ARP request for a known remote IP is answered in table 21, back out of its port', async () => {
    await load(renderText(h1(), 'br-tun', pipelineOptions({ l2pop: true, arpResponder: true })).join('\n'));
    // h1 asks who has 10.1.0.12 (h2's port in red, VLAN 1).
    const out = await ovs.appctl('ofproto/trace', 'br-tun',
      'in_port=1,dl_vlan=1,dl_src=fa:16:3e:01:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_spa=10.1.0.11,arp_tpa=10.1.0.12,arp_sha=fa:16:3e:01:00:01');
    expect(out).to.match(/ 2\. arp,dl_dst=ff:ff:ff:ff:ff:ff, priority 1, cookie 0x[0-9a-f]+\s+goto_table:21/);
    expect(out).to.match(/21\. arp,dl_vlan=1,arp_tpa=10\.1\.0\.12, priority 1, cookie 0x[0-9a-f]+\s+set_field:2->arp_op/);
    expect(out).to.match(/set_field:fa:16:3e:02:00:01->eth_src\s+IN_PORT/);
    expect(out).to.not.match(/22\. /);
    expect(out).to.match(/Final flow: arp,in_port=1,dl_vlan=1,dl_vlan_pcp=0,vlan_tci1=0x0000,dl_src=fa:16:3e:02:00:01,dl_dst=fa:16:3e:01:00:01,arp_spa=10\.1\.0\.12,arp_tpa=10\.1\.0\.11,arp_op=2,arp_sha=fa:16:3e:02:00:01,arp_tha=fa:16:3e:01:00:01/);
  });

  it('l2pop: unicast to a known MAC leaves on its host\'s tunnel only, without flooding', async () => {
    await load(renderText(h1(), 'br-tun', pipelineOptions({ l2pop: true, arpResponder: true })).join('\n'));
    // h3's port in red sits behind tunnel ofport 3.
    const out = await ovs.appctl('ofproto/trace', 'br-tun', 'in_port=1,dl_vlan=1,dl_src=fa:16:3e:01:00:01,dl_dst=fa:16:3e:03:00:01');
    expect(out).to.match(/20\. dl_vlan=1,dl_dst=fa:16:3e:03:00:01, priority 2, cookie 0x[0-9a-f]+\s+pop_vlan\s+set_field:0x64->tun_id\s+output:3/);
    expect(out).to.not.match(/22\. /);
    expect(out).to.not.match(/output:2/);
  });

  it('a frame with an unknown VNI is dropped in table 4', async () => {
    await load(renderText(h1(), 'br-tun', pipelineOptions()).join('\n'));
    const out = await ovs.appctl('ofproto/trace', 'br-tun', 'in_port=2,tun_id=0x999,dl_src=fa:16:3e:02:00:01,dl_dst=fa:16:3e:01:00:01');
    expect(out).to.match(/ 4\. priority 0, cookie 0x[0-9a-f]+\s+drop/);
    expect(out).to.match(/Datapath actions: drop/);
  });
});
