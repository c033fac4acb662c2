// Security groups in the topology (issue 16 point 1): the securityGroup event validated whole as
// Neutron's API validates a rule, ports naming groups, address-pair CIDRs, the model's refusals
// (all or nothing), the hosts a change touches, and a rejected line's freeze.
import { expect } from 'chai';
import { parseEventLine, SecurityGroupRule, TopologyError } from '../../lib/topology/events.js';
import { freezeFor } from '../../lib/topology/freeze.js';
import { parseTopology, Topology } from '../../lib/topology/model.js';
import { TopologyStore } from '../../lib/topology/store.js';

/** Hosts a, b, c; networks red and blue; groups web (TCP 22 from anywhere) and db (TCP 5432 from web and from db). */
const SG_BASE = [
  '{"type":"host","name":"a","tunnelIp":"10.9.0.1"}',
  '{"type":"host","name":"b","tunnelIp":"10.9.0.2"}',
  '{"type":"host","name":"c","tunnelIp":"10.9.0.3"}',
  '{"type":"network","id":"red","vni":1}',
  '{"type":"network","id":"blue","vni":2}',
  '{"type":"securityGroup","id":"web","rules":[{"direction":"ingress","ethertype":"IPv4","protocol":"tcp","portRangeMin":22,"portRangeMax":22,"remoteIpPrefix":"0.0.0.0/0"}]}',
  '{"type":"securityGroup","id":"db","rules":[{"direction":"ingress","ethertype":"IPv4","protocol":"tcp","portRangeMin":5432,"portRangeMax":5432,"remoteGroupId":"web"},'
    + '{"direction":"ingress","ethertype":"IPv4","protocol":"tcp","portRangeMin":5432,"portRangeMax":5432,"remoteGroupId":"db"}]}',
].join('\n');

const group = (rules: readonly unknown[], extra = ''): string => `{"type":"securityGroup","id":"g","rules":${JSON.stringify(rules)}${extra}}`;
const rule = (o: object): string => group([{ direction: 'ingress', ethertype: 'IPv4', ...o }]);
const port = (o: object): string => JSON.stringify({ type: 'port', id: 'p9', network: 'red', host: 'a', mac: 'fa:16:3e:00:00:09', ...o });

/** Everything the model holds that a rejected event must leave as it was. */
function stateOf(t: Topology): string {
  const groups = [...t.securityGroups.keys()].map((g) => [g, [...t.hostsInGroup(g)], [...t.portsInGroup(g)].map((p) => p.id), [...t.groupsNaming(g)]]);
  return JSON.stringify([t.version, [...t.hosts], [...t.networks], [...t.ports], [...t.securityGroups], groups]);
}

describe('security groups: events', () => {
  const bad: ReadonlyArray<readonly [string, RegExp]> = [
    [rule({ direction: 'in' }), /"rules\[0\]\.direction" must be ingress or egress/],
    [rule({ ethertype: 'ipv4' }), /"rules\[0\]\.ethertype" must be IPv4 or IPv6/],
    [rule({ protocol: 'tcpx' }), /"rules\[0\]\.protocol" "tcpx" must be a protocol name .* or a number in 0\.\.255/],
    [rule({ protocol: 256 }), /"rules\[0\]\.protocol" 256 must be a protocol name/],
    [rule({ protocol: 'TCP' }), /"rules\[0\]\.protocol" "TCP" must be a protocol name/],
    [rule({ protocol: 'icmpv6' }), /"rules\[0\]\.protocol" "icmpv6" is IPv6 only; the rule's ethertype is IPv4/],
    [rule({ protocol: 'ipv6-icmp' }), /"rules\[0\]\.protocol" "ipv6-icmp" is IPv6 only/],
    [rule({ protocol: 44 }), /"rules\[0\]\.protocol" 44 is IPv6 only/],
    [rule({ protocol: 'tcp', portRangeMin: 0, portRangeMax: 10 }), /"rules\[0\]\.portRangeMin" 0 must be a port in 1\.\.65535/],
    [rule({ protocol: 'udp', portRangeMin: 1, portRangeMax: 65536 }), /"rules\[0\]\.portRangeMax" 65536 must be a port in 1\.\.65535/],
    [rule({ protocol: 'tcp', portRangeMin: 81, portRangeMax: 80 }), /"rules\[0\]\.portRangeMax" 80 is below portRangeMin 81/],
    [rule({ protocol: 'tcp', portRangeMax: 80 }), /"rules\[0\]\.portRangeMax" needs portRangeMin/],
    [rule({ protocol: 'sctp', portRangeMin: 80 }), /"rules\[0\]\.portRangeMin" needs portRangeMax/],
    [rule({ protocol: 'tcp', portRangeMin: 8.5, portRangeMax: 9 }), /"rules\[0\]\.portRangeMin" must be an integer/],
    [rule({ portRangeMin: 22, portRangeMax: 22 }), /"rules\[0\]\.portRangeMin" needs a protocol/],
    [rule({ protocol: 'gre', portRangeMin: 1, portRangeMax: 2 }), /"rules\[0\]\.portRangeMin": protocol "gre" has no ports/],
    [rule({ protocol: 112, portRangeMax: 2 }), /"rules\[0\]\.portRangeMax": protocol 112 has no ports/],
    [rule({ protocol: 'icmp', portRangeMin: 256 }), /"rules\[0\]\.portRangeMin" 256 \(the ICMP type\) must be in 0\.\.255/],
    [rule({ protocol: 'icmp', portRangeMin: 8, portRangeMax: -1 }), /"rules\[0\]\.portRangeMax" -1 \(the ICMP code\) must be in 0\.\.255/],
    [rule({ protocol: 'icmp', portRangeMax: 0 }), /"rules\[0\]\.portRangeMax" \(the ICMP code\) needs portRangeMin \(the ICMP type\)/],
    [rule({ remoteIpPrefix: '2001:db8::/32' }), /"rules\[0\]\.remoteIpPrefix" 2001:db8::\/32 is an IPv6 prefix; the rule's ethertype is IPv4/],
    [group([{ direction: 'egress', ethertype: 'IPv6', remoteIpPrefix: '10.0.0.0/8' }]), /"rules\[0\]\.remoteIpPrefix" 10\.0\.0\.0\/8 is an IPv4 prefix; the rule's ethertype is IPv6/],
    [rule({ remoteIpPrefix: '10.0.0.0/33' }), /"rules\[0\]\.remoteIpPrefix" 10\.0\.0\.0\/33: the prefix length must be 0\.\.32/],
    [rule({ remoteIpPrefix: '10.0.0.0/08' }), /the prefix length must be 0\.\.32/],
    [rule({ remoteIpPrefix: '10.0.0/8' }), /"rules\[0\]\.remoteIpPrefix" "10\.0\.0\/8" is not an IPv4 or IPv6 address or CIDR/],
    [rule({ remoteIpPrefix: 10 }), /"rules\[0\]\.remoteIpPrefix" 10 is not an IPv4 or IPv6 address or CIDR/],
    [rule({ remoteIpPrefix: '10.0.0.0/8', remoteGroupId: 'web' }), /"rules\[0\]\.remoteGroupId": a rule has either remoteIpPrefix or remoteGroupId, not both/],
    [rule({ remoteGroupId: 'no such' }), /"rules\[0\]\.remoteGroupId" "no such" must be 1-63 letters/],
    [rule({ remote_ip_prefix: '10.0.0.0/8' }), /unknown member "rules\[0\]\.remote_ip_prefix"/],
    [group([{ direction: 'egress', ethertype: 'IPv4' }, 5]), /"rules\[1\]" must be an object/],
    [group([{ direction: 'egress', ethertype: 'IPv4' }, { direction: 'egress', ethertype: 'IPv4', protocol: null }]), /"rules\[1\]" repeats rules\[0\]/],
    [group([{ direction: 'ingress', ethertype: 'IPv4', remoteIpPrefix: '10.1.2.3/8' }, { direction: 'ingress', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8' }]), /"rules\[1\]" repeats rules\[0\]/],
    ['{"type":"securityGroup","id":"g","rules":{}}', /"rules" must be an array of rules/],
    ['{"type":"securityGroup","id":"g","rules":[],"stateful":"yes"}', /"stateful" must be true or false/],
    ['{"type":"securityGroup","id":"g","rules":[],"name":"x"}', /unknown member "name"/],
    ['{"type":"securityGroup","rules":[]}', /"id" must be a non-empty string/],
    [port({ securityGroups: 'web' }), /"securityGroups" must be an array of ids/],
    [port({ securityGroups: ['web', 'db', 'web'] }), /"securityGroups\[2\]" web repeats securityGroups\[0\]/],
    [port({ securityGroups: [''] }), /"securityGroups\[0\]" must be a non-empty string/],
    [port({ securityGroups: ['web'], portSecurity: false }), /"securityGroups" must be empty when "portSecurity" is false/],
    [port({ allowedAddressPairs: [{ ip: '10.0.0.0/40' }] }), /"allowedAddressPairs\[0\]\.ip" 10\.0\.0\.0\/40: the prefix length must be 0\.\.32/],
    [port({ allowedAddressPairs: [{ ip: 'fd00::/129' }] }), /"allowedAddressPairs\[0\]\.ip" fd00::\/129: the prefix length must be 0\.\.128/],
    [port({ allowedAddressPairs: [{ ip: '10.0.0/24' }] }), /"allowedAddressPairs\[0\]\.ip" "10\.0\.0\/24" is not an IPv4 or IPv6 address or CIDR/],
    ['{"type":"remove","kind":"group","id":"web"}', /"kind" must be host, network, port or securityGroup/],
    [group([], ',"memberIps":"10.0.0.5"'), /"memberIps" must be an array of addresses or CIDRs/],
    [group([], ',"memberIps":["10.0.0.5","10.0.0.6","10.0.0"]'), /"memberIps\[2\]" "10\.0\.0" is not an IPv4 or IPv6 address$/],
    [group([], ',"memberIps":["10.0.0.5",7]'), /"memberIps\[1\]" 7 is not an IPv4 or IPv6 address/],
    [group([], ',"memberIps":["10.0.0.0/33"]'), /"memberIps\[0\]" 10\.0\.0\.0\/33: the prefix length must be 0\.\.32/],
    [group([], ',"memberIps":["10.0.0.5","0.0.0.0/0"]'), /"memberIps\[1\]" 0\.0\.0\.0\/0 is any address: such a member needs its port's MAC .*which a member list does not give/],
    [group([], ',"memberIps":["10.1.2.3/0"]'), /"memberIps\[0\]" 0\.0\.0\.0\/0 is any address/],
    [group([], ',"memberIps":["::/0"]'), /"memberIps\[0\]" ::\/0 is any address/],
    [group([], ',"memberIps":["127.0.0.1"]'), /"memberIps\[0\]" 127\.0\.0\.1 is loopback, not a host address/],
    [group([], ',"memberIps":["224.0.0.5/32"]'), /"memberIps\[0\]" 224\.0\.0\.5 is multicast/],
    [group([], ',"memberIps":["10.0.0.5","10.0.0.6","10.0.0.5/32"]'), /"memberIps\[2\]" 10\.0\.0\.5\/32 \(10\.0\.0\.5\) repeats memberIps\[0\]/],
    [group([], ',"memberIps":["fd00::7","FD00:0::7"]'), /"memberIps\[1\]" FD00:0::7 \(fd00::7\) repeats memberIps\[0\]/],
    [group([], ',"memberIps":["10.0.1.0/24","10.0.1.9/24"]'), /"memberIps\[1\]" 10\.0\.1\.9\/24 \(10\.0\.1\.0\/24\) repeats memberIps\[0\]/],
    // The model's refusals.
    [port({ securityGroups: ['web', 'nope'] }), /port p9: unknown security group nope/],
    [rule({ remoteGroupId: 'nope' }), /security group g: rules\[0\]\.remoteGroupId names unknown security group nope/],
    ['{"type":"remove","kind":"securityGroup","id":"nope"}', /remove securityGroup nope: no such securityGroup/],
    ['{"type":"remove","kind":"securityGroup","id":"web"}', /remove securityGroup web: security group db names it as remote group/],
  ];
  for (const [line, why] of bad) {
    it(`rejects ${line}`, () => {
      const t = parseTopology(SG_BASE);
      const before = stateOf(t);
      expect(() => t.apply(parseEventLine(line))).to.throw(TopologyError, why);
      expect(stateOf(t)).to.equal(before);
    });
  }

  it('refuses to remove a group a port uses, naming the port; and changes nothing', () => {
    const t = parseTopology(`${SG_BASE}\n${port({ securityGroups: ['db'] })}`);
    const before = stateOf(t);
    expect(() => t.apply(parseEventLine('{"type":"remove","kind":"securityGroup","id":"db"}'))).to.throw(TopologyError, /remove securityGroup db: port p9 still uses it/);
    expect(stateOf(t)).to.equal(before);
    // Once the port leaves it, db (which names itself and web) goes; then web, no longer named, goes too.
    t.apply(parseEventLine(port({ securityGroups: [] })));
    t.apply(parseEventLine('{"type":"remove","kind":"securityGroup","id":"db"}'));
    t.apply(parseEventLine('{"type":"remove","kind":"securityGroup","id":"web"}'));
    expect([...t.securityGroups.keys()]).to.deep.equal([]);
    expect([...t.groupsNaming('web')]).to.deep.equal([]);
  });

  it('normalises as Neutron does: prefixes to host bits zero, a bare address to /32 or /128, ICMP on IPv6 to 58; defaults stateful to true', () => {
    const e = parseEventLine(group([
      { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80, remoteIpPrefix: '10.0.0.5/24' },
      { direction: 'ingress', ethertype: 'IPv4', protocol: 17, remoteIpPrefix: '192.168.1.7' },
      { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', portRangeMin: 128, remoteIpPrefix: '2001:DB8:0:0:1::5/64' },
      { direction: 'ingress', ethertype: 'IPv6', protocol: 1, remoteIpPrefix: 'fd00::1' },
      { direction: 'egress', ethertype: 'IPv6', protocol: 'icmpv6', portRangeMin: 135, portRangeMax: 0 },
      { direction: 'egress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null, remoteIpPrefix: null, remoteGroupId: null },
      { direction: 'egress', ethertype: 'IPv4', protocol: 'vrrp', remoteGroupId: 'g' },
    ]));
    expect(e).to.deep.equal({
      type: 'securityGroup', id: 'g', stateful: true, rules: [
        { direction: 'ingress', ethertype: 'IPv4', protocol: 6, portRangeMin: 80, portRangeMax: 80, remoteIpPrefix: '10.0.0.0/24' },
        { direction: 'ingress', ethertype: 'IPv4', protocol: 17, remoteIpPrefix: '192.168.1.7/32' },
        { direction: 'ingress', ethertype: 'IPv6', protocol: 58, portRangeMin: 128, remoteIpPrefix: '2001:db8::/64' },
        { direction: 'ingress', ethertype: 'IPv6', protocol: 58, remoteIpPrefix: 'fd00::1/128' },
        { direction: 'egress', ethertype: 'IPv6', protocol: 58, portRangeMin: 135, portRangeMax: 0 },
        { direction: 'egress', ethertype: 'IPv4' },
        { direction: 'egress', ethertype: 'IPv4', protocol: 112, remoteGroupId: 'g' },
      ] satisfies SecurityGroupRule[],
    });
    // stateful: false is kept (Neutron's OVS driver installs stateful flows anyway).
    expect(parseEventLine(group([], ',"stateful":false,"rev":3'))).to.deep.equal({ type: 'securityGroup', id: 'g', rules: [], stateful: false, rev: 3 });
  });

  it('reads address-pair CIDRs normalised (a full-length one is its address) and a port without groups as []', () => {
    const e = parseEventLine(port({ allowedAddressPairs: [{ ip: '10.0.0.130/25' }, { ip: '10.0.0.9/32' }, { ip: 'FD00:0:0:1::7/64', mac: 'fa:16:3e:aa:00:01' }, { ip: '10.0.0.44' }] }));
    expect(e).to.include({ portSecurity: true });
    expect(e.type === 'port' && e.allowedAddressPairs).to.deep.equal([
      { ip: '10.0.0.128/25' }, { ip: '10.0.0.9' }, { ip: 'fd00:0:0:1::/64', mac: 'fa:16:3e:aa:00:01' }, { ip: '10.0.0.44' },
    ]);
    expect(e.type === 'port' && e.securityGroups).to.deep.equal([]);
    // IPv6 addresses in their canonical text, fixed IPs too: one address, one spelling (members count once, MACs' and IPs' uniqueness holds).
    const v6 = parseEventLine(port({ fixedIps: ['FD00:0:0:0::7', '10.0.0.7'], allowedAddressPairs: [{ ip: 'fd00:0::8' }, { ip: 'FD00::9/128' }] }));
    expect(v6.type === 'port' && [v6.fixedIps, v6.allowedAddressPairs]).to.deep.equal([['fd00::7', '10.0.0.7'], [{ ip: 'fd00::8' }, { ip: 'fd00::9' }]]);
    const t = parseTopology(`${SG_BASE}\n${port({ fixedIps: ['fd00::7'] })}`);
    expect(() => t.apply(parseEventLine(port({ id: 'p10', mac: 'fa:16:3e:00:00:0a', fixedIps: ['FD00:0::7'] })))).to.throw(TopologyError, /fixed IP fd00::7 is already port p9's/);
    // A full-length pair is an address like any other: a multicast one is refused as before.
    expect(() => parseEventLine(port({ allowedAddressPairs: [{ ip: '224.0.0.5/32' }] }))).to.throw(TopologyError, /is multicast, not a host address/);
  });

  it('reads memberIps normalised as address pairs are, in numeric order; none given or [] is no member list', () => {
    const e = parseEventLine(group([], ',"memberIps":["10.0.0.9","10.0.0.5/32","FD00:0:0:1::7/64","FD00::7","10.1.2.3/24"]'));
    expect(e).to.deep.equal({ type: 'securityGroup', id: 'g', rules: [], stateful: true, memberIps: ['10.0.0.5', '10.0.0.9', '10.1.2.0/24', 'fd00::7', 'fd00:0:0:1::/64'] });
    expect(parseEventLine(group([], ',"memberIps":[]'))).to.deep.equal({ type: 'securityGroup', id: 'g', rules: [], stateful: true });
    expect(parseEventLine(group([]))).to.not.have.property('memberIps');
  });

  it('a group may name itself as remote group; a change applied twice with the same rev is a replay', () => {
    const t = parseTopology(SG_BASE);
    expect(t.apply(parseEventLine(rule({ remoteGroupId: 'g' }).replace('}]}', '}],"rev":1}')))).to.equal(true);
    expect([...t.groupsNaming('g')]).to.deep.equal(['g']);
    const v = t.version;
    expect(t.apply(parseEventLine(group([], ',"rev":1')))).to.equal(false);
    expect(t.version).to.equal(v);
    expect(t.securityGroups.get('g')!.rules).to.have.length(1);
  });
});

describe('security groups: the hosts a change touches', () => {
  // Host a: pw (web) in red; host b: pd (db) in red; host c: pc (no group) in blue, px (web) in blue.
  const topology = (): Topology => parseTopology([
    SG_BASE,
    '{"type":"port","id":"pw","network":"red","host":"a","mac":"fa:16:3e:00:00:01","fixedIps":["10.0.0.1"],"securityGroups":["web"]}',
    '{"type":"port","id":"pd","network":"red","host":"b","mac":"fa:16:3e:00:00:02","fixedIps":["10.0.0.2"],"securityGroups":["db"]}',
    '{"type":"port","id":"pc","network":"blue","host":"c","mac":"fa:16:3e:00:00:03","fixedIps":["10.1.0.3"]}',
  ].join('\n'));
  const touched = (t: Topology, line: string): string[] => {
    expect(t.apply(parseEventLine(line))).to.equal(true);
    return [...t.lastTouched].sort();
  };

  it('a group\'s change: the hosts with a port in it, and those with a port in a group naming it as remote', () => {
    const t = topology();
    // db's rules: only db's ports (b). web's: web's ports (a) and db's (b), whose rules name web.
    expect(touched(t, SG_BASE.split('\n')[6]!)).to.deep.equal(['b']);
    expect(touched(t, SG_BASE.split('\n')[5]!)).to.deep.equal(['a', 'b']);
    // A new group no port is in and no rule names touches no host.
    expect(touched(t, rule({}))).to.deep.equal([]);
  });

  it('a port\'s change also touches the hosts whose groups name its old or new groups as remote', () => {
    const t = topology();
    // pc (blue, c) joins web: c itself, and b (db names web); not a (web does not name web).
    expect(touched(t, '{"type":"port","id":"pc","network":"blue","host":"c","mac":"fa:16:3e:00:00:03","fixedIps":["10.1.0.3"],"securityGroups":["web"]}')).to.deep.equal(['b', 'c']);
    // pc moves from web to g (named by nobody): b still, as web lost a member.
    expect(touched(t, rule({}))).to.deep.equal([]);
    expect(touched(t, '{"type":"port","id":"pc","network":"blue","host":"c","mac":"fa:16:3e:00:00:03","fixedIps":["10.1.0.3"],"securityGroups":["g"]}')).to.deep.equal(['b', 'c']);
    // A port in g changing its address: no group names g, only its own host.
    expect(touched(t, '{"type":"port","id":"pc","network":"blue","host":"c","mac":"fa:16:3e:00:00:03","fixedIps":["10.1.0.4"],"securityGroups":["g"]}')).to.deep.equal(['c']);
    // Removing a web port: a (its host, and red's hosts a and b).
    expect(touched(t, '{"type":"remove","kind":"port","id":"pw"}')).to.deep.equal(['a', 'b']);
  });

  it('a change of memberIps touches the hosts of the group and of the groups naming it; members on no port touch the same', () => {
    const t = topology();
    // web's members (not its rules) change: a (a port in web) and b (db names web); c has no group.
    expect(touched(t, SG_BASE.split('\n')[5]!.replace(/}$/, ',"memberIps":["10.9.9.9"]}'))).to.deep.equal(['a', 'b']);
    // A group no port is in, named by g, whose port is on c: c alone.
    t.apply(parseEventLine('{"type":"securityGroup","id":"far","rules":[]}'));
    t.apply(parseEventLine(rule({ remoteGroupId: 'far' })));
    t.apply(parseEventLine('{"type":"port","id":"pc","network":"blue","host":"c","mac":"fa:16:3e:00:00:03","fixedIps":["10.1.0.3"],"securityGroups":["g"]}'));
    expect(touched(t, '{"type":"securityGroup","id":"far","rules":[],"memberIps":["10.8.0.1","10.8.0.2"]}')).to.deep.equal(['c']);
  });

  it('membersOf: its ports\' addresses and its memberIps, sorted, once each; a new object only when either changes', () => {
    const t = topology();
    const web = SG_BASE.split('\n')[5]!;
    const before = t.membersOf('web');
    expect(before).to.deep.equal({ v4: ['10.0.0.1'], v6: [] });
    // pw's 10.0.0.1 also in memberIps: once. A CIDR and IPv6 members join their families.
    t.apply(parseEventLine(web.replace(/}$/, ',"memberIps":["10.0.0.1","10.7.0.0/16","fd00::9","10.0.0.200"]}')));
    const m = t.membersOf('web');
    expect(m).to.deep.equal({ v4: ['10.0.0.1', '10.0.0.200', '10.7.0.0/16'], v6: ['fd00::9'] });
    // The same members with other rules: membersOf's object is kept (host state and member flows see no change).
    t.apply(parseEventLine(web.replace('"portRangeMax":22', '"portRangeMax":23').replace(/}$/, ',"memberIps":["fd00::9","10.0.0.200","10.7.0.0/16","10.0.0.1"]}')));
    expect(t.membersOf('web')).to.equal(m);
    // 10.0.0.1 leaves memberIps: still pw's.
    t.apply(parseEventLine(web.replace(/}$/, ',"memberIps":["10.7.0.0/16","fd00::9","10.0.0.200"]}')));
    expect(t.membersOf('web')).to.not.equal(m);
    expect(t.membersOf('web')).to.deep.equal(m);
    // pw leaves web: only memberIps' addresses; memberIps dropped: no member.
    t.apply(parseEventLine('{"type":"remove","kind":"port","id":"pw"}'));
    expect(t.membersOf('web')).to.deep.equal({ v4: ['10.0.0.200', '10.7.0.0/16'], v6: ['fd00::9'] });
    t.apply(parseEventLine(web));
    expect(t.membersOf('web')).to.deep.equal({ v4: [], v6: [] });
  });

  it('a clone keeps the group indexes and is independent of its original', () => {
    const t = topology();
    const c = t.clone();
    c.apply(parseEventLine('{"type":"remove","kind":"port","id":"pd"}'));
    c.apply(parseEventLine('{"type":"remove","kind":"port","id":"pw"}'));
    expect([...t.portsInGroup('db')].map((p) => p.id)).to.deep.equal(['pd']);
    expect([...c.portsInGroup('db')]).to.deep.equal([]);
    expect(() => t.apply(parseEventLine('{"type":"remove","kind":"securityGroup","id":"db"}'))).to.throw(TopologyError, /port pd still uses it/);
    expect(() => c.apply(parseEventLine('{"type":"remove","kind":"securityGroup","id":"web"}'))).to.throw(TopologyError, /security group db names it/);
    expect(t.membersOf('db')).to.deep.equal({ v4: ['10.0.0.2'], v6: [] });
    expect(c.membersOf('db')).to.deep.equal({ v4: [], v6: [] });
  });

  it('a rejected securityGroup line freezes the hosts the group concerns; an unknown group concerns none', () => {
    const t = topology();
    const f = freezeFor('x:1', 'bad', '{"type":"securityGroup","id":"web","rules":[{"direction":"sideways"}]}', t);
    expect([...(f.hosts as ReadonlySet<string>)].sort()).to.deep.equal(['a', 'b']);
    expect(f.names).to.deep.equal(['securityGroup:web']);
    const g = freezeFor('x:2', 'bad', '{"type":"securityGroup","id":"new","rules":5}', t);
    expect(g.hosts).to.be.instanceOf(Set).with.property('size', 0);
    const r = freezeFor('x:3', 'bad', '{"type":"remove","kind":"securityGroup","id":"db","x":1}', t);
    expect([...(r.hosts as ReadonlySet<string>)]).to.deep.equal(['b']);
    expect(r.names).to.deep.equal(['securityGroup:db']);
    // The group accepted again thaws them.
    const store = new TopologyStore(t);
    store.freeze([{ source: 'x', lineNo: 1, line: '{"type":"securityGroup","id":"web","rules":[{"direction":"sideways"}]}', error: 'bad' }]);
    expect(store.isFrozen('a')).to.equal(true);
    expect(store.applyLine(SG_BASE.split('\n')[5]!)).to.deep.equal({ ok: true, changed: true });
    expect(store.isFrozen('a')).to.equal(false);
  });

  it('the snapshot replays to the same topology, groups naming each other included', () => {
    const t = topology();
    // web now names db, which names web: neither can come first whole. Both have members beyond their ports.
    t.apply(parseEventLine('{"type":"securityGroup","id":"web","rules":[{"direction":"ingress","ethertype":"IPv4","remoteGroupId":"db"}],"memberIps":["10.5.0.1"],"rev":4}'));
    t.apply(parseEventLine(SG_BASE.split('\n')[6]!.replace(/}$/, ',"memberIps":["10.5.0.2","fd00::/64"]}')));
    const snap = new TopologyStore(t).snapshot();
    const back = parseTopology(snap);
    expect([...back.securityGroups]).to.deep.equal([...t.securityGroups]);
    expect([...back.ports]).to.deep.equal([...t.ports]);
    expect([...back.groupsNaming('web')].sort()).to.deep.equal(['db']);
    expect([...back.groupsNaming('db')].sort()).to.deep.equal(['db', 'web']);
    expect(back.membersOf('web')).to.deep.equal({ v4: ['10.0.0.1', '10.5.0.1'], v6: [] });
    expect(back.membersOf('db')).to.deep.equal({ v4: ['10.0.0.2', '10.5.0.2'], v6: ['fd00::/64'] });
  });
});
