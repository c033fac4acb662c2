// deriveHostState handed its previous state reuses what that state was derived from (per network,
// per local port, per group): over random sequences of topology events and OVSDB views (plugged
// ports here and on other hosts, VLAN hints, tunnel ofports), on a mid-size topology, the state it
// returns equals a fresh derivation, and every part that is unchanged is the previous state's object.
import { expect } from 'chai';
import fc from 'fast-check';
import { deriveHostState, HostState, HostStateOptions } from '../../lib/state/host-state.js';
import { parseEventLine, TopologyError, TopologyEvent } from '../../lib/topology/events.js';
import { parseTopology, Port, Topology } from '../../lib/topology/model.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { flowLine, pipelineDesired, renderPipeline, renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';

const HOSTS = ['me', 'h1', 'h2', 'h3', 'h4', 'h5'];
const NETWORKS = 6;
const PORT_IDS = 30;
const GROUPS = 3;

/** br-tun rendered with l2pop (each network's flows follow its remote ports) and without (its flood list follows every tunnel). */
const RENDERS = [pipelineOptions({ l2pop: true, arpResponder: true }), pipelineOptions({ l2pop: false })];

const hex = (n: number): string => n.toString(16).padStart(2, '0');
const tcp = (port: number, remote?: string): object =>
  ({ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: port, portRangeMax: port, ...(remote ? { remoteGroupId: remote } : {}) });
/** Rule sets a group may take: plain rules, remote groups (itself, the others), IPv6. */
const RULE_SETS = (g: number): object[][] => [
  [{ direction: 'egress', ethertype: 'IPv4' }],
  [tcp(22), tcp(5432, `g${g}`)],
  [tcp(80, `g${(g + 1) % GROUPS}`), { direction: 'ingress', ethertype: 'IPv6', protocol: 'tcp', portRangeMin: 443, portRangeMax: 443, remoteGroupId: `g${(g + 2) % GROUPS}` }],
  [tcp(8080, `g${(g + 1) % GROUPS}`), tcp(8081, `g${g}`), { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' }],
];

/** One step: a topology event (or none, or the topology cloned) and the OVSDB view of the pass after it. */
interface Step {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  /** Local ports plugged (bit i: port i of `me`), or -1: offline (the topology's ofports). */
  readonly plugged: number;
  /** Per remote host: 0 keep its plugged set, 1 a new set (bits of `e`), 2 nothing known. */
  readonly remote: readonly number[];
  readonly e: number;
  /** 0 no VLAN hints, 1 the previous state's (as the agent), 2 arbitrary (possibly clashing) ones. */
  readonly hints: number;
  /** 0 no ofports, else some tunnels numbered by OVS. */
  readonly ofports: number;
  /** Also derive a throwaway state from the same previous state first (the memos must not be disturbed). */
  readonly branch: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.nat(9), a: fc.nat(), b: fc.nat(), c: fc.nat(), d: fc.nat(),
  plugged: fc.oneof(fc.constant(-1), fc.nat()), remote: fc.array(fc.nat(2), { minLength: 5, maxLength: 5 }), e: fc.nat(),
  hints: fc.nat(2), ofports: fc.nat(3), branch: fc.boolean(),
});

const MEMBER_IPS = ['10.0.0.10', '10.5.0.1', '10.1.3.0/24', 'fd00::11', 'fd00::/64'];

function portEvent(idx: number, b: number, c: number, d: number): TopologyEvent {
  const host = HOSTS[b % HOSTS.length]!;
  const net = c % NETWORKS;
  const groups = [0, 1, 2].filter((g) => (d >> g) & 1).map((g) => `g${g}`);
  const noSecurity = groups.length === 0 && (d >> 3) % 4 === 0;
  return parseEventLine(JSON.stringify({
    type: 'port', id: `p${idx}`, network: `n${net}`, host, mac: `fa:16:3e:${hex((d >> 5) % 3)}:00:${hex(idx)}`,
    fixedIps: [`10.0.${net}.${idx + 10}`, ...((d >> 7) & 1 ? [`fd00::${idx + 10}`] : [])],
    ...((d >> 8) & 1 ? { allowedAddressPairs: [{ ip: `10.1.${idx}.0/24` }, ...((d >> 9) & 1 ? [{ ip: '0.0.0.0/0' }] : [])] } : {}),
    securityGroups: groups, ...(noSecurity ? { portSecurity: false } : {}),
    ...((d >> 10) % 4 === 0 ? { deviceOwner: 'network:dhcp' } : {}),
    ...((d >> 12) % 3 !== 0 ? { ofport: idx + 2 } : {}),
  }));
}

function eventOf(s: Step, t: Topology): TopologyEvent | undefined {
  switch (s.kind) {
    case 0: case 1: case 2: return portEvent(s.a % PORT_IDS, s.b, s.c, s.d);
    case 3: { // a port's groups or MAC change, the rest as it is
      const p = t.ports.get(`p${s.a % PORT_IDS}`);
      if (!p) return undefined;
      return { type: 'port', ...p, securityGroups: p.portSecurity ? [0, 1, 2].filter((g) => (s.d >> g) & 1).map((g) => `g${g}`) : [], mac: `fa:16:3e:${hex(3 + (s.b % 3))}:00:${hex(s.a % PORT_IDS)}` };
    }
    case 4: return t.ports.has(`p${s.a % PORT_IDS}`) ? { type: 'remove', kind: 'port', id: `p${s.a % PORT_IDS}` } : undefined;
    case 5: { // a group's rules and members beyond its ports (some also ports' addresses: 10.0.0.10, 10.1.3.0/24, fd00::11)
      const memberIps = MEMBER_IPS.filter((_, i) => (s.d >> i) & 1);
      return parseEventLine(JSON.stringify({ type: 'securityGroup', id: `g${s.a % GROUPS}`, rules: RULE_SETS(s.a % GROUPS)[s.b % 4], ...(s.c % 3 ? { memberIps } : {}) }));
    }
    case 6: return { type: 'network', id: `n${s.a % NETWORKS}`, vni: 100 + (s.a % NETWORKS) + NETWORKS * (s.b % 3) };
    case 7: return { type: 'host', name: HOSTS[1 + (s.a % 5)]!, tunnelIp: `10.9.${1 + (s.b % 3)}.${1 + (s.a % 5)}` };
    default: return undefined; // 8: nothing (an OVSDB update alone); 9: the topology cloned (below)
  }
}

function initial(): Topology {
  const t = new Topology();
  HOSTS.forEach((h, i) => t.apply({ type: 'host', name: h, tunnelIp: `10.9.0.${i + 1}` }));
  for (let n = 0; n < NETWORKS; n++) t.apply({ type: 'network', id: `n${n}`, vni: 100 + n });
  for (let g = 0; g < GROUPS; g++) t.apply(parseEventLine(JSON.stringify({ type: 'securityGroup', id: `g${g}`, rules: [] })));
  for (let g = 0; g < GROUPS; g++) t.apply(parseEventLine(JSON.stringify({ type: 'securityGroup', id: `g${g}`, rules: RULE_SETS(g)[g + 1] })));
  for (let i = 0; i < 20; i++) t.apply(portEvent(i, i * 5 + 1, i * 7, (i * 40503) & 0x3fff));
  return t;
}

/** What the agent would read from OVSDB for this pass. */
function optionsOf(s: Step, t: Topology, prev: HostState | undefined, sets: Map<string, ReadonlySet<string>>): HostStateOptions {
  const mine = t.portsOn('me');
  const plugged = s.plugged < 0 ? undefined : new Map(mine.filter((_, i) => (s.plugged >> i) & 1).map((p, i) => [p.id, 2 + i + ((s.plugged >> 20) & 1 ? 40 : 0)]));
  HOSTS.slice(1).forEach((h, i) => {
    if (s.remote[i] === 1) sets.set(h, new Set(t.portsOn(h).filter((_, k) => (s.e >> (k % 30)) & 1).map((p) => p.id)));
    else if (s.remote[i] === 2) sets.delete(h);
  });
  const vlanHints = s.hints === 1 && prev ? new Map(prev.networks.map((n) => [n.id, n.vlan]))
    : s.hints === 2 ? new Map(Array.from({ length: NETWORKS }, (_, n) => [`n${n}`, 1 + ((n * 7 + s.e) % 5)])) : undefined;
  const ofports = s.ofports === 0 ? undefined : new Map(HOSTS.slice(1).filter((_, i) => (s.e >> (i + 3)) & 1)
    .map((h, i) => [`vxlan-${t.hosts.get(h)!.tunnelIp.split('.').map((o) => hex(Number(o))).join('')}`, 2 + ((i * s.ofports) % 7)]));
  const remote = new Map(sets);
  return {
    ...(plugged ? { plugged } : {}), remotePlugged: (h) => remote.get(h),
    ...(vlanHints ? { vlanHints } : {}), ...(ofports ? { ofports } : {}),
  };
}

/** Every part of `next` equal to the part of `prev` it stands for is that very object. */
function expectIdentities(prev: HostState, next: HostState, sources: { before: ReadonlyMap<string, Port>; after: ReadonlyMap<string, Port> }): void {
  const sameArray = <T>(a: readonly T[], b: readonly T[], what: string): void => {
    if (a.length === b.length && a.every((x, i) => x === b[i])) expect(b, what).to.equal(a);
  };
  for (const n of next.networks) {
    const was = prev.networks.find((p) => p.id === n.id);
    if (was?.vni === n.vni && was.vlan === n.vlan) expect(n, `network ${n.id}`).to.equal(was);
  }
  for (const lp of next.localPorts) {
    const was = prev.localPorts.find((p) => p.id === lp.id);
    if (was && sources.before.get(lp.id) === sources.after.get(lp.id) && was.vlan === lp.vlan && was.ofport === lp.ofport) expect(lp, `local port ${lp.id}`).to.equal(was);
  }
  for (const tu of next.tunnels) {
    const was = prev.tunnels.find((p) => p.host === tu.host);
    if (was?.remoteIp === tu.remoteIp && was.ofport === tu.ofport) expect(tu, `tunnel ${tu.host}`).to.equal(was);
  }
  for (const rp of next.remotePorts) {
    const was = prev.remotePorts.find((p) => p.port === rp.port);
    if (was?.vni === rp.vni && was.vlan === rp.vlan && was.tunnel === rp.tunnel) expect(rp, `remote port ${rp.port.id}`).to.equal(was);
  }
  next.networks.forEach((n, i) => {
    const j = prev.networks.findIndex((p) => p.id === n.id);
    if (j >= 0) sameArray(prev.remotePortsByNetwork[j]!, next.remotePortsByNetwork[i]!, `remote ports of ${n.id}`);
  });
  sameArray(prev.remotePortsByNetwork, next.remotePortsByNetwork, 'remote ports by network');
  sameArray(prev.networks, next.networks, 'networks');
  sameArray(prev.localPorts, next.localPorts, 'local ports');
  sameArray(prev.tunnels, next.tunnels, 'tunnels');
  sameArray(prev.remotePorts, next.remotePorts, 'remote ports');
  sameArray(prev.errors, next.errors, 'errors');
  if (prev.firewall && next.firewall) {
    for (const k of ['groups', 'members', 'conjBases'] as const) {
      const a: ReadonlyMap<string, unknown> = prev.firewall[k];
      const b: ReadonlyMap<string, unknown> = next.firewall[k];
      if (a.size === b.size && [...b].every(([key, v]) => a.get(key) === v)) expect(b, `firewall ${k}`).to.equal(a);
    }
    const { groups, members, conjBases } = prev.firewall;
    if (next.firewall.groups === groups && next.firewall.members === members && next.firewall.conjBases === conjBases) expect(next.firewall).to.equal(prev.firewall);
  }
  if ((['networks', 'localPorts', 'tunnels', 'remotePorts', 'errors', 'firewall'] as const).every((k) => prev[k] === next[k]) && prev.tunnelIp === next.tunnelIp) {
    expect(next, 'the whole state').to.equal(prev);
  }
}

describe('host state: incremental derivation', () => {
  it('equals a fresh derivation over random events, and keeps every unchanged part\'s object', () => {
    fc.assert(fc.property(fc.array(stepArb, { minLength: 1, maxLength: 40 }), (steps) => {
      let t = initial();
      const sets = new Map<string, ReadonlySet<string>>();
      let prev: HostState | undefined;
      for (const s of steps) {
        const before = new Map(t.ports);
        if (s.kind === 9) t = t.clone();
        try {
          const e = eventOf(s, t);
          if (e) t.apply(e);
        } catch (err) {
          if (!(err instanceof TopologyError)) throw err; // a refused event changes nothing
        }
        // The members cache (kept across port and group events, clones too) equals members worked out afresh.
        const afresh = parseTopology(new TopologyStore(t).snapshot());
        for (let g = 0; g < GROUPS; g++) expect(t.membersOf(`g${g}`), `members of g${g}`).to.deep.equal(afresh.membersOf(`g${g}`));
        const opts = optionsOf(s, t, prev, sets);
        const fresh = (o: HostStateOptions): HostState => deriveHostState(t, 'me', { ...o, ...(prev?.firewall ? { conjHints: prev.firewall.conjBases } : {}) });
        if (s.branch && prev) {
          const other = optionsOf({ ...s, plugged: s.plugged ^ 5, remote: s.remote.map((r) => (r + 1) % 3), hints: (s.hints + 1) % 3 }, t, prev, new Map(sets));
          expect(deriveHostState(t, 'me', { ...other, previous: prev }), 'a branch').to.deep.equal(fresh(other));
        }
        const next = deriveHostState(t, 'me', { ...opts, ...(prev ? { previous: prev } : {}) });
        const again = fresh(opts);
        expect(next).to.deep.equal(again);
        // And so are its pipelines: what the renderers remember of the states before (per network,
        // per remote port) stands only while it is right.
        for (const o of RENDERS) expect(renderText(next, 'br-tun', o), `br-tun (l2pop ${o.l2pop})`).to.deep.equal(renderText(again, 'br-tun', o));
        // remotePorts is the networks' lists end to end, each list the remote ports of its network.
        expect(next.remotePortsByNetwork.map((l, i) => l.every((rp) => rp.port.network === next.networks[i]!.id))).to.not.include(false);
        expect(next.remotePorts).to.deep.equal(next.remotePortsByNetwork.flat());
        if (prev) expectIdentities(prev, next, { before, after: t.ports });
        prev = next;
      }
    }), { seed: 16, numRuns: 300 });
  });

  it('a tunnel added for one network: with l2pop another network\'s br-tun flows stay the very objects; without, its flood list gains the tunnel', () => {
    const t = parseTopology([
      '{"type":"host","name":"me","tunnelIp":"10.0.0.1"}', '{"type":"host","name":"h1","tunnelIp":"10.0.0.2"}', '{"type":"host","name":"h2","tunnelIp":"10.0.0.3"}',
      '{"type":"network","id":"a","vni":100}', '{"type":"network","id":"b","vni":200}',
      '{"type":"port","id":"me-a","network":"a","host":"me","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"],"ofport":5}',
      '{"type":"port","id":"me-b","network":"b","host":"me","mac":"fa:16:3e:00:00:02","fixedIps":["10.2.0.1"],"ofport":6}',
      '{"type":"port","id":"h1-a","network":"a","host":"h1","mac":"fa:16:3e:00:00:03","fixedIps":["10.1.0.2"]}',
      '{"type":"port","id":"h1-b","network":"b","host":"h1","mac":"fa:16:3e:00:00:04","fixedIps":["10.2.0.2"]}',
    ].join('\n'));
    const s0 = deriveHostState(t, 'me');
    t.apply(parseEventLine('{"type":"port","id":"h2-a","network":"a","host":"h2","mac":"fa:16:3e:00:00:05","fixedIps":["10.1.0.3"]}'));
    const s1 = deriveHostState(t, 'me', { previous: s0 });
    expect(s1.tunnels.map((tu) => tu.host)).to.deep.equal(['h1', 'h2']);
    const vlanB = s1.networks.find((n) => n.id === 'b')!.vlan;
    const ofB = (s: HostState, o: (typeof RENDERS)[number]): readonly object[] => renderPipeline(s, 'br-tun', o).filter((pf) => flowLine(pf.flow).includes(`dl_vlan=${vlanB}`)).map((pf) => pf.flow);
    const [l2pop, flat] = RENDERS;
    const before = ofB(s0, l2pop!);
    const after = ofB(s1, l2pop!);
    expect(after.length).to.be.above(2);
    after.forEach((f, i) => expect(f, `flow ${i} of network b`).to.equal(before[i]));
    // The network's flow family too (the reconciler skips a family it installed by identity),
    // while network a's is new (h2's unicast, ARP and flood entries).
    const family = (s: HostState, id: string): object | undefined => pipelineDesired(s, 'br-tun', l2pop!).families.find((f) => f.key === `br-tun network ${id}`);
    expect(family(s1, 'b')).to.equal(family(s0, 'b'));
    expect(family(s1, 'a')).to.not.equal(family(s0, 'a'));
    // Without l2pop b floods to every tunnel, h2's too: as rendered from a fresh state.
    ofB(s0, flat!);
    const flood = renderText(s1, 'br-tun', flat!).filter((l) => l.includes('table=22') && l.includes(`dl_vlan=${vlanB}`));
    expect(flood).to.have.length(1);
    expect(flood[0]).to.match(/output:2,output:3$/);
    expect(renderText(s1, 'br-tun', flat!)).to.deep.equal(renderText(deriveHostState(t, 'me'), 'br-tun', flat!));
  });
});
