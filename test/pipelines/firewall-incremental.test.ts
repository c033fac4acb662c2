// The firewall's flows after an event: the ports the event does not concern hand back the very flow
// objects they had, the networks their very member flow family, and a changed family says exactly
// what changed (what lets the reconciler skip the rest and keeps an event's cost to what it changes,
// issue 16 point 6); the whole re-render equals a render from scratch.
import { expect } from 'chai';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import type { Flow } from '../../codecs/openflow/flow.js';
import { deriveHostState, HostState } from '../../lib/state/host-state.js';
import { parseTopology, readTopology, Topology } from '../../lib/topology/model.js';
import { FIXTURES } from '../../testing/golden-cases.js';
import { parseEventLine } from '../../lib/topology/events.js';
import type { FlowFamily } from '../../lib/flowset/family.js';
import { pipelineDesired, pipelineFlows, renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { l2popHost, securityGroupLine } from '../../testing/l2pop-host.js';

const FIREWALL = pipelineOptions({ l2pop: true, arpResponder: true, firewall: 'openvswitch' });
const NETWORKS = 6;
const lines = (): string[] => l2popHost({ networks: NETWORKS, remoteHosts: 3, ofports: true, securityGroups: true }).lines;

/** The rule flows (tables 72, 82) of local port p<n*21> (network n, ofport n + 2), and the member flows of network n's VLAN. */
function split(flows: readonly Flow[], s: HostState): { byPort: Map<number, Flow[]>; byVlan: Map<number, Flow[]> } {
  const byPort = new Map<number, Flow[]>();
  const byVlan = new Map<number, Flow[]>();
  for (const f of flows) {
    if (f.table !== 72 && f.table !== 82) continue;
    const text = formatFlow(f);
    const reg5 = /reg5=0x([0-9a-f]+)/.exec(text);
    const reg6 = /reg6=0x([0-9a-f]+)/.exec(text);
    if (reg5) byPort.set(parseInt(reg5[1]!, 16), [...byPort.get(parseInt(reg5[1]!, 16)) ?? [], f]);
    else if (reg6) byVlan.set(parseInt(reg6[1]!, 16), [...byVlan.get(parseInt(reg6[1]!, 16)) ?? [], f]);
  }
  expect(byPort.size).to.equal(s.localPorts.length);
  expect(byVlan.size).to.equal(s.networks.length);
  return { byPort, byVlan };
}

/** The same flow objects, in the same order (not copies: what the reconciler skips by identity). */
function expectSame(x: readonly Flow[] | undefined, y: readonly Flow[] | undefined, what: string): void {
  expect(x, what).to.not.equal(undefined);
  expect(x!.length === y!.length && x!.every((f, i) => f === y![i]), `${what}: the same flow objects`).to.equal(true);
}

function after(t: Topology, line: string, before: HostState): HostState {
  t.apply(parseEventLine(line));
  return deriveHostState(t, 'local', { previous: before });
}

/** Each network's member flow family, by network id. */
function families(s: HostState): Map<string, FlowFamily> {
  const fams = pipelineDesired(s, 'br-int', FIREWALL).families.filter((f) => f.key.startsWith('firewall members '));
  expect(fams).to.have.length(s.networks.length);
  return new Map(fams.map((f) => [f.key.replace(/^firewall members /, ''), f]));
}

/** The same flows rendered from a topology parsed anew (nothing remembered applies to its objects). */
function fromScratch(all: readonly string[]): string[] {
  return renderText(deriveHostState(parseTopology(all.join('\n')), 'local'), 'br-int', FIREWALL);
}

describe('openvswitch firewall after an event', () => {
  it('a rule added to sg-a gives its ports new flows and hands back every other rule and member flow as it was', () => {
    const all = lines();
    const t = parseTopology(all.join('\n'));
    const s0 = deriveHostState(t, 'local');
    const a = split(pipelineFlows(s0, 'br-int', FIREWALL), s0);
    const line = securityGroupLine('sg-a', [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 9000, portRangeMax: 9000 }]);
    const s1 = after(t, line, s0);
    const flows = pipelineFlows(s1, 'br-int', FIREWALL);
    const b = split(flows, s1);
    for (let n = 0; n < NETWORKS; n++) {
      const ofport = n + 2;
      // Local port n is in sg-a for even n: the new rule's two flows more (table 82, +new-est committed and
      // +est-rel-rpl), all others unchanged.
      if (n % 2 === 0) expect(b.byPort.get(ofport)!.length).to.equal(a.byPort.get(ofport)!.length + 2);
      else expectSame(b.byPort.get(ofport), a.byPort.get(ofport), `port ${ofport}`);
      expect(b.byVlan.get(s1.networks[n]!.vlan)!.map((f) => formatFlow(f))).to.deep.equal(a.byVlan.get(s0.networks[n]!.vlan)!.map((f) => formatFlow(f)));
    }
    // Every network's member family is the very object it was.
    const [f0, f1] = [families(s0), families(s1)];
    for (const [net, fam] of f1) expect(fam, net).to.equal(f0.get(net));
    expect(flows.map((f) => ` ${formatFlow(f)}`).sort()).to.deep.equal(fromScratch([...all, line]));
  });

  it('a remote port joining sg-a changes the member flows of the networks whose port is in sg-a only', () => {
    const all = lines();
    const t = parseTopology(all.join('\n'));
    const s0 = deriveHostState(t, 'local');
    const a = split(pipelineFlows(s0, 'br-int', FIREWALL), s0);
    const remote = all.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.type === 'port' && e.host !== 'local')!;
    const line = JSON.stringify({ ...remote, securityGroups: ['sg-a'] });
    const s1 = after(t, line, s0);
    const flows = pipelineFlows(s1, 'br-int', FIREWALL);
    const b = split(flows, s1);
    for (let n = 0; n < NETWORKS; n++) {
      const [v0, v1] = [s0.networks[n]!.vlan, s1.networks[n]!.vlan];
      // The new member's address, matched in each sg-a network for new and for established traffic: two flows.
      if (n % 2 === 0) expect(b.byVlan.get(v1)!.length).to.equal(a.byVlan.get(v0)!.length + 2);
      else expect(b.byVlan.get(v1)!.map((f) => formatFlow(f))).to.deep.equal(a.byVlan.get(v0)!.map((f) => formatFlow(f)));
      expectSame(b.byPort.get(n + 2), a.byPort.get(n + 2), `port ${n + 2}`);
    }
    // The families of sg-b networks are the very objects they were; those of sg-a networks tell the
    // two new flows without generating the others, and they are the flows the full render gained.
    const [f0, f1] = [families(s0), families(s1)];
    s1.networks.forEach((net, n) => {
      const [was, now] = [f0.get(net.id)!, f1.get(net.id)!];
      if (n % 2 === 1) {
        expect(now, net.id).to.equal(was);
        return;
      }
      expect(now).to.not.equal(was);
      const ch = now.changesFrom(was)!;
      expect(ch.changed).to.deep.equal([]);
      expect(ch.deleted).to.deep.equal([]);
      const gained = b.byVlan.get(net.vlan)!.map((f) => formatFlow(f)).filter((x) => !a.byVlan.get(s0.networks[n]!.vlan)!.map((f) => formatFlow(f)).includes(x));
      expect(ch.added.map((f) => formatFlow(f)).sort()).to.deep.equal(gained.sort()).and.to.have.length(2);
      // And back: the family before, from the one after, deletes those two.
      const back = was.changesFrom(now)!;
      expect(back.deleted.map((f) => formatFlow(f)).sort()).to.deep.equal(gained.sort());
      expect(back.added).to.deep.equal([]);
    });
    expect(flows.map((f) => ` ${formatFlow(f)}`).sort()).to.deep.equal(fromScratch([...all, line]));
  });
});

describe('flow families of a rendered host', () => {
  // The l2pop host (one remote group per rule set), and Neutron's remote-group example, where a port's
  // groups name two remote groups and an address is a member of both (its conj ids merged).
  const hosts: Array<[string, () => HostState]> = [
    ['the l2pop host', () => deriveHostState(parseTopology(lines().join('\n')), 'local')],
    ['sg-remote-group', () => deriveHostState(readTopology(`${FIXTURES}topologies/neutron-sg-remote-group.jsonl`), 'compute')],
  ];
  for (const [what, state] of hosts) it(`count what they yield, and expand to what the pipeline renders: ${what}`, () => {
    const s = state();
    for (const bridge of ['br-int', 'br-tun'] as const) {
      const d = pipelineDesired(s, bridge, FIREWALL);
      expect(d.families.length).to.be.greaterThan(0);
      const expanded = [...d.flows];
      for (const fam of d.families) {
        const flows = [...fam.flows()];
        expect(fam.count(), fam.key).to.equal(flows.length);
        expanded.push(...flows);
      }
      expect(expanded.map((f) => ` ${formatFlow(f)}`).sort()).to.deep.equal(renderText(s, bridge, FIREWALL));
    }
  });
});
