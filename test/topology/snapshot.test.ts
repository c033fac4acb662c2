// The start-up snapshot of a file or stdin source (read whole, every rejected line named by
// file:line), line numbers across appends, the freeze of what rejected lines name (--allow-partial)
// and its thaw, parseTopology naming every bad line, and Topology.clone (the batch dry run).
import { expect } from 'chai';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describeFreeze, freezeFor, namedBy } from '../../lib/topology/freeze.js';
import { parseTopology, Topology } from '../../lib/topology/model.js';
import { parseEventLine } from '../../lib/topology/events.js';
import { fileSource, streamSource } from '../../lib/topology/sources.js';
import { Rejection, TopologyStore, where } from '../../lib/topology/store.js';
import { eventually } from '../../testing/wait.js';
import { tempDir } from '../../testing/temp-dir.js';

const GOOD = [
  '{"type":"host","name":"a","tunnelIp":"10.0.0.1"}',
  '{"type":"host","name":"b","tunnelIp":"10.0.0.2"}',
  '{"type":"host","name":"c","tunnelIp":"10.0.0.3"}',
  '{"type":"network","id":"red","vni":1001}',
  '{"type":"network","id":"blue","vni":1002}',
  '{"type":"port","id":"pa","network":"red","host":"a","mac":"fa:16:3e:00:00:0a","fixedIps":["10.1.0.1"]}',
  '{"type":"port","id":"pb","network":"red","host":"b","mac":"fa:16:3e:00:00:0b","fixedIps":["10.1.0.2"]}',
  '{"type":"port","id":"pc","network":"blue","host":"c","mac":"fa:16:3e:00:00:0c","fixedIps":["10.2.0.3"]}',
];
/** GOOD with line 6 (pa) given a trailing comma, and line 5 (blue) an unknown member. */
const CORRUPT = GOOD.map((l, i) => (i === 5 ? l.replace(/}$/, ',}') : i === 4 ? l.replace(/}$/, ',"mtu":1450}') : l));

const tmp = (): string => tempDir('ofctl-ts-snap-');
const places = (rs: readonly Rejection[]): string[] => rs.map(where);

describe('topology start-up snapshot, line numbers and freezes', () => {
  it('a file snapshot names every rejected line as file:line; the good lines are applied', async () => {
    const file = join(tmp(), 't.jsonl');
    writeFileSync(file, `${CORRUPT.join('\n')}\n`);
    const store = new TopologyStore();
    const src = fileSource(store, file, 20);
    try {
      // Line 8 (pc, in network blue) falls with line 5.
      expect(places(src.snapshot)).to.deep.equal([`${file}:5`, `${file}:6`, `${file}:8`]);
      expect(src.snapshot.map((r) => r.error)).to.deep.equal([
        'unknown member "mtu"', src.snapshot[1]!.error, 'port pc: unknown network blue']);
      expect(src.snapshot[1]!.error).to.match(/^not JSON/);
      expect([...store.topology.ports.keys()]).to.deep.equal(['pb']);
      expect(store.rejected).to.equal(3);
    } finally {
      await src.stop();
    }
  });

  it('a followed file: lines are numbered from its start across appends; a rejected append changes nothing', async () => {
    const file = join(tmp(), 't.jsonl');
    writeFileSync(file, `${GOOD.slice(0, 5).join('\n')}\n`);
    const store = new TopologyStore();
    const rejected: Rejection[] = [];
    store.rejected$.subscribe((r) => rejected.push(r));
    const src = fileSource(store, file, 20);
    try {
      expect(src.snapshot).to.deep.equal([]);
      appendFileSync(file, `${GOOD[5]}\n\n# a comment\n`);
      await eventually(() => store.topology.ports.has('pa'), 'line 6 to apply');
      const before = store.snapshot();
      appendFileSync(file, `${CORRUPT[6]!.replace(/}$/, ',}')}\n`);
      await eventually(() => rejected.length === 1, 'line 9 to be rejected');
      expect(places(rejected)).to.deep.equal([`${file}:9`]);
      expect(store.snapshot()).to.equal(before);
    } finally {
      await src.stop();
    }
  });

  it('a file whose last line has no newline: that line refuses the snapshot, and applies when its newline comes', async () => {
    const file = join(tmp(), 't.jsonl');
    writeFileSync(file, `${GOOD.slice(0, 4).join('\n')}\n${GOOD[4]}`);
    const store = new TopologyStore();
    const src = fileSource(store, file, 20);
    try {
      expect(places(src.snapshot)).to.deep.equal([`${file}:5`]);
      expect(src.snapshot[0]!.error).to.match(/no newline at the end of the file/);
      expect(store.topology.networks.has('blue')).to.equal(false);
      appendFileSync(file, '\n');
      await eventually(() => store.topology.networks.has('blue'), 'line 5 to apply with its newline');
    } finally {
      await src.stop();
    }
  });

  it('stdin: the snapshot is the input up to its end', async () => {
    const store = new TopologyStore();
    const input = new PassThrough();
    const started = streamSource(store, input);
    input.end(`${CORRUPT.join('\n')}\n`);
    const src = await started;
    expect(places(src.snapshot)).to.deep.equal(['<stdin>:5', '<stdin>:6', '<stdin>:8']);
  });

  it('stdin kept open: the snapshot ends at the first empty line; later lines apply alone, numbered on', async () => {
    const store = new TopologyStore();
    const rejected: Rejection[] = [];
    store.rejected$.subscribe((r) => rejected.push(r));
    const input = new PassThrough();
    let resolved = false;
    const started = streamSource(store, input).then((s) => ((resolved = true), s));
    input.write(`${GOOD.slice(0, 3).join('\n')}\n`);
    await new Promise((r) => setTimeout(r, 50));
    expect(resolved, 'no end of snapshot yet').to.equal(false);
    input.write(`${CORRUPT[4]}\n\n${GOOD[3]}\n`);
    const src = await started;
    expect(places(src.snapshot)).to.deep.equal(['<stdin>:4']);
    input.write(`${CORRUPT[5]}\n`);
    await eventually(() => rejected.length === 2, 'the live line to be rejected');
    expect(places(rejected)).to.deep.equal(['<stdin>:4', '<stdin>:7']);
    expect(src.snapshot).to.have.length(1);
    expect(store.topology.networks.has('red')).to.equal(true);
    await src.stop();
  });

  it('reads what a rejected line names, even when it is not JSON', () => {
    expect(namedBy(CORRUPT[5]!)).to.deep.equal({ type: 'port', id: 'pa', host: 'a', network: 'red' });
    expect(namedBy('{"type":"remove","kind":"port","id":"p\\"x",')).to.deep.equal({ type: 'remove', kind: 'port', id: 'p"x' });
    expect(namedBy('{"type":"host","name":5}')).to.deep.equal({ type: 'host' });
    expect(namedBy('garbage')).to.deep.equal({});
  });

  it('freezes the hosts a rejected line concerns, and thaws them when its entity is accepted', () => {
    const store = new TopologyStore();
    const snapshot = store.applyLines([...CORRUPT, '{"type":"port","id":"pz",'], 'topo');
    expect(places(snapshot)).to.deep.equal(['topo:5', 'topo:6', 'topo:8', 'topo:9']);
    const freezes = store.freeze(snapshot.slice(0, 3));
    // blue has no accepted port; pa's host a and red's hosts (b); pc's host c.
    expect(freezes.map((f) => [f.where, f.hosts === 'all' ? 'all' : [...f.hosts].sort(), f.names])).to.deep.equal([
      ['topo:5', [], ['network:blue']], ['topo:6', ['a', 'b'], ['port:pa']], ['topo:8', ['c'], ['port:pc']]]);
    expect(['a', 'b', 'c'].map((h) => store.isFrozen(h))).to.deep.equal([true, true, true]);
    const thawed: string[][] = [];
    store.thawed$.subscribe((t) => thawed.push([...t.hosts].sort()));
    expect(store.applyLine(GOOD[5]!).ok).to.equal(true);
    expect(thawed).to.deep.equal([['a', 'b']]);
    expect(store.isFrozen('a')).to.equal(false);
    // c stays frozen until pc itself is accepted, which needs blue first (blue thaws no host).
    expect(store.applyLine(GOOD[4]!).ok).to.equal(true);
    expect(store.isFrozen('c')).to.equal(true);
    expect(store.applyLine(GOOD[7]!).ok).to.equal(true);
    expect(store.isFrozen('c')).to.equal(false);
    expect(thawed).to.deep.equal([['a', 'b'], [], ['c']]);
    // A port line naming no host that can be found freezes every host.
    const all = store.freeze(snapshot.slice(3));
    expect(all[0]!.hosts).to.equal('all');
    expect(store.isFrozen('a') && store.isFrozen('nobody')).to.equal(true);
    // What the operator reads.
    expect(describeFreeze(freezes[1]!)).to.equal('topo:6 rejected: hosts a, b frozen (not touched) until an accepted event names port:pa');
    expect(describeFreeze(freezes[0]!)).to.equal('topo:5 rejected: no host frozen (none is known to be concerned)');
    expect(describeFreeze(all[0]!)).to.equal('topo:9 rejected: ALL hosts frozen (the line names no host that can be found) until an accepted event names port:pz');
    expect(describeFreeze(freezeFor('t:1', 'e', 'garbage', store.topology))).to.match(/ALL hosts frozen .* until restarted with a corrected topology$/);
  });

  it('a rejected line about a known entity freezes its hosts; a replay of the accepted event thaws them', () => {
    const store = new TopologyStore();
    expect(store.applyLines(GOOD, 'topo')).to.deep.equal([]);
    const f = freezeFor('topo:9', 'x', '{"type":"port","id":"pc","mac":"zz"', store.topology);
    expect(f.hosts).to.deep.equal(new Set(['c']));
    const h = freezeFor('topo:9', 'x', '{"type":"host","name":"a","tunnelIp":"1"', store.topology);
    expect([...(h.hosts as Set<string>)].sort()).to.deep.equal(['a', 'b']);
    store.freeze([{ source: 'topo', lineNo: 9, line: '{"type":"port","id":"pc","mac":"zz"', error: 'x' }]);
    expect(store.isFrozen('c')).to.equal(true);
    expect(store.applyLine(GOOD[7]!)).to.deep.equal({ ok: true, changed: true });
    expect(store.isFrozen('c')).to.equal(false);
  });

  it('parseTopology (render) names every bad line', () => {
    expect(() => parseTopology(CORRUPT.join('\n'), 'x.jsonl')).to.throw(/^x\.jsonl:5: unknown member "mtu"\nx\.jsonl:6: not JSON.*\nx\.jsonl:8: port pc: unknown network blue$/);
  });

  it('Topology.clone is independent of its original and keeps the port order', () => {
    const t = parseTopology(GOOD.join('\n'));
    const c = t.clone();
    c.apply(parseEventLine('{"type":"remove","kind":"port","id":"pa"}'));
    c.apply(parseEventLine('{"type":"port","id":"pa2","network":"red","host":"a","mac":"fa:16:3e:00:00:0a","fixedIps":["10.1.0.1"]}'));
    expect(t.portsOn('a').map((p) => p.id)).to.deep.equal(['pa']);
    expect(c.portsOn('a').map((p) => p.id)).to.deep.equal(['pa2']);
    expect([...t.hostsIn('red')].sort()).to.deep.equal(['a', 'b']);
    // The original still holds pa's MAC: the same MAC for another port is refused there only.
    expect(() => t.apply(parseEventLine('{"type":"port","id":"px","network":"red","host":"b","mac":"fa:16:3e:00:00:0a"}'))).to.throw(/already port pa's/);
    expect(new Topology().clone().ports.size).to.equal(0);
    expect(c.portsIn('red').map((p) => p.id)).to.deep.equal(['pb', 'pa2']);
  });
});
