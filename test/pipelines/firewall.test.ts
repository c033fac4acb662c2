// The openvswitch firewall's shape beyond the two Neutron examples: trusted `network:*` ports as
// Neutron's process_trusted_ports treats them, the noop driver untouched, the drawn tables, and the
// table declarations guarding the new actions.
import { expect } from 'chai';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { deriveHostState } from '../../lib/state/host-state.js';
import { readTopology, Topology } from '../../lib/topology/model.js';
import { parseEventLine } from '../../lib/topology/events.js';
import { BR_INT } from '../../pipelines/br-int.js';
import { edgeList, pipelineGraph } from '../../pipelines/graph.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { FIXTURES } from '../../testing/golden-cases.js';

const FIREWALL = pipelineOptions({ firewall: 'openvswitch' });
const sgSmall = (): Topology => readTopology(`${FIXTURES}topologies/neutron-sg-small.jsonl`);
const cookieOf = `cookie=0x${FIREWALL.cookies.brInt.toString(16)}, `;
const ofPort = (lines: readonly string[], port: number): string[] =>
  lines.filter((l) => new RegExp(`in_port=${port}[ ,]|reg5=0x${port.toString(16)}[ ,]|->reg5`).test(l) && l.includes(`0x${port.toString(16)}`))
    .map((l) => l.replace(cookieOf, '').trim());

describe('openvswitch firewall pipeline', () => {
  it("a trusted network:* port (DHCP) with port security gets the unfiltered port's two flows, like a port without port security", () => {
    const t = sgSmall();
    t.apply(parseEventLine(JSON.stringify({
      type: 'port', id: 'dhcp-1', network: 'net-1001', host: 'compute', mac: 'fa:16:3e:00:00:0a', fixedIps: ['10.0.0.2'],
      deviceOwner: 'network:dhcp', securityGroups: ['d89a8c8b-7e7a-566a-a581-f4d5b1decb30'], ofport: 9,
    })));
    const got = renderText(deriveHostState(t, 'compute'), 'br-int', FIREWALL);
    // The sg-remote-group golden's port 4 (port security off) holds exactly these two, as Neutron installed them.
    expect(ofPort(got, 9)).to.deep.equal([
      'table=60, priority=100,in_port=9 actions=set_field:0x9->reg5,set_field:0x1->reg6,resubmit(,73)',
      'table=73, priority=80,reg5=0x9 actions=resubmit(,94)',
    ]);
    // Its address is not anyone's rule subject: no flow names it (no ARP/IP checks, no member flows).
    expect(got.filter((l) => l.includes('10.0.0.2'))).to.deep.equal([]);
  });

  it('a remote-group member with an any-address pair (0.0.0.0/0, a router or VRRP port) is matched by its MAC, not refused', () => {
    const t = readTopology(`${FIXTURES}topologies/neutron-sg-remote-group.jsonl`);
    t.apply(parseEventLine(JSON.stringify({
      type: 'port', id: 'vrrp-1', network: 'net-1001', host: 'remote', mac: 'fa:16:3e:00:00:99', fixedIps: ['10.0.0.9'],
      allowedAddressPairs: [{ ip: '0.0.0.0/0', mac: 'fa:16:3e:00:00:98' }], securityGroups: ['6e589e14-2a3f-5291-aa88-a61990ca494d'],
    })));
    const got = renderText(deriveHostState(t, 'compute'), 'br-int', FIREWALL);
    // Its fixed IP is a member as any other; the any-address pair is one member flow per state that matches the pair's MAC.
    expect(got.filter((l) => l.includes('nw_src=10.0.0.9')).length).to.be.greaterThan(0);
    const byMac = got.filter((l) => l.includes('dl_src=fa:16:3e:00:00:98'));
    expect(byMac.length).to.be.greaterThan(0);
    for (const l of byMac) expect(l).to.match(/table=82, .*ct_state=[+-].*conjunction\(/).and.not.match(/nw_src=/);
  });

  it('the noop driver renders what it rendered before the firewall existed, security groups or not', () => {
    const state = deriveHostState(sgSmall(), 'compute');
    const noop = renderText(state, 'br-int', pipelineOptions());
    expect(noop.some((l) => / table=(7\d|8\d|9\d),/.test(l))).to.equal(false);
    // Per port: table 0's three checks (printed without table=), table 24's two addresses, table 25's MAC.
    const spoofChecks = (lines: string[]): string[] => lines.filter((l) => /^ cookie=0x[0-9a-f]+, (table=(24|25), )?priority=(2|9|10),/.test(l));
    expect(spoofChecks(noop)).to.have.length(2 * (3 + 2 + 1));
    expect(spoofChecks(renderText(state, 'br-int', FIREWALL))).to.deep.equal([]);
  });

  it('draws the firewall tables with their names and the ct continuations', () => {
    const g = pipelineGraph(deriveHostState(sgSmall(), 'compute'), 'br-int', FIREWALL);
    expect(edgeList(g)).to.include.members([
      '60->71 resubmit', '60->81 resubmit', '71->72 ct', '71->73 resubmit', '71->93 resubmit', '71->94 resubmit', '72->73 resubmit',
      '72->93 resubmit', '72->94 resubmit', '73->81 resubmit', '73->91 resubmit', '73->94 resubmit', '81->82 ct', '81->82 resubmit',
      '81->VM ports output', '82->92 resubmit', '82->VM ports output', '91->94 resubmit', '94->NORMAL output',
    ]);
    expect(g.nodes.find((n) => n.key === '82')?.lines[0]).to.equal('82 RULES_INGRESS');
  });

  it('checks the new actions against the table declarations at run time', () => {
    const bad = (f: () => unknown): string => {
      try {
        f();
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    const computed = JSON.parse('{"zone":"NXM_NX_REG6[0..15]"}') as { zone: string };
    // ct(table=) is a continuation like resubmit: only to a declared next table.
    expect(bad(() => BR_INT.baseIngress.flow({ priority: 1, match: { ip: true }, actions: [{ ct: { ...computed, table: BR_INT.droppedTraffic as never } }] })))
      .to.equal('table 81 (BASE_INGRESS): may not continue to table 93 (DROPPED_TRAFFIC)');
    expect(bad(() => BR_INT.baseEgress.flow({ priority: 1, actions: [{ output: 2, to: 'vm' as never }] })))
      .to.equal('table 71 (BASE_EGRESS): may not output to a vm port');
    const f = BR_INT.rulesIngress.flow({
      cookie: 1n, priority: 40, resetCounts: true, match: { ct_state: '+est', ip: true, reg5: 2 },
      actions: [{ ct: { commit: true, zone: 'NXM_NX_REG6[0..15]', exec: [{ setField: 'ct_mark', value: 1, set: 'ct_mark' }] } },
        { conjunction: 7, clause: 2, of: 2 }],
    });
    expect(formatFlow(f.flow)).to.equal('cookie=0x1, table=82, reset_counts priority=40,ct_state=+est,ip,reg5=0x2 '
      + 'actions=ct(commit,zone=NXM_NX_REG6[0..15],exec(set_field:0x1->ct_mark)),conjunction(7,2/2)');
  });
});
