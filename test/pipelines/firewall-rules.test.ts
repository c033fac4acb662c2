// Neutron's rules.py as pure functions: checked against Neutron's own unit-test vectors (each names its
// Neutron file and test) and against the rule flows Neutron's agent installed for the example
// topologies (fixtures/neutron-examples/sg-*/br-int.flows).
import type { GroupMembers } from '../../lib/topology/model.js';
import { renameIds } from '../../testing/conj-ids.js';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  allocateConjIds, conjKey, conjKeysOf, flowPriorityOffset, formatConjBases, parseConjBases, mergeCommonRules, mergePortRanges, networkMemberFlowSpecs, PortMatch, portFlowSpecs,
  portRuleMasking, RuleBody, RuleFlowSpec, ruleFlowSpecs, RulePort, RuleWithConjs,
} from '../../pipelines/firewall/rules.js';

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

  describe('merging remote-group rules (test_rules.py TestMergeRules)', () => {
    const tmpl = { direction: 'ingress', ethertype: 'IPv4', protocol: 6 } as const;
    const pieces = (r: RuleWithConjs[]) => r.map(({ rule, conjIds }) => [rule.portRangeMin, rule.portRangeMax, [...conjIds].sort((a, b) => a - b)]);
    it('test_merge_port_ranges_overlapping', () => {
      const r = mergePortRanges([
        { rule: { ...tmpl, portRangeMin: 20, portRangeMax: 30 }, conjId: 6 },
        { rule: { ...tmpl, portRangeMin: 30, portRangeMax: 40 }, conjId: 14 },
        { rule: { ...tmpl, portRangeMin: 35, portRangeMax: 40 }, conjId: 22 },
        { rule: { ...tmpl, portRangeMin: 20, portRangeMax: 20 }, conjId: 30 },
      ]);
      expect(pieces(r)).to.deep.equal([[20, 20, [6, 30]], [21, 29, [6]], [30, 30, [6, 14]], [31, 34, [14]], [35, 40, [14, 22]]]);
    });
    it('test_merge_port_ranges_no_port_ranges', () => {
      const r = mergePortRanges([{ rule: tmpl, conjId: 10 }, { rule: tmpl, conjId: 12 }, { rule: { ...tmpl, portRangeMin: 30, portRangeMax: 40 }, conjId: 4 }]);
      expect(pieces(r)).to.deep.equal([[1, 29, [10, 12]], [30, 40, [4, 10, 12]], [41, 65535, [10, 12]]]);
    });
    it('test_merge_port_ranges_nonoverlapping', () => {
      const r = mergePortRanges([{ rule: { ...tmpl, portRangeMin: 30, portRangeMax: 40 }, conjId: 32 }, { rule: { ...tmpl, portRangeMin: 100, portRangeMax: 140 }, conjId: 40 }]);
      expect(pieces(r)).to.deep.equal([[30, 40, [32]], [100, 140, [40]]]);
    });
    it('a whole range left whole loses its range (merge_port_ranges tail)', () => {
      const r = mergePortRanges([{ rule: tmpl, conjId: 8 }, { rule: tmpl, conjId: 16 }]);
      expect(r).to.deep.equal([{ rule: tmpl, conjIds: [8, 16] }]);
    });
    it('test__assert_mergeable_rules', () => {
      const a: RuleBody = { direction: 'ingress', ethertype: 'IPv4', protocol: 1 };
      const b: RuleBody = { direction: 'ingress', ethertype: 'IPv6' };
      expect(() => mergeCommonRules([{ rule: a, conjId: 8 }, { rule: b, conjId: 16 }])).to.throw(/incompatible security group rules/);
    });
    it('test_merge_common_rules_single and test_merge_common_rules', () => {
      const icmp = { direction: 'egress', ethertype: 'IPv4', protocol: 1 } as const;
      expect(mergeCommonRules([{ rule: icmp, conjId: 8 }])).to.deep.equal([{ rule: icmp, conjIds: [8] }]);
      const ing = { ...icmp, direction: 'ingress' } as const;
      const r = mergeCommonRules([
        { rule: ing, conjId: 8 },
        { rule: { ...ing, portRangeMin: 3 }, conjId: 16 },
        { rule: { ...ing, portRangeMin: 3, portRangeMax: 0 }, conjId: 40 },
        { rule: ing, conjId: 24 },
      ]);
      expect(r).to.have.deep.members([
        { rule: ing, conjIds: [8, 24] },
        { rule: { ...ing, portRangeMin: 3 }, conjIds: [16] },
        { rule: { ...ing, portRangeMin: 3, portRangeMax: 0 }, conjIds: [40] },
      ]);
    });
  });

  describe('allocateConjIds', () => {
    it('gives new keys the lowest free multiples of 8 in key order, and never moves a kept key', () => {
      const first = allocateConjIds(['b', 'a', 'c'], new Map());
      expect([...first]).to.deep.equal([['a', 8], ['b', 16], ['c', 24]]);
      // 'a' removed but not released: its block stays taken; 'd' comes after.
      const second = allocateConjIds(['b', 'c', 'd'], first);
      expect([...second]).to.deep.equal([['a', 8], ['b', 16], ['c', 24], ['d', 32]]);
      // Released, its block is the lowest free one again; the others do not move.
      const third = allocateConjIds(['b', 'c', 'd', 'e'], second, ['a']);
      expect([...third]).to.deep.equal([['b', 16], ['c', 24], ['d', 32], ['e', 8]]);
      // The same inputs give the same ids (a restart reading back `third`).
      expect([...allocateConjIds(['e', 'd', 'c', 'b'], third)]).to.deep.equal([...third]);
    });
    it('fills holes of blocks read back from the switch (Neutron numbered them in hash order)', () => {
      const back = new Map([['x', 16], ['y', 40]]);
      expect([...allocateConjIds(['x', 'y', 'p', 'q', 'r'], back)]).to.deep.equal([['p', 8], ['q', 24], ['r', 32], ['x', 16], ['y', 40]]);
    });
    it('round-trip through the string kept on the switch, and a bad string is refused whole', () => {
      const bases = allocateConjIds([conjKey('g', 'r', 'egress', 'IPv6'), conjKey('g', 'g', 'ingress', 'IPv4')], new Map());
      const text = formatConjBases(bases);
      expect(text).to.equal('{"egress/IPv6/g/r":8,"ingress/IPv4/g/g":16}');
      expect([...parseConjBases(text)]).to.deep.equal([...bases]);
      expect(() => parseConjBases('{"egress/IPv6/g/r":8,"ingress/IPv4/g/g":8}')).to.throw(/base 8 given to both egress\/IPv6\/g\/r and ingress\/IPv4\/g\/g/);
      expect(() => parseConjBases('{"sideways/IPv4/g/g":8}')).to.throw(/key "sideways\/IPv4\/g\/g": not direction\/ethertype/);
      expect(() => parseConjBases('{"egress/IPv4/g/g":"8"}')).to.throw(/base "8" is not a number/);
      expect(() => parseConjBases('[8]')).to.throw(/not a JSON object/);
      expect(() => parseConjBases('{')).to.throw(/not JSON/);
    });
    it('refuses bad blocks, naming the key', () => {
      expect(() => allocateConjIds([], new Map([['x', 12]]))).to.throw(/base 12 of x/);
      expect(() => allocateConjIds([], new Map([['x', 8], ['y', 8]]))).to.throw(/base 8 given to both x and y/);
    });
  });

  describe('remote-group rules as conjunctions', () => {
    it("equal the rule flows Neutron's agent installed for sg-remote-group, conj ids renamed", () => {
      const ex = loadExample('sg-remote-group');
      const ports: RulePort[] = ex.ports.map((p) => ({ ofport: p.ofport, groups: p.groups.map((id) => ({ id, rules: ex.groups.get(id)!.rules })) }));
      const bases = allocateConjIds(ports.flatMap(conjKeysOf), new Map());
      // Members as Neutron's server sent them (firewall.json: fixed IPs and address-pair CIDRs).
      const members = new Map<string, GroupMembers>(
        Object.values(ex.fw.security_groups).map((g) => [g.id, { v4: (g.members.IPv4 ?? []).map(([a]) => a), v6: (g.members.IPv6 ?? []).map(([a]) => a) }]),
      );
      const vlan = ex.ports[0]!.vlan;
      const specs = [...ports.flatMap((p) => portFlowSpecs(p, bases)), ...networkMemberFlowSpecs(vlan, ports, members, bases)];
      // Our block of each key -> Neutron's block of the same key (firewall.json conj_id_map).
      const rename = new Map<number, number>();
      for (const c of ex.fw.conj_id_map) {
        const ours = bases.get(conjKey(ex.idOfName.get(c.security_group)!, ex.idOfName.get(c.remote_group)!, c.direction as 'ingress', c.ethertype as 'IPv4'))!;
        expect(ours, JSON.stringify(c)).to.be.a('number');
        for (let i = 0; i < 8; i++) rename.set(ours + i, c.base_conj_id + i);
      }
      expect(rename.size).to.equal(8 * bases.size);
      // Renamed in place: the order of a port's conjunction actions is compared as Neutron wrote it.
      const renamed = (line: string) => renameIds(line, (id) => rename.get(id)!);
      // Neutron sorts a first-dimension flow's ids by number, so their order follows the numbering.
      const sortFirstDim = (line: string) =>
        line.replace(/actions=((?:conjunction\(\d+,1\/2\),?)+)$/, (_, a: string) => 'actions=' + a.split(/,(?=conj)/).sort().join(','));
      const ours = specs.map(formatSpec).map(renamed).map(sortFirstDim).sort();
      expect(ex.ruleLines.length).to.equal(28);
      expect(ours).to.deep.equal(ex.ruleLines.map(sortFirstDim).sort());
    });

    it('cuts overlapping ranges of rules from different remote groups (the devref example)', () => {
      // "TCP from SG1" + "TCP/80 from SG2": ≠80 feeds SG1's conjunction, =80 both.
      const port: RulePort = {
        ofport: 2,
        groups: [{ id: 'web', rules: [
          { direction: 'ingress', ethertype: 'IPv4', protocol: 6, remoteGroupId: 'sg1' },
          { direction: 'ingress', ethertype: 'IPv4', protocol: 6, portRangeMin: 80, portRangeMax: 80, remoteGroupId: 'sg2' },
        ] }],
      };
      const bases = allocateConjIds(conjKeysOf(port), new Map());
      const lines = portFlowSpecs(port, bases).filter((s) => s.ctState === '+new-est').map(formatSpec);
      // sg1's block is 8, sg2's 16; TCP is offset 3: ids 14/15 and 22/23.
      expect(lines.filter((l) => l.includes('tp_dst=80 '))).to.deep.equal(['table=82, priority=73,ct_state=+new-est,tcp,reg5=0x2,tp_dst=80 actions=conjunction(15,2/2),conjunction(23,2/2)']);
      const onlySg1 = lines.filter((l) => l.endsWith('actions=conjunction(15,2/2)'));
      // 1-79 and 81-65535 as masks (Neutron's port_rule_masking of each piece).
      expect(onlySg1.length).to.equal(portRuleMasking(1, 79).length + portRuleMasking(81, 65535).length);
      expect(lines.filter((l) => l.includes('conj_id='))).to.deep.equal([
        'table=82, priority=73,conj_id=15,ct_state=+new-est,ip,reg5=0x2 actions=set_field:0xf->reg7,ct(commit,zone=NXM_NX_REG6[0..15]),output:2,resubmit(,92)',
        'table=82, priority=73,conj_id=23,ct_state=+new-est,ip,reg5=0x2 actions=set_field:0x17->reg7,ct(commit,zone=NXM_NX_REG6[0..15]),output:2,resubmit(,92)',
      ]);
    });

    it('writes one first-dimension flow per member address and offset, /0 members with their MAC', () => {
      const port: RulePort = {
        ofport: 5,
        groups: [{ id: 'g', rules: [
          { direction: 'egress', ethertype: 'IPv6', remoteGroupId: 'r1' },
          { direction: 'egress', ethertype: 'IPv6', protocol: 58, portRangeMin: 128, remoteGroupId: 'r2' },
        ] }],
      };
      const bases = allocateConjIds(conjKeysOf(port), new Map());
      const members = new Map<string, GroupMembers>([
        ['r1', { v4: [], v6: ['2001:db8::5', { address: '::/0', mac: 'fa:16:3e:00:00:09' }] }],
        ['r2', { v4: [], v6: ['2001:db8::5'] }],
      ]);
      const lines = networkMemberFlowSpecs(7, [port], members, bases).map(formatSpec);
      // r1 (block 8): no protocol, offset 0 → id 8/9; r2 (block 16): ICMP type, offset 2 → id 20/21.
      expect(lines).to.deep.equal([
        'table=72, priority=70,ct_state=+est-rel-rpl,ipv6,reg6=0x7,ipv6_dst=2001:db8::5 actions=conjunction(8,1/2)',
        'table=72, priority=70,ct_state=+new-est,ipv6,reg6=0x7,ipv6_dst=2001:db8::5 actions=conjunction(9,1/2)',
        'table=72, priority=72,ct_state=+est-rel-rpl,ipv6,reg6=0x7,ipv6_dst=2001:db8::5 actions=conjunction(20,1/2)',
        'table=72, priority=72,ct_state=+new-est,ipv6,reg6=0x7,ipv6_dst=2001:db8::5 actions=conjunction(21,1/2)',
        'table=72, priority=70,ct_state=+est-rel-rpl,ipv6,reg6=0x7,dl_src=fa:16:3e:00:00:09,ipv6_dst=::/0 actions=conjunction(8,1/2)',
        'table=72, priority=70,ct_state=+new-est,ipv6,reg6=0x7,dl_src=fa:16:3e:00:00:09,ipv6_dst=::/0 actions=conjunction(9,1/2)',
      ]);
      expect(() => networkMemberFlowSpecs(7, [port], new Map([['r1', { v4: [], v6: ['::/0'] }]]), bases)).to.throw(/::\/0 of group r1: a \/0 member needs its MAC/);
      expect(() => networkMemberFlowSpecs(7, [port], new Map(), new Map())).to.throw(/no conjunction id block for egress\/IPv6\/g\/r1/);
    });
  });

  describe('stability (issue 16 point 3)', () => {
    const g1 = { id: 'm-g1', rules: [{ direction: 'ingress', ethertype: 'IPv4', protocol: 6, portRangeMin: 5432, portRangeMax: 5432, remoteGroupId: 'm-g1' }] } as const;
    const g2 = { id: 'm-g2', rules: [{ direction: 'ingress', ethertype: 'IPv4', protocol: 17, portRangeMin: 53, portRangeMax: 53, remoteGroupId: 'm-g1' }] } as const;
    it('a new group whose key sorts first moves no installed conjunction and no flow of other ports', () => {
      const a: RulePort = { ofport: 2, groups: [g1] };
      const b: RulePort = { ofport: 3, groups: [g2] };
      const members = new Map<string, GroupMembers>([['m-g1', { v4: ['10.0.0.5', '10.0.0.6'], v6: [] }]]);
      const before = allocateConjIds([a, b].flatMap(conjKeysOf), new Map());
      const flowsBefore = [...portFlowSpecs(a, before), ...portFlowSpecs(b, before), ...networkMemberFlowSpecs(1, [a, b], members, before)].map(formatSpec);
      // Port c joins with a group 'a-new' (sorts before both) naming m-g1: only c's flows and the member flows' ids are new.
      const c: RulePort = { ofport: 4, groups: [{ id: 'a-new', rules: [{ direction: 'ingress', ethertype: 'IPv4', remoteGroupId: 'm-g1' }] }] };
      const after = allocateConjIds([a, b, c].flatMap(conjKeysOf), before);
      for (const [k, base] of before) expect(after.get(k), k).to.equal(base);
      const flowsAfter = [...portFlowSpecs(a, after), ...portFlowSpecs(b, after)].map(formatSpec);
      expect(flowsAfter).to.deep.equal(flowsBefore.slice(0, flowsAfter.length));
      const memberAfter = networkMemberFlowSpecs(1, [a, b, c], members, after).map(formatSpec);
      // Per member: the offset-3 flows are unchanged, and one new pair at offset 0 carries c's block.
      const newBlock = after.get(conjKey('a-new', 'm-g1', 'ingress', 'IPv4'))!;
      expect(memberAfter.filter((l) => l.includes('priority=73'))).to.deep.equal(flowsBefore.filter((l) => l.includes('reg6=')));
      expect(memberAfter.filter((l) => l.includes('priority=70'))).to.deep.equal(
        ['10.0.0.5', '10.0.0.6'].flatMap((ip) => [
          `table=82, priority=70,ct_state=+est-rel-rpl,ip,reg6=0x1,nw_src=${ip} actions=conjunction(${newBlock},1/2)`,
          `table=82, priority=70,ct_state=+new-est,ip,reg6=0x1,nw_src=${ip} actions=conjunction(${newBlock + 1},1/2)`,
        ]),
      );
    });
    it('refuses a remote-group rule as a plain rule', () => {
      expect(() => ruleFlowSpecs(g1.rules[0], 2)).to.throw(/remote group m-g1 becomes conjunction flows/);
    });
  });
});
