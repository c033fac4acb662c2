// The simulated switch's flow table, alone: identity, ADD/MODIFY/DELETE (strict and loose) with
// cookies, out_port and table 0xff, refusals, atomic batches, timeouts, and the stored form
// (OVS's own FLOW_MOD bytes for 225 flows go in, OVS's own dump lines come out).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { fieldByName } from '../../codecs/openflow/fields.js';
import { Match, setField } from '../../codecs/openflow/match.js';
import {
  decodeMessage, FlowMod, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY, OFPFC_MODIFY_STRICT, OFPTT_ALL,
} from '../../codecs/openflow/messages.js';
import { FlowTable, looseMatches, mayOverlap, OFPRR_DELETE, OFPRR_HARD_TIMEOUT, OFPRR_IDLE_TIMEOUT, RemovedFlow } from '../../testing/sim/flow-table.js';
import {
  OFPBAC_BAD_OUT_GROUP, OFPBIC_BAD_TABLE_ID, OFPBMC_BAD_PREREQ, OFPBRC_EPERM, OFPFMFC_BAD_TABLE_ID, OFPFMFC_OVERLAP,
  OFPMMFC_INVALID_METER,
} from '../../testing/sim/of-errors.js';

let clock = 1_700_000_000_000;
const table = (): FlowTable => new FlowTable({ now: () => clock });

/** What the table holds, as `dump-flows --no-stats | sort` prints it. */
const dump = (t: FlowTable, sel: Parameters<FlowTable['select']>[0] = {}): string[] =>
  [...t.select(sel)].map((f) => ` ${formatFlow(f)}`).sort();

const add = (t: FlowTable, text: string) => t.apply(parseFlow(text));
const del = (t: FlowTable, text: string, strict = false) =>
  t.apply(parseFlow(text, { mode: 'match', command: strict ? OFPFC_DELETE_STRICT : OFPFC_DELETE }));
const mod = (t: FlowTable, text: string, strict = false, cookie?: { cookie: bigint; mask: bigint }) =>
  t.apply({
    ...parseFlow(text, { mode: 'modify', command: strict ? OFPFC_MODIFY_STRICT : OFPFC_MODIFY }),
    ...(cookie ? { cookie: cookie.cookie, cookieMask: cookie.mask } : {}),
  });

describe('simulated flow table', () => {
  it('identifies a flow by table, priority and match, whatever the field order', () => {
    const t = table();
    expect(add(t, 'table=1,priority=5,ip,nw_src=10.0.0.1,in_port=3 actions=drop')).to.equal(undefined);
    expect(add(t, 'table=1,priority=5,in_port=3,nw_src=10.0.0.1,ip,cookie=0x7 actions=output:4')).to.equal(undefined);
    add(t, 'table=1,priority=6,ip,nw_src=10.0.0.1,in_port=3 actions=drop');
    add(t, 'table=2,priority=5,ip,nw_src=10.0.0.1,in_port=3 actions=drop');
    expect(t.size).to.equal(3);
    expect(dump(t)).to.deep.equal([
      ' cookie=0x7, table=1, priority=5,ip,in_port=3,nw_src=10.0.0.1 actions=output:4',
      ' table=1, priority=6,ip,in_port=3,nw_src=10.0.0.1 actions=drop',
      ' table=2, priority=5,ip,in_port=3,nw_src=10.0.0.1 actions=drop',
    ]);
  });

  it('ADD over an identical flow takes its cookie, timeouts and flags and restarts its age', () => {
    const t = table();
    add(t, 'table=3,priority=1,cookie=0x1,idle_timeout=50,send_flow_rem,tun_id=0x5 actions=drop');
    clock += 5000;
    add(t, 'table=3,priority=1,cookie=0x2,hard_timeout=70,check_overlap,reset_counts,tun_id=0x5 actions=output:1');
    const [f] = [...t.select()];
    expect(formatFlow(f!)).to.equal('cookie=0x2, table=3, hard_timeout=70, check_overlap reset_counts priority=1,tun_id=0x5 actions=output:1');
    expect([f!.durationSec, f!.packetCount, f!.byteCount]).to.deep.equal([0, 0n, 0n]);
  });

  it('MODIFY (loose) changes the instructions of every flow at least as specific as the request, any priority; cookie, timeouts and age stay', () => {
    const t = table();
    add(t, 'table=2,priority=1,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=drop');
    add(t, 'table=2,priority=9,cookie=0x5,idle_timeout=10,dl_dst=ff:ff:ff:ff:ff:ff actions=drop');
    add(t, 'table=2,priority=1 actions=drop');
    add(t, 'table=2,priority=2,dl_dst=00:00:00:00:00:01 actions=drop');
    add(t, 'table=3,priority=1,dl_dst=ff:ff:ff:ff:ff:ff actions=drop');
    clock += 3000;
    expect(mod(t, 'table=2,cookie=0x99,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=output:7')).to.equal(undefined);
    expect(dump(t)).to.deep.equal([
      ' cookie=0x5, table=2, idle_timeout=10, priority=9,dl_dst=ff:ff:ff:ff:ff:ff actions=output:7',
      ' table=2, priority=1 actions=drop',
      ' table=2, priority=1,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00 actions=output:7',
      ' table=2, priority=2,dl_dst=00:00:00:00:00:01 actions=drop',
      ' table=3, priority=1,dl_dst=ff:ff:ff:ff:ff:ff actions=drop',
    ]);
    const ages = [...t.select({ table: 2 })].map((f) => f.durationSec);
    expect(ages).to.deep.equal([3, 3, 3, 3]);
  });

  it('MODIFY_STRICT changes only the flow with that priority and exact match', () => {
    const t = table();
    add(t, 'table=4,priority=1,tun_id=0x64 actions=drop');
    add(t, 'table=4,priority=2,tun_id=0x64 actions=drop');
    add(t, 'table=4,priority=1,tun_id=0x64,in_port=1 actions=drop');
    mod(t, 'table=4,priority=1,tun_id=0x64 actions=output:3', true);
    expect(dump(t, { table: 4 })).to.deep.equal([
      ' table=4, priority=1,tun_id=0x64 actions=output:3',
      ' table=4, priority=1,tun_id=0x64,in_port=1 actions=drop',
      ' table=4, priority=2,tun_id=0x64 actions=drop',
    ]);
  });

  it('a MODIFY that selects nothing adds nothing (OpenFlow 1.3)', () => {
    const t = table();
    add(t, 'table=1,priority=1,in_port=1 actions=drop');
    expect(mod(t, 'table=1,priority=1,in_port=2 actions=output:3', true)).to.equal(undefined);
    expect(mod(t, 'table=5,in_port=2 actions=output:3')).to.equal(undefined);
    expect(mod(t, 'table=1,in_port=1 actions=output:3', false, { cookie: 0x5n, mask: 0xffn })).to.equal(undefined);
    expect(dump(t)).to.deep.equal([' table=1, priority=1,in_port=1 actions=drop']);
  });

  it('selects by cookie under its mask, in one table or all (0xff)', () => {
    const t = table();
    for (const [tbl, c] of [[1, '0x11'], [2, '0x12'], [3, '0x21'], [4, '0x0']] as const) add(t, `table=${tbl},priority=1,cookie=${c} actions=drop`);
    mod(t, 'table=2 actions=output:9', false, { cookie: 0x10n, mask: 0xf0n });
    expect(dump(t, { table: 2 })).to.deep.equal([' cookie=0x12, table=2, priority=1 actions=output:9']);
    expect(dump(t, { cookie: 0x10n, cookieMask: 0xf0n }).map((l) => l.slice(0, 14))).to.deep.equal([' cookie=0x11, ', ' cookie=0x12, ']);
    del(t, 'cookie=0x10/0xf0');
    expect(dump(t)).to.deep.equal([' cookie=0x21, table=3, priority=1 actions=drop', ' table=4, priority=1 actions=drop']);
    del(t, 'table=3');
    expect(dump(t)).to.deep.equal([' table=4, priority=1 actions=drop']);
  });

  it('DELETE and dumps filter by out_port (output in apply or write actions)', () => {
    const t = table();
    add(t, 'table=1,priority=1,in_port=1 actions=output:2');
    add(t, 'table=1,priority=1,in_port=2 actions=write_actions(output:2)');
    add(t, 'table=1,priority=1,in_port=3 actions=output:3');
    add(t, 'table=2,priority=1,in_port=3 actions=output:2,output:4');
    expect(dump(t, { outPort: 2 })).to.have.length(3);
    expect(dump(t, { outPort: 2, table: 1 })).to.have.length(2);
    del(t, 'table=1,out_port=2');
    expect(dump(t)).to.deep.equal([
      ' table=1, priority=1,in_port=3 actions=output:3',
      ' table=2, priority=1,in_port=3 actions=output:2,output:4',
    ]);
    del(t, 'out_port=4');
    expect(dump(t)).to.deep.equal([' table=1, priority=1,in_port=3 actions=output:3']);
  });

  it('DELETE_STRICT removes the exact (priority, match) only, in one table or every table', () => {
    const t = table();
    for (const tbl of [0, 1, 2]) {
      add(t, `table=${tbl},priority=5,in_port=1 actions=drop`);
      add(t, `table=${tbl},priority=6,in_port=1 actions=drop`);
    }
    del(t, 'table=1,priority=5,in_port=1', true);
    expect(t.size).to.equal(5);
    del(t, 'priority=5,in_port=1', true); // table 0xff
    expect(dump(t)).to.deep.equal([
      ' priority=6,in_port=1 actions=drop', ' table=1, priority=6,in_port=1 actions=drop', ' table=2, priority=6,in_port=1 actions=drop',
    ]);
    del(t, 'priority=6', true); // no flow with an empty match
    expect(t.size).to.equal(3);
  });

  it('dumps with a loose match: flows at least as specific, any priority', () => {
    const t = table();
    add(t, 'table=20,priority=2,dl_vlan=1,dl_dst=fa:16:3e:00:00:01 actions=drop');
    add(t, 'table=20,priority=2,dl_vlan=2,dl_dst=fa:16:3e:00:00:02 actions=drop');
    add(t, 'table=20,priority=0 actions=drop');
    const m = parseFlow('dl_vlan=1', { mode: 'match' }).match;
    expect(dump(t, { match: m })).to.deep.equal([' table=20, priority=2,dl_vlan=1,dl_dst=fa:16:3e:00:00:01 actions=drop']);
  });

  it('refuses what OVS refuses, and changes nothing', () => {
    const t = table();
    add(t, 'table=3,priority=5,ip actions=drop');
    const before = dump(t);
    expect(t.apply({ ...parseFlow('table=1,priority=1 actions=drop'), table: OFPTT_ALL })).to.deep.equal(OFPFMFC_BAD_TABLE_ID);
    expect(t.apply({ ...parseFlow('table=1,priority=1 actions=drop', { mode: 'modify', command: OFPFC_MODIFY }), table: OFPTT_ALL }))
      .to.deep.equal(OFPFMFC_BAD_TABLE_ID);
    expect(add(t, 'table=254,priority=1 actions=drop')).to.deep.equal(OFPBRC_EPERM);
    expect(add(t, 'table=5,priority=1 actions=goto_table:5')).to.deep.equal(OFPBIC_BAD_TABLE_ID);
    expect(add(t, 'table=5,priority=1 actions=group:77')).to.deep.equal(OFPBAC_BAD_OUT_GROUP);
    expect(add(t, 'table=5,priority=1 actions=meter:1,output:1')).to.deep.equal(OFPMMFC_INVALID_METER);
    expect(add(t, 'table=3,priority=5,check_overlap,tcp actions=drop')).to.deep.equal(OFPFMFC_OVERLAP);
    // A field without its prerequisite (nw_src without ip) cannot travel in OpenFlow 1.3.
    const noPrereq: Match = new Map();
    setField(noPrereq, fieldByName('nw_src')!, 0x0a000001n);
    expect(t.apply({ ...parseFlow('table=6,priority=1 actions=drop'), match: noPrereq })).to.deep.equal(OFPBMC_BAD_PREREQ);
    expect(dump(t)).to.deep.equal(before);
    // Overlap is only about other flows of the same priority that a packet could match too.
    expect(add(t, 'table=3,priority=5,check_overlap,arp actions=drop')).to.equal(undefined);
    expect(add(t, 'table=3,priority=6,check_overlap,ip actions=drop')).to.equal(undefined);
    expect(add(t, 'table=3,priority=5,check_overlap,ip actions=output:1')).to.equal(undefined); // identical: replaced
    expect(t.size).to.equal(3);
  });

  it('applies a batch all or nothing and names the failing position', () => {
    const t = table();
    add(t, 'table=1,priority=1,in_port=1 actions=drop');
    add(t, 'table=2,priority=1,in_port=1 actions=drop');
    const before = dump(t);
    const batch: FlowMod[] = [
      parseFlow('table=1,priority=1,in_port=1 actions=output:5'),
      parseFlow('table=2', { mode: 'match', command: OFPFC_DELETE }),
      parseFlow('table=7,priority=1 actions=drop'),
      parseFlow('table=8,priority=1 actions=group:1'),
      parseFlow('table=9,priority=1 actions=drop'),
    ];
    expect(t.applyAll(batch)).to.deep.equal({ index: 3, error: OFPBAC_BAD_OUT_GROUP });
    expect(dump(t)).to.deep.equal(before);
    expect(t.applyAll(batch.filter((_, i) => i !== 3))).to.equal(undefined);
    expect(dump(t)).to.deep.equal([
      ' table=1, priority=1,in_port=1 actions=output:5', ' table=7, priority=1 actions=drop', ' table=9, priority=1 actions=drop',
    ]);
  });

  it('expires flows by hard and idle timeout and reports removals of send_flow_rem flows, deletes included', () => {
    const t = table();
    const removed: RemovedFlow[] = [];
    t.onRemoved((r) => removed.push(r));
    add(t, 'table=20,priority=1,hard_timeout=300,send_flow_rem,dl_dst=fa:16:3e:00:00:01 actions=drop');
    add(t, 'table=20,priority=1,idle_timeout=10,send_flow_rem,dl_dst=fa:16:3e:00:00:02 actions=drop');
    add(t, 'table=20,priority=1,idle_timeout=10,dl_dst=fa:16:3e:00:00:03 actions=drop');
    add(t, 'table=21,priority=1,send_flow_rem actions=drop');
    clock += 10_000;
    expect(t.expire()).to.equal(0);
    clock += 1;
    expect(t.expire()).to.equal(2);
    clock += 290_000;
    expect(t.expire()).to.equal(1);
    del(t, 'table=21');
    expect(t.size).to.equal(0);
    expect(removed.map((r) => [r.reason, r.flow.table, r.flow.durationSec])).to.deep.equal([
      [OFPRR_IDLE_TIMEOUT, 20, 10], [OFPRR_HARD_TIMEOUT, 20, 300], [OFPRR_DELETE, 21, 300],
    ]);
    // A batch that fails reports nothing: its deletes never happened.
    add(t, 'table=22,priority=1,send_flow_rem actions=drop');
    t.applyAll([parseFlow('table=22', { mode: 'match', command: OFPFC_DELETE }), parseFlow('table=3,priority=1 actions=group:1')]);
    expect(removed).to.have.length(3);
  });

  it('onDeleted sees every flow a DELETE removed, flags or not, and nothing from a batch that was undone', () => {
    const t = table();
    const deleted: string[] = [];
    const off = t.onDeleted((r) => deleted.push(` ${formatFlow(r.flow)}`));
    add(t, 'table=0,priority=5,in_port=1 actions=drop');
    add(t, 'table=0,priority=6,in_port=2 actions=drop');
    add(t, 'table=1,priority=7,in_port=3 actions=drop');
    // Replacing a flow (ADD over it, MODIFY) deletes nothing.
    add(t, 'table=0,priority=5,in_port=1 actions=output:2');
    mod(t, 'table=1,in_port=3 actions=output:4');
    expect(deleted).to.deep.equal([]);
    const undone = t.applyAll([
      parseFlow('table=0,in_port=2', { mode: 'match', command: OFPFC_DELETE }),
      parseFlow('table=0,priority=9,in_port=9 actions=group:7'),
    ]);
    expect(undone?.index).to.equal(1);
    expect(deleted).to.deep.equal([]);
    del(t, 'table=0,priority=6,in_port=2', true);
    del(t, 'table=0,in_port=1');
    expect(deleted.sort()).to.deep.equal([' priority=5,in_port=1 actions=output:2', ' priority=6,in_port=2 actions=drop']);
    off();
    del(t, 'table=1');
    expect(deleted).to.have.length(2);
    expect(dump(t)).to.deep.equal([]);
  });

  it('loose match and overlap relations', () => {
    const m = (text: string): Match => parseFlow(text, { mode: 'match' }).match;
    expect(looseMatches(m('ip,nw_src=10.0.0.1'), m('ip,nw_src=10.0.0.0/8'))).to.equal(true);
    expect(looseMatches(m('ip,nw_src=10.0.0.0/8'), m('ip,nw_src=10.0.0.1'))).to.equal(false);
    expect(looseMatches(m('ip'), m('ip,nw_src=10.0.0.1'))).to.equal(false);
    expect(looseMatches(m('ip,nw_src=11.0.0.1'), m('ip,nw_src=10.0.0.0/8'))).to.equal(false);
    expect(mayOverlap(m('ip,nw_src=10.0.0.0/8'), m('ip,nw_src=10.1.0.0/16'))).to.equal(true);
    expect(mayOverlap(m('ip,nw_src=10.0.0.0/8'), m('ip,nw_src=11.1.0.0/16'))).to.equal(false);
    expect(mayOverlap(m('in_port=1'), m('tun_id=5'))).to.equal(true);
  });

  it("holds OVS's own FLOW_MODs for the 225-flow codec corpus and prints exactly what OVS printed for them", () => {
    const corpus = readFileSync('fixtures/codec/corpus.jsonl', 'utf8').split('\n').filter((l) => l)
      .map((l) => JSON.parse(l) as { input: string; flowMod: string; dump: string });
    const t = table();
    const want: string[] = [];
    let refused = 0;
    for (const c of corpus) {
      const res = decodeMessage(Buffer.from(c.flowMod, 'hex'));
      if (!res.ok || res.msg.type !== 'flow_mod') throw new Error(`corpus flow does not decode: ${c.input}`);
      const error = t.apply(res.msg);
      // The corpus bridge had group 1 and meter 1; this switch has neither and refuses as OVS would.
      if (/group:|meter:/.test(c.input)) {
        expect(error, c.input).to.be.oneOf([OFPBAC_BAD_OUT_GROUP, OFPMMFC_INVALID_METER]);
        refused++;
      } else {
        expect(error, c.input).to.equal(undefined);
        want.push(c.dump);
      }
    }
    expect(refused).to.be.above(0);
    expect(t.size).to.equal(want.length);
    expect(dump(t)).to.deep.equal(want.sort());
  });
});
