// HostState.firewall (issue 16): the security groups a host's protected ports need and the members of
// the groups their rules name as remote, against Neutron's own view of the two examples
// (fixtures/neutron-examples/sg-*/firewall.json), and handed back by identity when unchanged.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { deriveHostState, HostState, isProtected } from '../../lib/state/host-state.js';
import { parseEventLine } from '../../lib/topology/events.js';
import { parseTopology, readTopology, SecurityGroup } from '../../lib/topology/model.js';
import { FIXTURES } from '../../testing/golden-cases.js';

interface NeutronView {
  readonly ports: Record<string, { readonly fixed_ips: string[]; readonly mac: string; readonly ofport: number; readonly security_groups: string[]; readonly 'vlan_tag (ct zone, reg6)': number }>;
  readonly security_groups: Record<string, {
    readonly id: string;
    readonly members: { readonly IPv4?: [string, string][]; readonly IPv6?: [string, string][] };
    readonly ports: string[];
    readonly raw_rules: object[];
    readonly remote_rules: object[];
  }>;
  readonly unfiltered_ports: Record<string, { readonly ofport: number; readonly vlan_tag: number }>;
}

/** Our rule in the words of Neutron's firewall (its SG-agent RPC form: the remote prefix as source or dest). */
function neutronRule(r: SecurityGroup['rules'][number]): object {
  return {
    direction: r.direction, ethertype: r.ethertype, stateful: true,
    ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
    ...(r.portRangeMin !== undefined ? { port_range_min: r.portRangeMin } : {}),
    ...(r.portRangeMax !== undefined ? { port_range_max: r.portRangeMax } : {}),
    ...(r.remoteIpPrefix !== undefined ? { [r.direction === 'ingress' ? 'source_ip_prefix' : 'dest_ip_prefix']: r.remoteIpPrefix } : {}),
    ...(r.remoteGroupId !== undefined ? { remote_group_id: r.remoteGroupId } : {}),
  };
}

const canon = (xs: readonly object[]): string[] => xs.map((x) => JSON.stringify(Object.entries(x).sort())).sort();

describe('host state: the firewall view', () => {
  for (const example of ['sg-small', 'sg-remote-group']) {
    it(`equals Neutron's own view of ${example} (ports, groups, rules, members)`, () => {
      const view = JSON.parse(readFileSync(`${FIXTURES}neutron-examples/${example}/firewall.json`, 'utf8')) as NeutronView;
      const s = deriveHostState(readTopology(`${FIXTURES}topologies/neutron-${example}.jsonl`), 'compute');
      const fw = s.firewall!;
      const byName = new Map(Object.entries(view.security_groups).map(([n, g]) => [n, g.id]));
      // Filtered ports: the plugged ones with port security in a group; the others unfiltered.
      const filtered = s.localPorts.filter((p) => isProtected(p) && p.securityGroups.length > 0);
      expect(filtered.map((p) => p.id).sort()).to.deep.equal(Object.keys(view.ports).sort());
      for (const p of filtered) {
        const n = view.ports[p.id]!;
        expect({ mac: p.mac, ofport: p.ofport, vlan: p.vlan, ips: p.fixedIps, groups: p.securityGroups })
          .to.deep.equal({ mac: n.mac, ofport: n.ofport, vlan: n['vlan_tag (ct zone, reg6)'], ips: n.fixed_ips, groups: n.security_groups.map((g) => byName.get(g)) });
      }
      const unfiltered = s.localPorts.filter((p) => !filtered.includes(p));
      expect(unfiltered.map((p) => [p.id, p.ofport, p.vlan])).to.deep.equal(Object.entries(view.unfiltered_ports).map(([id, u]) => [id, u.ofport, u.vlan_tag]));
      // Groups: Neutron's, with their rules, and the members of each group named as remote.
      expect([...fw.groups.keys()].sort()).to.deep.equal([...byName.values()].sort());
      for (const g of Object.values(view.security_groups)) {
        expect(canon(fw.groups.get(g.id)!.rules.map(neutronRule)), g.id).to.deep.equal(canon([...g.raw_rules, ...g.remote_rules]));
        expect(filtered.filter((p) => p.securityGroups.includes(g.id)).map((p) => p.id).sort()).to.deep.equal([...g.ports].sort());
        const members = fw.members.get(g.id) ?? { v4: [], v6: [] };
        expect([...members.v4].sort(), `${g.id} IPv4 members`).to.deep.equal((g.members.IPv4 ?? []).map(([ip]) => ip).sort());
        expect([...members.v6].sort(), `${g.id} IPv6 members`).to.deep.equal((g.members.IPv6 ?? []).map(([ip]) => ip).sort());
      }
      expect(fw.members.size).to.equal(example === 'sg-small' ? 0 : 2);
    });
  }

  // Host a: pa (web) in red. web admits db; db's members are on hosts b and c.
  const base = (): string => [
    '{"type":"host","name":"a","tunnelIp":"10.9.0.1"}',
    '{"type":"host","name":"b","tunnelIp":"10.9.0.2"}',
    '{"type":"host","name":"c","tunnelIp":"10.9.0.3"}',
    '{"type":"network","id":"red","vni":1}',
    '{"type":"network","id":"blue","vni":2}',
    '{"type":"securityGroup","id":"db","rules":[{"direction":"egress","ethertype":"IPv4"}]}',
    '{"type":"securityGroup","id":"web","rules":[{"direction":"ingress","ethertype":"IPv4","protocol":"tcp","portRangeMin":5432,"portRangeMax":5432,"remoteGroupId":"db"},'
      + '{"direction":"ingress","ethertype":"IPv6","protocol":"tcp","portRangeMin":5432,"portRangeMax":5432,"remoteGroupId":"db"}]}',
    '{"type":"port","id":"pa","network":"red","host":"a","mac":"fa:16:3e:00:00:01","fixedIps":["10.0.0.1"],"securityGroups":["web"],"ofport":2}',
    '{"type":"port","id":"pb","network":"red","host":"b","mac":"fa:16:3e:00:00:02","fixedIps":["10.0.0.20","fd00::20"],'
      + '"allowedAddressPairs":[{"ip":"10.0.0.128/25"},{"ip":"10.0.0.20"},{"ip":"fd00:0:0:1::/64"}],"securityGroups":["db"],"ofport":2}',
    // c's db port is in a network a does not have (blue), and not plugged: a member all the same.
    '{"type":"port","id":"pc","network":"blue","host":"c","mac":"fa:16:3e:00:00:03","fixedIps":["10.1.0.3","10.0.0.9"],"securityGroups":["db"]}',
  ].join('\n');

  it('members: every port of a remote group on every host, plugged or not, v4/v6 split, sorted numerically, once each', () => {
    const t = parseTopology(base());
    const s = deriveHostState(t, 'a', { remotePlugged: (h) => (h === 'c' ? new Set() : undefined) });
    expect([...s.firewall!.groups.keys()]).to.deep.equal(['db', 'web']);
    expect(s.firewall!.groups.get('web')).to.equal(t.securityGroups.get('web'));
    expect([...s.firewall!.members.keys()]).to.deep.equal(['db']);
    expect(s.firewall!.members.get('db')).to.deep.equal({ v4: ['10.0.0.9', '10.0.0.20', '10.0.0.128/25', '10.1.0.3'], v6: ['fd00::20', 'fd00:0:0:1::/64'] });
    // Host b: pb is in db, whose rules name no group: its group, no members.
    const b = deriveHostState(t, 'b');
    expect([...b.firewall!.groups.keys()]).to.deep.equal(['db']);
    expect(b.firewall!.members.size).to.equal(0);
  });

  it('no firewall without a plugged local port with port security, not Neutron\'s own, in a group', () => {
    const t = parseTopology(base());
    expect(deriveHostState(t, 'a', { plugged: new Map() }).firewall).to.equal(undefined);
    expect(deriveHostState(t, 'c').firewall).to.equal(undefined); // pc is not plugged
    expect(deriveHostState(t, 'c', { plugged: new Map([['pc', 5]]) }).firewall).to.not.equal(undefined);
    // Neutron's own ports (network:*) are trusted: no firewall, though in a group (and members of it).
    t.apply(parseEventLine('{"type":"port","id":"pa","network":"red","host":"a","mac":"fa:16:3e:00:00:01","fixedIps":["10.0.0.1"],"securityGroups":["web"],"deviceOwner":"network:router_interface","ofport":2}'));
    expect(deriveHostState(t, 'a').firewall).to.equal(undefined);
    expect(t.membersOf('web').v4).to.deep.equal(['10.0.0.1']);
    t.apply(parseEventLine('{"type":"port","id":"pa","network":"red","host":"a","mac":"fa:16:3e:00:00:01","fixedIps":["10.0.0.1"],"portSecurity":false,"ofport":2}'));
    expect(deriveHostState(t, 'a').firewall).to.equal(undefined);
    expect(deriveHostState(t, 'a').localPorts).to.have.length(1);
  });

  it('hands back the same objects when nothing it holds changed, and the unchanged parts when something did', () => {
    const t = parseTopology(base());
    const s1 = deriveHostState(t, 'a');
    // An unrelated change (a port of c in blue, in no group): the whole state is the same object.
    t.apply(parseEventLine('{"type":"port","id":"pz","network":"blue","host":"c","mac":"fa:16:3e:00:00:09","fixedIps":["10.1.0.9"]}'));
    expect(deriveHostState(t, 'a', { previous: s1 })).to.equal(s1);
    // A change to a group a's rules do not name (a new group) leaves it too.
    t.apply(parseEventLine('{"type":"securityGroup","id":"other","rules":[]}'));
    expect(deriveHostState(t, 'a', { previous: s1 })).to.equal(s1);
    // A member joins db (on c): the members change; the groups map and the rest are the same objects.
    t.apply(parseEventLine('{"type":"port","id":"pz","network":"blue","host":"c","mac":"fa:16:3e:00:00:09","fixedIps":["10.1.0.9"],"securityGroups":["db"]}'));
    const s2: HostState = deriveHostState(t, 'a', { previous: s1 });
    expect(s2).to.not.equal(s1);
    expect(s2.firewall!.groups).to.equal(s1.firewall!.groups);
    expect(s2.localPorts).to.equal(s1.localPorts);
    expect(s2.firewall!.members.get('db')!.v4).to.include('10.1.0.9');
    // The same members object serves every host (computed once per change of the group).
    expect(deriveHostState(t, 'b').firewall!.members.get('db')).to.equal(undefined);
    t.apply(parseEventLine('{"type":"port","id":"pb2","network":"red","host":"b","mac":"fa:16:3e:00:00:12","fixedIps":["10.0.0.12"],"securityGroups":["web"],"ofport":3}'));
    expect(deriveHostState(t, 'b').firewall!.members.get('db')).to.equal(deriveHostState(t, 'a').firewall!.members.get('db'));
    // A rule of web changes: a's groups map is new, web's entry is the new group.
    t.apply(parseEventLine('{"type":"securityGroup","id":"web","rules":[{"direction":"ingress","ethertype":"IPv4","protocol":"tcp","portRangeMin":5432,"portRangeMax":5432,"remoteGroupId":"db"}]}'));
    const s3 = deriveHostState(t, 'a', { previous: s2 });
    expect(s3.firewall!.groups).to.not.equal(s2.firewall!.groups);
    expect(s3.firewall!.groups.get('db')).to.equal(s2.firewall!.groups.get('db'));
    expect(s3.firewall!.members).to.equal(s2.firewall!.members);
  });
});
