// Neutron's rules.py as pure functions: checked against Neutron's own unit-test vectors (each names its
// Neutron file and test) and against the rule flows Neutron's agent installed for the example
// topologies (fixtures/neutron-examples/sg-*/br-int.flows).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { flowPriorityOffset, PortMatch, portRuleMasking, RuleFlowSpec, ruleFlowSpecs } from '../../pipelines/firewall/rules.js';

const EXAMPLES = new URL('../../../fixtures/neutron-examples/', import.meta.url);

/** Neutron's `_hex_format` (neutron/common/utils.py): how its tests write a port match. */
function neutronHex(m: PortMatch): string {
  const hex = (n: number) => '0x' + n.toString(16).padStart(4, '0');
  return m.mask === undefined ? hex(m.value) : `${hex(m.value)}/${hex(m.mask)}`;
}

// ---- A tiny formatter, in the test only: a spec as ovs-ofctl 3.1 dumps the flow (match fields in
// its order), to compare with Neutron's goldens.
const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp', 132: 'sctp' };

function shortPrefix(p: string): string {
  return p.includes(':') ? p.replace(/\/128$/, '') : p.replace(/\/32$/, '');
}

function formatSpec(s: RuleFlowSpec): string {
  const v6 = s.ethertype === 'IPv6';
  const proto = s.nwProto === undefined ? (v6 ? 'ipv6' : 'ip') : PROTO_NAMES[s.nwProto] ? PROTO_NAMES[s.nwProto] + (v6 ? '6' : '') : undefined;
  const m = [`priority=${s.priority}`];
  if (s.conjId !== undefined) m.push(`conj_id=${s.conjId}`);
  m.push(`ct_state=${s.ctState}`);
  m.push(proto ?? (v6 ? 'ipv6' : 'ip'));
  if (s.port !== undefined) m.push(`reg5=0x${s.port.toString(16)}`);
  if (s.network !== undefined) m.push(`reg6=0x${s.network.toString(16)}`);
  if (s.dlSrc !== undefined) m.push(`dl_src=${s.dlSrc}`);
  if (s.remote) m.push(`${s.remote.field}=${shortPrefix(s.remote.prefix)}`);
  if (proto === undefined) m.push(`nw_proto=${s.nwProto}`);
  if (s.tpDst) m.push(`tp_dst=${s.tpDst.mask === undefined ? s.tpDst.value : `0x${s.tpDst.value.toString(16)}/0x${s.tpDst.mask.toString(16)}`}`);
  if (s.icmpType !== undefined) m.push(`icmp_type=${s.icmpType}`);
  if (s.icmpCode !== undefined) m.push(`icmp_code=${s.icmpCode}`);
  const a = s.action;
  let actions: string;
  if (a.kind === 'conjunction') actions = a.ids.map((id) => `conjunction(${id},${a.clause}/2)`).join(',');
  else {
    const verdict =
      a.kind === 'continue' ? 'resubmit(,73)' : a.kind === 'accept' ? `output:${s.port}` : `ct(commit,zone=NXM_NX_REG6[0..15]),output:${s.port},resubmit(,92)`;
    actions = (a.reg7 !== undefined ? `set_field:0x${a.reg7.toString(16)}->reg7,` : '') + verdict;
  }
  return `table=${s.direction === 'egress' ? 72 : 82}, ${m.join(',')} actions=${actions}`;
}

// ---- The example topologies, in Neutron's terms, turned into our rule type.
interface NeutronRule {
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}
interface Example {
  security_groups: { id: string; name: string; rules: NeutronRule[] }[];
}
interface ExampleFirewall {
  ports: Record<string, { ofport: number; security_groups: string[]; 'vlan_tag (ct zone, reg6)': number }>;
  security_groups: Record<string, { id: string; members: Record<string, [string, string][]> }>;
  conj_id_map: { base_conj_id: number; direction: string; ethertype: string; remote_group: string; security_group: string }[];
}

function loadExample(name: string) {
  const topo = JSON.parse(readFileSync(new URL(`${name}/topology.json`, EXAMPLES), 'utf8')) as Example;
  const fw = JSON.parse(readFileSync(new URL(`${name}/firewall.json`, EXAMPLES), 'utf8')) as ExampleFirewall;
  const flows = readFileSync(new URL(`${name}/br-int.flows`, EXAMPLES), 'utf8').split('\n');
  // Neutron's SecurityGroup.update_rules: protocol names to numbers, 'icmp' of IPv6 to 58.
  const numbers: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132 };
  const groups = new Map(
    topo.security_groups.map((g) => [
      g.id,
      {
        name: g.name,
        rules: g.rules.map((r) => ({
          direction: r.direction,
          ethertype: r.ethertype,
          ...(r.protocol !== null ? { protocol: r.ethertype === 'IPv6' && r.protocol === 'icmp' ? 58 : (numbers[r.protocol] ?? Number(r.protocol)) } : {}),
          ...(r.port_range_min !== null ? { portRangeMin: r.port_range_min } : {}),
          ...(r.port_range_max !== null ? { portRangeMax: r.port_range_max } : {}),
          ...(r.remote_ip_prefix !== null ? { remoteIpPrefix: r.remote_ip_prefix } : {}),
          ...(r.remote_group_id !== null ? { remoteGroupId: r.remote_group_id } : {}),
        })),
      },
    ]),
  );
  const idOfName = new Map([...groups].map(([id, g]) => [g.name, id]));
  const ports = Object.values(fw.ports).map((p) => ({
    ofport: p.ofport,
    vlan: p['vlan_tag (ct zone, reg6)'],
    groups: p.security_groups.map((n) => idOfName.get(n)!),
  }));
  // The rule flows: tables 72/82 at priorities 70-77, the cookie aside.
  const ruleLines = flows
    .filter((l) => /table=(72|82), priority=7\d,/.test(l))
    .map((l) => l.replace(/^cookie=AGENT, /, ''))
    .sort();
  return { groups, ports, ruleLines, fw, idOfName };
}

describe('firewall rules (Neutron rules.py)', () => {
  describe('portRuleMasking', () => {
    // Expected lists: the output of Neutron 2023.1's utils.port_rule_masking (neutron/common/utils.py)
    // for these ranges, run as is; the first ten ranges are TestPortRuleMasking.test_port_rule_masking_edge_cases
    // (neutron/tests/unit/common/test_utils.py), 22-23 and 10-11 are from test_rules.py below.
    const NEUTRON: [number, number, string[]][] = [
      [8000, 8080, ['0x1f40/0xffc0', '0x1f80/0xfff0', '0x1f90']],
      [5, 12, ['0x0006/0xfffe', '0x0005', '0x0008/0xfffc', '0x000c']],
      [20, 130, ['0x0040/0xffc0', '0x0020/0xffe0', '0x0018/0xfff8', '0x0014/0xfffc', '0x0080/0xfffe', '0x0082']],
      [4501, 33057, ['0x4000/0xc000', '0x2000/0xe000', '0x1800/0xf800', '0x1400/0xfc00', '0x1200/0xfe00', '0x11c0/0xffc0', '0x11a0/0xffe0',
        '0x1198/0xfff8', '0x1196/0xfffe', '0x1195', '0x8000/0xff00', '0x8100/0xffe0', '0x8120/0xfffe']],
      [0, 65535, ['0x0000/0x0000']],
      [22, 22, ['0x0016']],
      [5001, 5001, ['0x1389']],
      [0, 7, ['0x0000/0xfff8']],
      [8, 15, ['0x0008/0xfff8']],
      [1, 127, ['0x0020/0xffe0', '0x0010/0xfff0', '0x0008/0xfff8', '0x0004/0xfffc', '0x0002/0xfffe', '0x0001', '0x0040/0xffc0']],
      [40, 105, ['0x0030/0xfff0', '0x0028/0xfff8', '0x0040/0xffe0', '0x0060/0xfff8', '0x0068/0xfffe']],
      [16, 23, ['0x0010/0xfff8']],
      [22, 23, ['0x0016/0xfffe']],
      [10, 11, ['0x000a/0xfffe']],
      [1024, 65535, ['0x4000/0xc000', '0x2000/0xe000', '0x1000/0xf000', '0x0800/0xf800', '0x0400/0xfc00', '0x8000/0x8000']],
    ];
    for (const [min, max, expected] of NEUTRON) {
      it(`${min}-${max} gives Neutron's matches in Neutron's order`, () => {
        expect(portRuleMasking(min, max).map(neutronHex)).to.deep.equal(expected);
      });
    }

    // test_utils.py's oracle: _PortRange / _port_rule_masking (one port at a time, merging neighbours
    // under a common mask), compared as sets as test_port_rule_masking_random_ranges does.
    function oracle(min: number, max: number): string[] {
      interface R { base: number; mask: number; prev: R | undefined }
      const can = (r: R) => r.prev !== undefined && (r.base & (r.mask << 1)) === (r.prev.base & (r.prev.mask << 1)) && r.mask === r.prev.mask;
      let cur: R | undefined;
      for (let n = min; n <= max; n++) {
        const r: R = { base: n, mask: 0xffff, prev: cur };
        while (can(r)) {
          r.mask = (r.mask << 1) & 0x1ffff;
          r.base = r.prev!.base;
          r.prev = r.prev!.prev;
        }
        cur = r;
      }
      const out: string[] = [];
      for (let r = cur; r; r = r.prev) out.unshift(neutronHex((r.mask & 0xffff) === 0xffff ? { value: r.base } : { value: r.base, mask: r.mask & 0xffff }));
      return out;
    }
    it('covers exactly the range, as test_port_rule_masking_random_ranges checks (fixed seed)', () => {
      let seed = 16;
      const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 65536;
      const ends = Array.from({ length: 300 }, rand).sort((a, b) => a - b);
      let prev = 0;
      for (const e of ends) {
        expect(portRuleMasking(prev, e).map(neutronHex).sort(), `${prev}-${e}`).to.deep.equal(oracle(prev, e).sort());
        prev = e;
      }
    });
    it('rejects a reversed range (test_port_rule_wrong_input) and ports beyond 16 bits', () => {
      expect(() => portRuleMasking(12, 5)).to.throw(/12-5: the maximum is smaller/);
      expect(() => portRuleMasking(1, 65536)).to.throw(/ports are integers 0-65535/);
    });
  });

  describe('flowPriorityOffset', () => {
    it('orders rules by specificity, conjunctions below plain rules', () => {
      const tcp = { protocol: 6, portRangeMin: 22, portRangeMax: 22 };
      const cases: [object, boolean, number][] = [
        [{}, true, 0], [{ protocol: 1 }, true, 1], [{ protocol: 1, portRangeMin: 8 }, true, 2], [{ protocol: 1, portRangeMin: 8, portRangeMax: 0 }, true, 3],
        [tcp, true, 3], [{ protocol: 6 }, true, 3], [{}, false, 4], [{ protocol: 58 }, false, 5], [{ protocol: 58, portRangeMin: 128 }, false, 6],
        [{ protocol: 58, portRangeMin: 128, portRangeMax: 0 }, false, 7], [{ protocol: 17 }, false, 7],
      ];
      for (const [rule, conj, offset] of cases) expect(flowPriorityOffset(rule, conj), JSON.stringify(rule) + conj).to.equal(offset);
    });
  });

  describe('ruleFlowSpecs', () => {
    // test_rules.py TestCreateFlowsFromRuleAndPort: the remote prefix goes to the source field for
    // ingress and the destination for egress; a prefix matching everything is left out
    // (TestIsValidPrefix: 0.0.0.0/0, ::/0 are not valid prefixes).
    it('places the remote prefix by direction and drops 0.0.0.0/0 and ::/0', () => {
      const one = (rule: Parameters<typeof ruleFlowSpecs>[0]) => ruleFlowSpecs(rule, 1)[0]!;
      expect(one({ direction: 'ingress', ethertype: 'IPv4', remoteIpPrefix: '192.168.0.0/24' }).remote).to.deep.equal({ field: 'nw_src', prefix: '192.168.0.0/24' });
      expect(one({ direction: 'egress', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.1/32' }).remote).to.deep.equal({ field: 'nw_dst', prefix: '10.0.0.1/32' });
      expect(one({ direction: 'ingress', ethertype: 'IPv6', remoteIpPrefix: '2001:db8:bbbb::/64' }).remote).to.deep.equal({ field: 'ipv6_src', prefix: '2001:db8:bbbb::/64' });
      expect(one({ direction: 'egress', ethertype: 'IPv6', remoteIpPrefix: '2001:db8:aaaa::/64' }).remote).to.deep.equal({ field: 'ipv6_dst', prefix: '2001:db8:aaaa::/64' });
      expect(one({ direction: 'ingress', ethertype: 'IPv4', remoteIpPrefix: '0.0.0.0/0' })).to.not.have.property('remote');
      expect(one({ direction: 'egress', ethertype: 'IPv6', remoteIpPrefix: '::/0' })).to.not.have.property('remote');
      // test_create_flows_from_rule_and_port_no_ip_ipv4: priority 70 is a remote-group rule's; a plain rule without protocol is 74.
      expect(one({ direction: 'ingress', ethertype: 'IPv4' })).to.deep.include({ priority: 74, ethertype: 'IPv4', port: 1 });
    });

    // test_rules.py TestCreateProtocolFlows.
    it('expands protocol, port range and ICMP type/code as create_protocol_flows does', () => {
      const egress = { direction: 'egress', ethertype: 'IPv4' } as const;
      const bodies = (rule: Parameters<typeof ruleFlowSpecs>[0]) =>
        ruleFlowSpecs(rule, 1)
          .filter((s) => s.ctState === '+new-est')
          .map((s) => ({ nwProto: s.nwProto, tpDst: s.tpDst && neutronHex(s.tpDst), icmpType: s.icmpType, icmpCode: s.icmpCode, action: s.action.kind }));
      const none = { tpDst: undefined, icmpType: undefined, icmpCode: undefined };
      // test_create_protocol_flows_egress / _no_protocol / _icmp6
      expect(bodies({ ...egress, protocol: 6 })).to.deep.equal([{ ...none, nwProto: 6, action: 'continue' }]);
      expect(bodies(egress)).to.deep.equal([{ ...none, nwProto: undefined, action: 'continue' }]);
      expect(bodies({ direction: 'egress', ethertype: 'IPv6', protocol: 58 })).to.deep.equal([{ ...none, nwProto: 58, action: 'continue' }]);
      // test_create_protocol_flows_port_range: 22-23 → tcp_dst 0x0016/0xfffe
      expect(bodies({ ...egress, protocol: 6, portRangeMin: 22, portRangeMax: 23 })).to.deep.equal([{ ...none, nwProto: 6, tpDst: '0x0016/0xfffe', action: 'continue' }]);
      // test_create_protocol_flows_icmp: type 0, no code
      expect(bodies({ ...egress, protocol: 1, portRangeMin: 0 })).to.deep.equal([{ ...none, nwProto: 1, icmpType: 0, action: 'continue' }]);
      // test_create_protocol_flows_ipv6_icmp: type 5 code 0
      expect(bodies({ direction: 'egress', ethertype: 'IPv6', protocol: 58, portRangeMin: 5, portRangeMax: 0 })).to.deep.equal([
        { ...none, nwProto: 58, icmpType: 5, icmpCode: 0, action: 'continue' },
      ]);
      // test_create_port_range_with_icmp_protocol / TestCreatePortRangeFlows: ports only for TCP/UDP/SCTP
      expect(bodies({ ...egress, protocol: 47, portRangeMin: 10, portRangeMax: 11 })).to.deep.equal([{ ...none, nwProto: 47, action: 'continue' }]);
    });

    // test_rules.py TestCreateConjFlows / create_accept_flows: est first, then new; ingress new commits.
    it('accepts established-original then new, committing new ingress connections', () => {
      const specs = ruleFlowSpecs({ direction: 'ingress', ethertype: 'IPv4', protocol: 6, portRangeMin: 8000, portRangeMax: 8080 }, 2);
      expect(specs.map((s) => `${s.ctState} ${neutronHex(s.tpDst!)} ${s.action.kind}`)).to.deep.equal([
        '+est-rel-rpl 0x1f40/0xffc0 accept', '+new-est 0x1f40/0xffc0 commit-accept',
        '+est-rel-rpl 0x1f80/0xfff0 accept', '+new-est 0x1f80/0xfff0 commit-accept',
        '+est-rel-rpl 0x1f90 accept', '+new-est 0x1f90 commit-accept',
      ]);
    });

    it("equal the rule flows Neutron's agent installed for sg-small", () => {
      const ex = loadExample('sg-small');
      const ours = ex.ports.flatMap((p) => p.groups.flatMap((g) => ex.groups.get(g)!.rules.flatMap((r) => ruleFlowSpecs(r, p.ofport)))).map(formatSpec).sort();
      expect(ex.ruleLines.length).to.equal(16);
      expect(ours).to.deep.equal(ex.ruleLines);
    });
  });
});
