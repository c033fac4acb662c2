// The typed view of a replica, read again after every OVSDB update: rows that did not change keep
// their Interface and Port objects, a changed row (a new object in the replica) gets new ones.
// And update2's set differences as the client applies them.
import { expect } from 'chai';
import { fromMap, Json, ovsMap } from '../../codecs/ovsdb/protocol.js';
import { applyDatumDiff, Replica, Row } from '../../lib/ovsdb/client.js';
import { vswitchView } from '../../lib/ovsdb/vswitch.js';

const uuid = (u: string): Json => ['uuid', u];
const iface = (name: string, ofport: number): Row => ({ name, type: '', options: ['map', []], ofport, ofport_request: ['set', []], error: ['set', []], external_ids: ['map', [['iface-id', name]]] });
const port = (name: string, iu: string, tag: number): Row => ({ name, interfaces: uuid(iu), tag, other_config: ['map', [['net_uuid', 'n1']]] });

function replica(ifaces: Record<string, Row>, ports: Record<string, Row>): Replica {
  return new Map([
    ['Open_vSwitch', new Map([['root', { bridges: uuid('b1'), cur_cfg: 1, next_cfg: 1, external_ids: ['map', []] }]])],
    ['Bridge', new Map([['b1', { name: 'br-int', ports: ['set', [uuid('p1'), uuid('p2')]], controller: ['set', []], datapath_id: '0000000000000001' }]])],
    ['Port', new Map(Object.entries(ports))],
    ['Interface', new Map(Object.entries(ifaces))],
    ['Controller', new Map()],
  ]);
}

describe('vswitchView', () => {
  it('keeps the objects of unchanged rows across views; a changed row gets new ones with its new values', () => {
    const i1 = iface('vm-1', 1);
    const i2 = iface('vm-2', 2);
    const p1 = port('tap1', 'i1', 5);
    const p2 = port('tap2', 'i2', 6);
    const a = vswitchView(replica({ i1, i2 }, { p1, p2 })).bridges.get('br-int')!.ports;
    const b = vswitchView(replica({ i1, i2 }, { p1, p2 })).bridges.get('br-int')!.ports;
    expect(b[0]).to.equal(a[0]);
    expect(b[1]).to.equal(a[1]);
    // vm-2 gets a new ofport (a new Interface row object): its port is new, vm-1's is kept.
    const c = vswitchView(replica({ i1, i2: iface('vm-2', 7) }, { p1, p2 })).bridges.get('br-int')!.ports;
    expect(c[0]).to.equal(a[0]);
    expect(c[1]).to.not.equal(a[1]);
    expect(c[1]!.interfaces[0]!.ofport).to.equal(7);
    expect(c[1]!.tag).to.equal(6);
    // tap1 is retagged (a new Port row object).
    const d = vswitchView(replica({ i1, i2 }, { p1: port('tap1', 'i1', 9), p2 })).bridges.get('br-int')!.ports;
    expect(d[0]!.tag).to.equal(9);
    expect(d[0]!.interfaces[0]).to.equal(a[0]!.interfaces[0]);
    // tap2's row is kept, its interface row is vm-2's first again: the interface object is the first one's.
    expect(d[1]!.interfaces[0]).to.equal(a[1]!.interfaces[0]);
    expect(d[1]!.interfaces[0]!.ofport).to.equal(2);
  });
});

describe('vswitchView map columns (read in place, not copied into Maps)', () => {
  const viewOf = (options: Json, externalIds: Json): { options: ReadonlyMap<string, string>; externalIds: ReadonlyMap<string, string> } => {
    const v = vswitchView(replica({ i1: { ...iface('tap1', 5), options, external_ids: externalIds } }, { p1: port('tap1', 'i1', 1) }));
    return v.bridges.get('br-int')!.ports[0]!.interfaces[0]!;
  };

  it('reads as fromMap does: size, get, has, every way of iterating, and back to OVSDB with ovsMap', () => {
    const json: Json = ['map', [['remote_ip', '10.0.0.2'], ['key', 'flow'], ['local_ip', '10.0.0.1']]];
    const { options: m } = viewOf(json, ['map', []]);
    const want = fromMap(json);
    expect(m.size).to.equal(3);
    expect(m.get('key')).to.equal('flow');
    expect(m.get('nope')).to.equal(undefined);
    expect([m.has('local_ip'), m.has('nope')]).to.deep.equal([true, false]);
    expect([...m]).to.deep.equal([...want]);
    expect([...m.entries()]).to.deep.equal([...want.entries()]);
    expect([...m.keys()]).to.deep.equal([...want.keys()]);
    expect([...m.values()]).to.deep.equal([...want.values()]);
    const seen: string[] = [];
    m.forEach((v, k, map) => seen.push(`${k}=${v}${map === m ? '' : '!'}`));
    expect(seen).to.deep.equal(['remote_ip=10.0.0.2', 'key=flow', 'local_ip=10.0.0.1']);
    expect(new Map(m)).to.deep.equal(want);
    expect(ovsMap(m)).to.deep.equal(json);
  });

  it('an empty column is one shared empty map; a column with an atom that is not a string reads as fromMap does', () => {
    const a = viewOf(['map', []], ['map', []]);
    expect(a.options.size).to.equal(0);
    expect(a.options).to.equal(a.externalIds);
    expect(viewOf(['set', []], ['map', []]).options).to.equal(a.options);
    const odd: Json = ['map', [['n', 5], ['s', 'x']]];
    expect([...viewOf(odd, ['map', []]).options]).to.deep.equal([['n', '5'], ['s', 'x']]);
  });
});

describe('applyDatumDiff (update2 "modify")', () => {
  const set = { nMax: Infinity, isMap: false };
  it('a set: the difference\'s atoms that were there leave, the others join, in order', () => {
    expect(applyDatumDiff(['set', [uuid('a'), uuid('b'), uuid('c')]], ['set', [uuid('b'), uuid('d')]], set))
      .to.deep.equal(['set', [uuid('a'), uuid('c'), uuid('d')]]);
    // One atom left: written bare, as OVSDB writes a one-element set.
    expect(applyDatumDiff(['set', [uuid('a'), uuid('b')]], uuid('b'), set)).to.deep.equal(uuid('a'));
    expect(applyDatumDiff(uuid('a'), uuid('a'), set)).to.deep.equal(['set', []]);
    // An optional value (at most one) that was empty takes the difference as it is.
    expect(applyDatumDiff(['set', []], 5, { nMax: 1, isMap: false })).to.equal(5);
  });
  it('a map: a pair equal to one there removes it, a new key or value is set', () => {
    expect(applyDatumDiff(['map', [['a', '1'], ['b', '2']]], ['map', [['a', '1'], ['b', '3'], ['c', '4']]], { nMax: Infinity, isMap: true }))
      .to.deep.equal(['map', [['b', '3'], ['c', '4']]]);
  });
});
