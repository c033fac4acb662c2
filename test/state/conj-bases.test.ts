// HostState.firewall.conjBases (issue 16 point 3): conjunction id blocks are host state, like local
// VLANs. Installed blocks (hints) are kept while their key is used, new keys take the lowest free
// blocks, unused ones are released, and an unchanged state is handed back by identity.
import { expect } from 'chai';
import { deriveHostState } from '../../lib/state/host-state.js';
import { parseEventLine } from '../../lib/topology/events.js';
import { parseTopology } from '../../lib/topology/model.js';

const group = (id: string, remote: string, ethertype = 'IPv4'): string =>
  JSON.stringify({ type: 'securityGroup', id, rules: [{ direction: 'ingress', ethertype, protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteGroupId: remote }] });
const port = (id: string, ofport: number, groups: string[]): string => JSON.stringify({
  type: 'port', id, network: 'n', host: 'h', mac: `fa:16:3e:00:00:${ofport.toString(16).padStart(2, '0')}`, fixedIps: [`10.0.0.${ofport}`], securityGroups: groups, ofport,
});
const base = ['{"type":"host","name":"h","tunnelIp":"10.9.0.1"}', '{"type":"network","id":"n","vni":7}'];

describe('host state: conjunction id blocks', () => {
  it('without hints, numbers the keys in order from 8 (what render and the goldens use)', () => {
    const t = parseTopology([...base, group('b', 'b'), group('a', 'b'), port('p1', 2, ['b']), port('p2', 3, ['a'])].join('\n'));
    expect([...deriveHostState(t, 'h').firewall!.conjBases]).to.deep.equal([['ingress/IPv4/a/b', 8], ['ingress/IPv4/b/b', 16]]);
  });

  it('keeps the installed blocks of keys still used, gives new keys the lowest free block, releases the others', () => {
    const t = parseTopology([...base, group('b', 'b'), group('a', 'b'), group('c', 'c'), port('p1', 2, ['b']), port('p2', 3, ['a', 'c'])].join('\n'));
    // As read back from br-int: b's at 40, a gone key at 8 (released), a at 16.
    const hints = new Map([['ingress/IPv4/b/b', 40], ['ingress/IPv4/zz/zz', 8], ['ingress/IPv4/a/b', 16]]);
    const s = deriveHostState(t, 'h', { conjHints: hints });
    expect([...s.firewall!.conjBases]).to.deep.equal([['ingress/IPv4/a/b', 16], ['ingress/IPv4/b/b', 40], ['ingress/IPv4/c/c', 8]]);
    // Handed the state back, nothing changed: the very same objects.
    const again = deriveHostState(t, 'h', { conjHints: s.firewall!.conjBases, previous: s });
    expect(again).to.equal(s);
    // The previous state's blocks serve as hints when none are given.
    t.apply(parseEventLine(group('aa', 'aa', 'IPv6')));
    t.apply(parseEventLine(port('p3', 4, ['aa'])));
    const next = deriveHostState(t, 'h', { previous: s });
    expect([...next.firewall!.conjBases]).to.deep.equal([['ingress/IPv4/a/b', 16], ['ingress/IPv4/b/b', 40], ['ingress/IPv4/c/c', 8], ['ingress/IPv6/aa/aa', 24]]);
  });

  it('refuses hints that are not blocks, naming the key', () => {
    const t = parseTopology([...base, group('b', 'b'), port('p1', 2, ['b'])].join('\n'));
    expect(() => deriveHostState(t, 'h', { conjHints: new Map([['ingress/IPv4/b/b', 12]]) })).to.throw(/conjunction base 12 of ingress\/IPv4\/b\/b/);
  });
});
