// An allowed address pair may be a CIDR (issue 16): br-int's noop anti-spoofing then matches the
// prefix, as Neutron's br_int.py does (arp_spa=10.1.0.128/25, a masked nd_target for IPv6). A real
// ovs-vswitchd takes the flows, holds them as written, and lets ARP and neighbour advertisements in
// the prefix pass while others are dropped (ofproto/trace).
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { byteOrder, renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { deriveHostState } from '../../lib/state/host-state.js';
import { parseTopology } from '../../lib/topology/model.js';
import { OvsSandbox } from '../../testing/sandbox.js';

describe('address-pair CIDRs in a real ovs-vswitchd', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-int'], dummy: true });
    await ovs.vsctl('add-port', 'br-int', 'vm', '--', 'set', 'Interface', 'vm', 'type=internal', 'ofport_request=2');
  });
  after(async () => {
    await ovs?.stop();
  });

  const MAC = 'fa:16:3e:01:00:01';
  const flows = renderText(deriveHostState(parseTopology([
    '{"type":"host","name":"h1","tunnelIp":"10.250.0.1"}',
    '{"type":"network","id":"red","vni":100}',
    `{"type":"port","id":"vm","network":"red","host":"h1","mac":"${MAC}","fixedIps":["10.1.0.11"],`
      + '"allowedAddressPairs":[{"ip":"10.1.0.200/25"},{"ip":"fd00:1::5/64"}],"ofport":2}',
  ].join('\n')), 'h1'), 'br-int', pipelineOptions());

  it('renders the normalised prefixes; OVS loads the flows and dumps them back unchanged', async () => {
    expect(flows).to.include.members([
      ' cookie=0x50825fc927938e66, table=24, priority=2,arp,in_port=2,arp_spa=10.1.0.128/25 actions=goto_table:25',
      ' cookie=0x50825fc927938e66, table=24, priority=2,icmp6,in_port=2,icmp_type=136,nd_target=fd00:1::/64 actions=goto_table:59',
    ]);
    const file = join(ovs.dir, 'br-int.flows');
    writeFileSync(file, flows.join('\n'));
    await ovs.ofctl('--bundle', 'add-flows', ovs.mgmtTarget('br-int'), file);
    expect((await ovs.dumpFlowsSorted('br-int')).sort(byteOrder)).to.deep.equal([...flows].sort(byteOrder));
  });

  it('ARP from an address in the pair\'s prefix passes to table 25; one outside it is dropped', async () => {
    const arp = (spa: string): Promise<string> => ovs.appctl('ofproto/trace', 'br-int', `in_port=2,arp,dl_src=${MAC},arp_spa=${spa},arp_op=2`);
    const inside = await arp('10.1.0.250');
    expect(inside).to.match(/24\. arp,in_port=2,arp_spa=10\.1\.0\.128\/25, priority 2/);
    expect(inside).to.match(/25\. in_port=2,dl_src=fa:16:3e:01:00:01, priority 2/);
    const outside = await arp('10.1.0.100');
    expect(outside).to.match(/24\. priority 0/);
    expect(outside).to.match(/Datapath actions: drop/);
  });

  it('a neighbour advertisement for a target in the IPv6 prefix passes; one outside it is dropped', async () => {
    const na = (target: string): Promise<string> => ovs.appctl('ofproto/trace', 'br-int',
      `in_port=2,icmp6,dl_src=${MAC},ipv6_src=fe80::1,icmpv6_type=136,icmpv6_code=0,nd_target=${target}`);
    expect(await na('fd00:1::99')).to.match(/24\. icmp6,in_port=2,icmp_type=136,nd_target=fd00:1::\/64, priority 2/);
    const outside = await na('fd00:2::99');
    expect(outside).to.match(/24\. priority 0/);
    expect(outside).to.match(/Datapath actions: drop/);
  });
});
