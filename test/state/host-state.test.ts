// Host state derived from the topology: local VLANs, tunnel ofports, plugged ports, VLAN exhaustion,
// and the previous state's objects handed back for what did not change.
import { expect } from 'chai';
import { parseEventLine } from '../../lib/topology/events.js';
import { parseTopology, Topology } from '../../lib/topology/model.js';
import { deriveHostState } from '../../lib/state/host-state.js';
import { TWO_HOSTS } from '../../testing/small-topology.js';

describe('host state', () => {
  it('gives a new tunnel the lowest ofport no tunnel holds, not one taken by a tunnel OVS numbered', () => {
    const t = new Topology();
    for (const l of [
      '{"type":"host","name":"me","tunnelIp":"10.0.0.9"}', '{"type":"host","name":"a","tunnelIp":"10.0.0.1"}',
      '{"type":"host","name":"b","tunnelIp":"10.0.0.2"}', '{"type":"host","name":"c","tunnelIp":"10.0.0.3"}',
      '{"type":"network","id":"red","vni":1}',
      ...['me', 'a', 'b', 'c'].map((h, i) => `{"type":"port","id":"p${h}","network":"red","host":"${h}","mac":"fa:16:3e:00:00:0${i}","fixedIps":[],"ofport":2}`),
    ]) t.apply(parseEventLine(l));
    // OVS numbered a's and c's tunnels 2 and 3 before b (between them by IP) appeared; a stale one holds 4.
    const ofports = new Map([['vxlan-0a000001', 2], ['vxlan-0a000003', 3], ['vxlan-0a000063', 4]]);
    const s = deriveHostState(t, 'me', { ofports, plugged: new Map([['pme', 2]]) });
    expect(s.tunnels.map((tu) => [tu.portName, tu.ofport])).to.deep.equal([['vxlan-0a000001', 2], ['vxlan-0a000002', 5], ['vxlan-0a000003', 3]]);
    // Without OVSDB (render): numbered by IP from 2.
    expect(deriveHostState(t, 'me').tunnels.map((tu) => tu.ofport)).to.deep.equal([2, 3, 4]);
  });

  it('reports VLAN exhaustion for the network that cannot get one, and serves all others', () => {
    const t = new Topology();
    t.apply(parseEventLine('{"type":"host","name":"a","tunnelIp":"10.0.0.1"}'));
    for (let n = 0; n < 4095; n++) {
      t.apply({ type: 'network', id: `n${n}`, vni: n + 1 });
      t.apply({ type: 'port', id: `p${n}`, network: `n${n}`, host: 'a', mac: `fa:16:3e:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`, fixedIps: [], allowedAddressPairs: [], portSecurity: true, securityGroups: [], ofport: n + 2 });
    }
    const s = deriveHostState(t, 'a');
    expect(s.networks).to.have.length(4094);
    expect(s.errors).to.deep.equal(['network n4094: no free local VLAN on host a (all of 1..4094 in use)']);
    expect(s.localPorts.find((p) => p.id === 'p4094')).to.equal(undefined);
  });

  it('derives VLANs, tunnels and ofports deterministically', () => {
    const t = parseTopology(`${TWO_HOSTS}\n{"type":"port","id":"p9","network":"n1","host":"b","mac":"fa:16:3e:00:00:09"}`);
    const plugged = new Map([['p1', 5]]);
    const s = deriveHostState(t, 'a', { plugged });
    expect(s.networks).to.deep.equal([{ id: 'n1', vni: 1001, vlan: 1 }]);
    expect(s.tunnels).to.deep.equal([{ host: 'b', remoteIp: '10.0.0.2', portName: 'vxlan-0a000002', ofport: 2 }]);
    expect(s.localPorts.map((p) => p.ofport)).to.deep.equal([5]);
    // A VLAN read back from OVSDB after a restart is kept.
    expect(deriveHostState(t, 'a', { vlanHints: new Map([['n1', 7]]), plugged }).networks[0]!.vlan).to.equal(7);
  });

  it('provisions only plugged local ports: no guessed ofport, and no VLAN for a network without one', () => {
    const t = parseTopology([
      TWO_HOSTS, // p1 in n1 on a, no ofport
      '{"type":"network","id":"n2","vni":1002}',
      '{"type":"port","id":"p2","network":"n2","host":"a","mac":"fa:16:3e:00:00:02","ofport":4}',
      '{"type":"port","id":"p3","network":"n2","host":"a","mac":"fa:16:3e:00:00:03"}',
      '{"type":"port","id":"p9","network":"n1","host":"b","mac":"fa:16:3e:00:00:09"}',
    ].join('\n'));
    // Offline: the topology's ofport says plugged. n1 (p1 unplugged) has no VLAN, tunnel or remote ports.
    const off = deriveHostState(t, 'a');
    expect(off.localPorts.map((p) => [p.id, p.ofport, p.vlan])).to.deep.equal([['p2', 4, 1]]);
    expect(off.networks.map((n) => n.id)).to.deep.equal(['n2']);
    expect([off.tunnels, off.remotePorts]).to.deep.equal([[], []]);
    // Live: OVSDB alone says it; the topology's ofport is not taken for a fact.
    const live = deriveHostState(t, 'a', { plugged: new Map([['p1', 7], ['p3', 2]]) });
    expect(live.localPorts.map((p) => [p.id, p.ofport, p.vlan])).to.deep.equal([['p1', 7, 1], ['p3', 2, 2]]);
    expect(live.tunnels.map((tu) => tu.host)).to.deep.equal(['b']);
    expect(deriveHostState(t, 'a', { plugged: new Map() }).networks).to.deep.equal([]);
    // A network keeps its VLAN while a plugged port stays (the agent hands its VLANs back as hints).
    const hints = new Map(live.networks.map((n) => [n.id, n.vlan]));
    const p1gone = deriveHostState(t, 'a', { plugged: new Map([['p3', 2]]), vlanHints: hints });
    expect(p1gone.networks).to.deep.equal([{ id: 'n2', vni: 1002, vlan: 2 }]);
    expect(p1gone.localPorts.map((p) => p.id)).to.deep.equal(['p3']);
  });

  it('holds a remote port only while its host has it plugged, and keeps all ports of a host it knows nothing of', () => {
    const t = parseTopology([
      TWO_HOSTS,
      '{"type":"host","name":"c","tunnelIp":"10.0.0.3"}',
      '{"type":"port","id":"b1","network":"n1","host":"b","mac":"fa:16:3e:00:00:b1"}',
      '{"type":"port","id":"b2","network":"n1","host":"b","mac":"fa:16:3e:00:00:b2"}',
      '{"type":"port","id":"c1","network":"n1","host":"c","mac":"fa:16:3e:00:00:c1"}',
    ].join('\n'));
    const plugged = new Map([['p1', 3]]);
    const remote = (on: Record<string, string[]>) => (h: string): ReadonlySet<string> | undefined => (on[h] ? new Set(on[h]) : undefined);
    const ids = (s: ReturnType<typeof deriveHostState>): string[][] => [s.remotePorts.map((r) => r.port.id), s.tunnels.map((tu) => tu.host)];
    // Nothing known of b and c (offline, or not reached yet): all their ports.
    expect(ids(deriveHostState(t, 'a', { plugged }))).to.deep.equal([['b1', 'b2', 'c1'], ['b', 'c']]);
    expect(ids(deriveHostState(t, 'a', { plugged, remotePlugged: remote({}) }))).to.deep.equal([['b1', 'b2', 'c1'], ['b', 'c']]);
    // b has b2 plugged (and a port the topology does not name): b1 goes; c unknown keeps c1.
    expect(ids(deriveHostState(t, 'a', { plugged, remotePlugged: remote({ b: ['b2', 'x'] }) }))).to.deep.equal([['b2', 'c1'], ['b', 'c']]);
    // c has nothing plugged: its last port gone, its tunnel goes with it. A port of a plugged on b counts for nothing.
    const s = deriveHostState(t, 'a', { plugged, remotePlugged: remote({ b: ['b1', 'p1'], c: [] }) });
    expect(ids(s)).to.deep.equal([['b1'], ['b']]);
    expect(s.tunnels[0]!.ofport).to.equal(2);
  });

  it('hands back the previous state\'s objects for what is unchanged, and the whole state when nothing is', () => {
    const t = new Topology();
    for (const l of [
      '{"type":"host","name":"me","tunnelIp":"10.0.0.9"}', '{"type":"host","name":"a","tunnelIp":"10.0.0.1"}',
      '{"type":"host","name":"b","tunnelIp":"10.0.0.2"}', '{"type":"network","id":"red","vni":1}', '{"type":"network","id":"blue","vni":2}',
      '{"type":"port","id":"m1","network":"red","host":"me","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
      '{"type":"port","id":"m2","network":"blue","host":"me","mac":"fa:16:3e:00:00:02","fixedIps":["10.2.0.1"]}',
      '{"type":"port","id":"a1","network":"red","host":"a","mac":"fa:16:3e:00:00:03","fixedIps":["10.1.0.2"]}',
    ]) t.apply(parseEventLine(l));
    const plugged = new Map([['m1', 2], ['m2', 3]]);
    const s1 = deriveHostState(t, 'me', { plugged });
    expect(s1.localPorts).to.have.length(2);
    // Nothing changed (e.g. an OVSDB update that moved no ofport): the same object.
    expect(deriveHostState(t, 'me', { plugged, previous: s1 })).to.equal(s1);
    // b gets a port in blue: a new tunnel and remote port; red's tunnel, port and network stay the same objects.
    t.apply(parseEventLine('{"type":"port","id":"b1","network":"blue","host":"b","mac":"fa:16:3e:00:00:04","fixedIps":["10.2.0.2"]}'));
    const s2 = deriveHostState(t, 'me', { plugged, previous: s1 });
    expect(s2).to.not.equal(s1);
    expect(s2).to.deep.equal(deriveHostState(t, 'me', { plugged }));
    expect(s2.networks).to.equal(s1.networks);
    expect(s2.localPorts).to.equal(s1.localPorts);
    expect(s2.tunnels[0]).to.equal(s1.tunnels[0]);
    expect(s2.remotePorts.find((r) => r.port.id === 'a1')).to.equal(s1.remotePorts.find((r) => r.port.id === 'a1'));
    // A port replugged at another ofport: that local port (only) is new.
    const replugged = new Map([['m1', 2], ['m2', 9]]);
    const s3 = deriveHostState(t, 'me', { previous: s2, plugged: replugged });
    expect(s3.localPorts.map((p) => p.ofport)).to.deep.equal([2, 9]);
    expect(s3.localPorts[0]).to.equal(s2.localPorts[0]);
    expect(s3).to.deep.equal(deriveHostState(t, 'me', { plugged: replugged }));
    // A port replaced by a new version (same id, new MAC) is not confused with the old one.
    t.apply(parseEventLine('{"type":"port","id":"a1","network":"red","host":"a","mac":"fa:16:3e:00:00:05","fixedIps":["10.1.0.2"]}'));
    const s4 = deriveHostState(t, 'me', { previous: s3, plugged: replugged });
    expect(s4.remotePorts.find((r) => r.port.id === 'a1')!.port.mac).to.equal('fa:16:3e:00:00:05');
    expect(s4).to.deep.equal(deriveHostState(t, 'me', { plugged: replugged }));
    // Another host's state is not taken for this one's.
    expect(deriveHostState(t, 'a', { previous: s4, plugged: new Map([['a1', 2]]) })).to.deep.equal(deriveHostState(t, 'a', { plugged: new Map([['a1', 2]]) }));
  });
  it('keeps each network\'s remote ports as one array while unchanged, and remotePorts as those lists end to end', () => {
    const t = new Topology();
    for (const l of [
      '{"type":"host","name":"me","tunnelIp":"10.0.0.9"}', '{"type":"host","name":"a","tunnelIp":"10.0.0.1"}',
      '{"type":"host","name":"b","tunnelIp":"10.0.0.2"}', '{"type":"network","id":"red","vni":1}', '{"type":"network","id":"blue","vni":2}',
      '{"type":"port","id":"m1","network":"red","host":"me","mac":"fa:16:3e:00:00:01","ofport":2}',
      '{"type":"port","id":"m2","network":"blue","host":"me","mac":"fa:16:3e:00:00:02","ofport":3}',
      '{"type":"port","id":"a1","network":"red","host":"a","mac":"fa:16:3e:00:00:03"}',
      '{"type":"port","id":"b1","network":"blue","host":"b","mac":"fa:16:3e:00:00:04"}',
      '{"type":"port","id":"b2","network":"blue","host":"b","mac":"fa:16:3e:00:00:05"}',
    ]) t.apply(parseEventLine(l));
    const ids = (s: ReturnType<typeof deriveHostState>): string[][] => s.remotePortsByNetwork.map((l) => l.map((r) => r.port.id));
    t.apply(parseEventLine('{"type":"network","id":"green","vni":3}'));
    t.apply(parseEventLine('{"type":"host","name":"c","tunnelIp":"10.0.0.3"}'));
    t.apply(parseEventLine('{"type":"port","id":"c1","network":"green","host":"c","mac":"fa:16:3e:00:00:07"}'));
    const plugged = new Map([['b', new Set(['b1', 'b2'])]]);
    // Only the hosts sharing a network are asked (c is not: a controller may read each one's OVSDB view).
    const asked = new Set<string>();
    const remotePlugged = (h: string): ReadonlySet<string> | undefined => {
      asked.add(h);
      return plugged.get(h);
    };
    const s1 = deriveHostState(t, 'me', { remotePlugged });
    expect([...asked].sort()).to.deep.equal(['a', 'b']);
    expect(s1.networks.map((n) => n.id)).to.deep.equal(['red', 'blue']);
    expect(ids(s1)).to.deep.equal([['a1'], ['b1', 'b2']]);
    expect(s1.remotePorts).to.deep.equal(s1.remotePortsByNetwork.flat());
    // a1 gets a new MAC: red's list is new, blue's the same array; remotePorts follows.
    t.apply(parseEventLine('{"type":"port","id":"a1","network":"red","host":"a","mac":"fa:16:3e:00:00:06"}'));
    const s2 = deriveHostState(t, 'me', { remotePlugged, previous: s1 });
    expect(s2.remotePortsByNetwork[1]).to.equal(s1.remotePortsByNetwork[1]);
    expect(s2.remotePortsByNetwork[0]).to.not.equal(s1.remotePortsByNetwork[0]);
    expect(s2.remotePorts.map((r) => r.port.mac)).to.deep.equal(['fa:16:3e:00:00:06', 'fa:16:3e:00:00:04', 'fa:16:3e:00:00:05']);
    expect(s2.remotePorts[1]).to.equal(s1.remotePorts[1]);
    // b's plugged set replaced by an equal one: nothing changed, the very same state.
    plugged.set('b', new Set(['b1', 'b2']));
    expect(deriveHostState(t, 'me', { remotePlugged, previous: s2 })).to.equal(s2);
    // b unplugs b2: blue's list loses it (its b1 entry the same object), red's stays the same array.
    plugged.set('b', new Set(['b1']));
    const s3 = deriveHostState(t, 'me', { remotePlugged, previous: s2 });
    expect(ids(s3)).to.deep.equal([['a1'], ['b1']]);
    expect(s3.remotePortsByNetwork[0]).to.equal(s2.remotePortsByNetwork[0]);
    expect(s3.remotePortsByNetwork[1]![0]).to.equal(s2.remotePortsByNetwork[1]![0]);
    expect(s3).to.deep.equal(deriveHostState(t, 'me', { remotePlugged }));
  });
});
