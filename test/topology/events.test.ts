// The topology format: valid events are read, bad ones are rejected whole with the reason, and a
// rejected event leaves the model unchanged.
import { expect } from 'chai';
import { parseEventLine, TopologyError } from '../../lib/topology/events.js';
import { parseTopology, Topology } from '../../lib/topology/model.js';
import { TWO_HOSTS } from '../../testing/small-topology.js';

describe('topology events', () => {
  const bad: ReadonlyArray<readonly [string, RegExp]> = [
    ['{"type":"network","id":"n2","vni":0}', /"vni" must be an integer in 1\.\.16777215/],
    ['{"type":"network","id":"n2","vni":16777216}', /"vni" must be an integer in 1\.\.16777215/],
    ['{"type":"network","id":"n2","vni":"5"}', /"vni" must be an integer/],
    ['{"type":"port","id":"p2","network":"n1","host":"a","mac":"fa:16:3e:00:00"}', /"mac" must be a MAC address/],
    ['{"type":"port","id":"p2","network":"n1","host":"a","mac":"01:00:5e:00:00:01"}', /multicast MAC/],
    ['{"type":"port","id":"p2","network":"nope","host":"a","mac":"fa:16:3e:00:00:02"}', /unknown network nope/],
    ['{"type":"port","id":"p2","network":"n1","host":"zz","mac":"fa:16:3e:00:00:02"}', /unknown host zz/],
    ['{"type":"port","id":"p2","network":"n1","host":"a","mac":"fa:16:3e:00:00:01"}', /MAC fa:16:3e:00:00:01 is already port p1's/],
    ['{"type":"port","id":"p2","network":"n1","host":"a","mac":"fa:16:3e:00:00:02","fixedIps":["10.1.0.300"]}', /is not an IPv4 or IPv6 address/],
    ['{"type":"host","name":"c","tunnelIp":"10.0.0.1"}', /tunnel IP 10\.0\.0\.1 is already host a's/],
    ['{"type":"host","name":"c","tunnelIp":"fe80::1"}', /must be an IPv4 address/],
    ['{"type":"network","id":"n9","vni":1001}', /VNI 1001 is already network n1's/],
    ['{"type":"remove","kind":"network","id":"n1"}', /port p1 still uses it/],
    ['{"type":"remove","kind":"port","id":"ghost"}', /no such port/],
    ['{"type":"bogus"}', /"type" must be host, network, port, securityGroup or remove/],
    ['{"type":"host","name":"c","tunnelIp":"10.0.0.9","extra":1}', /unknown member "extra"/],
    ['{"type":"host","name":"c","tunnelIp":', /not JSON/],
    ['[1,2]', /must be a JSON object/],
    ['{"type":"port","id":"p2","network":"n1","host":"b","mac":"fa:16:3e:00:00:02","fixedIps":["10.1.0.1"]}', /fixed IP 10\.1\.0\.1 is already port p1's/],
    ['{"type":"port","id":"p2","network":"n1","host":"a","mac":"fa:16:3e:00:00:02","ofport":1}', /"ofport" must be an integer in 2\.\.65279/],
    ['{"type":"port","id":"p2","network":"n1","host":"a","mac":"fa:16:3e:00:00:02","fixedIps":["224.0.0.1"]}', /is multicast, not a host address/],
    ['{"type":"host","name":"c","tunnelIp":"127.0.0.1"}', /is loopback, not a tunnel endpoint/],
  ];
  for (const [line, why] of bad) {
    it(`rejects ${line}`, () => {
      const t = parseTopology(TWO_HOSTS);
      const before = JSON.stringify([...t.hosts, ...t.networks, ...t.ports]);
      expect(() => t.apply(parseEventLine(line))).to.throw(TopologyError, why);
      expect(JSON.stringify([...t.hosts, ...t.networks, ...t.ports])).to.equal(before);
    });
  }

  it('treats a replayed revision as harmless', () => {
    const t = new Topology();
    expect(t.apply(parseEventLine('{"type":"network","id":"n","vni":5,"rev":2}'))).to.equal(true);
    expect(t.apply(parseEventLine('{"type":"network","id":"n","vni":6,"rev":2}'))).to.equal(false);
    expect(t.networks.get('n')!.vni).to.equal(5);
    expect(t.apply(parseEventLine('{"type":"network","id":"n","vni":6,"rev":3}'))).to.equal(true);
  });

  it('names the hosts a change touches, and no other (the controller wakes only their agents)', () => {
    const t = new Topology();
    const touched = (line: string): string[] => {
      expect(t.apply(parseEventLine(line))).to.equal(true);
      return [...t.lastTouched].sort();
    };
    for (const h of ['a', 'b', 'c', 'd']) touched(`{"type":"host","name":"${h}","tunnelIp":"10.0.0.${h.charCodeAt(0)}"}`);
    touched('{"type":"network","id":"red","vni":1}');
    touched('{"type":"network","id":"blue","vni":2}');
    expect(touched('{"type":"port","id":"p1","network":"red","host":"a","mac":"fa:16:3e:00:00:01","fixedIps":[]}')).to.deep.equal(['a']);
    expect(touched('{"type":"port","id":"p2","network":"red","host":"b","mac":"fa:16:3e:00:00:02","fixedIps":[]}')).to.deep.equal(['a', 'b']);
    expect(touched('{"type":"port","id":"p3","network":"blue","host":"c","mac":"fa:16:3e:00:00:03","fixedIps":[]}')).to.deep.equal(['c']);
    // A port moving to another network and host: both networks' hosts and both hosts.
    expect(touched('{"type":"port","id":"p2","network":"blue","host":"d","mac":"fa:16:3e:00:00:02","fixedIps":[]}')).to.deep.equal(['a', 'b', 'c', 'd']);
    // A host's tunnel IP: the hosts it shares a network with.
    expect(touched('{"type":"host","name":"c","tunnelIp":"10.0.1.1"}')).to.deep.equal(['c', 'd']);
    expect(touched('{"type":"network","id":"blue","vni":3}')).to.deep.equal(['c', 'd']);
    expect(touched('{"type":"remove","kind":"port","id":"p3"}')).to.deep.equal(['c', 'd']);
    expect(touched('{"type":"remove","kind":"host","id":"c"}')).to.deep.equal(['c']);
    expect(touched('{"type":"host","name":"a","tunnelIp":"10.0.2.1"}')).to.deep.equal(['a']);
  });

  it('names the line of a bad event in a file', () => {
    expect(() => parseTopology(`${TWO_HOSTS}\n{"type":"network","id":"n2","vni":0}`, 'f.jsonl')).to.throw(TopologyError, /^f\.jsonl:5: /);
  });

});
