// The openvswitch firewall's br-int in a real ovs-vswitchd, as ofproto/trace walks it: spoofed ARP
// and a VM's DHCP server are dropped, a rule's port is let in and committed, another port is not, a
// reply passes without a rule. The conntrack state of the second pass is given with --ct-next.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveHostState } from '../../lib/state/host-state.js';
import { readTopology } from '../../lib/topology/model.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { FIXTURES } from '../../testing/golden-cases.js';
import { OvsSandbox } from '../../testing/sandbox.js';

describe('openvswitch firewall in a real ovs-vswitchd (ofproto/trace)', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;
  // sg-small: ports 2 (10.0.0.5) and 3 (10.0.0.6) on VLAN 1; ingress TCP 22 from anywhere, ICMP from 10.0.0.0/24.
  const VM = 'dl_src=fa:16:3e:83:95:fa,dl_dst=fa:16:3e:52:7a:f2';
  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-int'] });
    await ovs.vsctl('add-port', 'br-int', 'patch-tun', '--', 'set', 'Interface', 'patch-tun', 'type=internal', 'ofport_request=1',
      '--', 'add-port', 'br-int', 'vm2', '--', 'set', 'Interface', 'vm2', 'type=internal', 'ofport_request=2',
      '--', 'add-port', 'br-int', 'vm3', '--', 'set', 'Interface', 'vm3', 'type=internal', 'ofport_request=3');
    const state = deriveHostState(readTopology(`${FIXTURES}topologies/neutron-sg-small.jsonl`), 'compute');
    const file = join(ovs.dir, 'br-int.flows');
    writeFileSync(file, renderText(state, 'br-int', pipelineOptions({ firewall: 'openvswitch' })).join('\n'));
    await ovs.ofctl('--bundle', 'add-flows', ovs.mgmtTarget('br-int'), file);
  });
  after(async () => {
    await ovs?.stop();
  });

  const trace = (flow: string, ...more: string[]): Promise<string> => ovs.appctl('ofproto/trace', 'br-int', flow, ...more);

  it("ARP from a VM's own address goes on to NORMAL; claiming another address is dropped", async () => {
    const own = await trace(`in_port=2,${VM},arp,arp_op=1,arp_spa=10.0.0.5,arp_tpa=10.0.0.3`);
    expect(own).to.match(/71\. arp,reg5=0x2,in_port=2,dl_src=fa:16:3e:83:95:fa,arp_spa=10\.0\.0\.5, priority 95/);
    expect(own).to.match(/94\. priority 1[^\n]*\n\s+NORMAL/);
    const spoofed = await trace(`in_port=2,${VM},arp,arp_op=1,arp_spa=10.0.0.6,arp_tpa=10.0.0.3`);
    expect(spoofed).to.match(/71\. reg5=0x2,in_port=2, priority 10[^\n]*\n\s+ct_clear\n\s+resubmit\(,93\)/);
    expect(spoofed).to.match(/Datapath actions: drop/);
  });

  it('a DHCP server on a VM is dropped', async () => {
    const out = await trace(`udp,in_port=2,${VM},nw_src=10.0.0.5,nw_dst=10.0.0.3,udp_src=67,udp_dst=68`);
    expect(out).to.match(/71\. udp,reg5=0x2,in_port=2,tp_src=67,tp_dst=68, priority 70/);
    expect(out).to.match(/Datapath actions: drop/);
  });

  const fromTunnel = 'in_port=1,dl_vlan=1,dl_src=fa:16:3e:52:7a:f2,dl_dst=fa:16:3e:83:95:fa,tcp,nw_src=10.0.0.3,nw_dst=10.0.0.5';

  it('a new TCP connection to port 22 is committed in the zone of its VLAN and output to the VM', async () => {
    const out = await trace(`${fromTunnel},tp_src=40000,tp_dst=22`, '--ct-next', 'trk,new');
    expect(out).to.match(/60\. dl_vlan=1,dl_dst=fa:16:3e:83:95:fa, priority 90[^\n]*\n\s+set_field:0x2->reg5\n\s+set_field:0x1->reg6\n\s+pop_vlan/);
    expect(out).to.match(/81\. ct_state=-trk,ip,reg5=0x2, priority 90[^\n]*\n\s+ct\(table=82,zone=NXM_NX_REG6\[0\.\.15\]\)/);
    expect(out).to.match(/82\. ct_state=\+new-est,tcp,reg5=0x2,tp_dst=22, priority 77[^\n]*\n\s+ct\(commit,zone=NXM_NX_REG6\[0\.\.15\]\)/);
    expect(out).to.match(/Datapath actions: .*ct\(commit,zone=1\),2/);
  });

  it('a new TCP connection to port 80 matches no rule and is dropped', async () => {
    const out = await trace(`${fromTunnel},tp_src=40000,tp_dst=80`, '--ct-next', 'trk,new');
    expect(out).to.match(/82\. ct_state=-est,reg5=0x2, priority 40[^\n]*\n\s+resubmit\(,93\)/);
    expect(out).not.to.match(/ct\(commit,zone=1\),2/);
    expect(out).to.match(/Datapath actions: [^\n]*ct\(zone=1\),recirc\(0x[0-9a-f]+\)\n[\s\S]*Datapath actions: drop/);
  });

  it('the reply of a connection passes without a rule for it', async () => {
    const out = await trace(`${fromTunnel},tp_src=80,tp_dst=40000`, '--ct-next', 'trk,est,rpl');
    expect(out).to.match(/82\. ct_state=\+est-rel\+rpl,ct_zone=1,ct_mark=0,reg5=0x2, priority 50/);
    expect(out).to.match(/Datapath actions: 2\n/);
  });
});
