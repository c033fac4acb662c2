// The simulated OVSDB transaction engine on the real Open_vSwitch schema: defaults, named UUIDs,
// atomicity, garbage collection, weak references, mutations, integrity and constraint errors,
// blocking waits, and the commit hook. The shapes asserted here were read off ovsdb-server 3.1;
// test/sim/ovsdb-crosscheck.test.ts replays the same kinds of transactions against it.
import { expect } from 'chai';
import type { Json } from '../../codecs/ovsdb/protocol.js';
import { CommitEvent, OvsdbDatabase } from '../../testing/sim/ovsdb-db.js';
import { loadSchemaFile, parseSchema } from '../../testing/sim/ovsdb-schema.js';

const schema = loadSchemaFile('/usr/share/openvswitch/vswitch.ovsschema');

/** A database with the Open_vSwitch row and bridge br0 (LOCAL port br0), as `ovs-vsctl add-br` makes. */
function freshDb(): { db: OvsdbDatabase; root: string; br0: string } {
  const db = new OvsdbDatabase(schema);
  const [r] = db.transact([{ op: 'insert', table: 'Open_vSwitch', row: {} }]);
  const root = ((r as { uuid: [string, string] }).uuid)[1];
  const res = db.transact([
    { op: 'insert', table: 'Interface', 'uuid-name': 'i', row: { name: 'br0', type: 'internal' } },
    { op: 'insert', table: 'Port', 'uuid-name': 'p', row: { name: 'br0', interfaces: ['named-uuid', 'i'] } },
    { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0', ports: ['named-uuid', 'p'] } },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] },
  ]);
  return { db, root, br0: ((res[2] as { uuid: [string, string] }).uuid)[1] };
}

const names = (db: OvsdbDatabase, table: string): string[] => db.rows(table).map((r) => r.get('name') as string).sort();
const uuidOf = (r: Json): string => ((r as { uuid: [string, string] }).uuid)[1];

function addPort(db: OvsdbDatabase, name: string, iface: Record<string, Json> = {}): Json[] {
  return db.transact([
    { op: 'insert', table: 'Interface', 'uuid-name': 'i', row: { name, ...iface } },
    { op: 'insert', table: 'Port', 'uuid-name': 'p', row: { name, interfaces: ['named-uuid', 'i'] } },
    { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']], mutations: [['ports', 'insert', ['named-uuid', 'p']]] },
  ]);
}

describe('simulated OVSDB: transaction engine', () => {
  it('fills omitted columns with their defaults and resolves named UUIDs across operations', () => {
    const { db, br0 } = freshDb();
    const bridge = db.row('Bridge', br0)!;
    expect(bridge.get('fail_mode')).to.deep.equal(['set', []]);
    expect(bridge.get('other_config')).to.deep.equal(['map', []]);
    expect(bridge.get('stp_enable')).to.equal(false);
    const port = db.rows('Port')[0]!;
    expect(bridge.get('ports')).to.deep.equal(['uuid', port.uuid]);
    expect(port.get('interfaces')).to.deep.equal(['uuid', db.rows('Interface')[0]!.uuid]);
    expect(db.rows('Interface')[0]!.get('ofport')).to.deep.equal(['set', []]);
    // A forward reference: the named UUID is used before the insert that defines it.
    const res = db.transact([
      { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']], mutations: [['ports', 'insert', ['named-uuid', 'p2']]] },
      { op: 'insert', table: 'Port', 'uuid-name': 'p2', row: { name: 'p2', interfaces: ['named-uuid', 'i2'] } },
      { op: 'insert', table: 'Interface', 'uuid-name': 'i2', row: { name: 'p2' } },
    ]);
    expect(res).to.have.length(3);
    expect(names(db, 'Port')).to.deep.equal(['br0', 'p2']);
    expect(db.row('Port', uuidOf(res[1]!))!.get('interfaces')).to.deep.equal(['uuid', uuidOf(res[2]!)]);
  });

  it('inserts with an explicit uuid, and refuses a duplicate one', () => {
    const { db } = freshDb();
    const u = '11111111-2222-3333-4444-555555555555';
    expect(db.transact([{ op: 'insert', table: 'Controller', uuid: u, row: { target: 'tcp:1.2.3.4:6653' } },
      { op: 'update', table: 'Bridge', where: [], row: { controller: ['uuid', u] } }])).to.deep.equal([{ uuid: ['uuid', u] }, { count: 1 }]);
    const dup = db.transact([{ op: 'insert', table: 'Controller', uuid: u, row: {} }]);
    expect((dup[0] as { error: string }).error).to.equal('duplicate uuid');
  });

  it('garbage-collects Port and Interface rows no bridge references any more, and never-referenced inserts', () => {
    const { db } = freshDb();
    addPort(db, 'tap1');
    expect(names(db, 'Port')).to.deep.equal(['br0', 'tap1']);
    const tap1 = db.rows('Port').find((p) => p.get('name') === 'tap1')!;
    const res = db.transact([
      { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']], mutations: [['ports', 'delete', ['uuid', tap1.uuid]]] },
      { op: 'insert', table: 'Interface', row: { name: 'lonely' } },
      { op: 'select', table: 'Interface', where: [], columns: ['name'] },
    ]);
    // Inside the transaction the unreferenced row still exists; at commit it is collected.
    expect(((res[2] as { rows: Json[] }).rows).map((r) => (r as { name: string }).name).sort()).to.deep.equal(['br0', 'lonely', 'tap1']);
    expect(names(db, 'Port')).to.deep.equal(['br0']);
    expect(names(db, 'Interface')).to.deep.equal(['br0']);
    // Root rows are never collected.
    db.transact([{ op: 'update', table: 'Open_vSwitch', where: [], row: { bridges: ['set', []] } }]);
    expect(db.rows('Open_vSwitch')).to.have.length(1);
    expect(db.rows('Bridge')).to.have.length(0);
    expect(db.rows('Port')).to.have.length(0);
  });

  it('a failing wait (timeout 0) applies nothing and answers the results so far, the error, then nulls', () => {
    const { db } = freshDb();
    const res = db.transact([
      { op: 'update', table: 'Bridge', where: [['name', '==', 'br0']], row: { fail_mode: 'secure' } },
      { op: 'wait', table: 'Bridge', where: [['name', '==', 'br0']], columns: ['fail_mode'], until: '==', rows: [{ fail_mode: 'standalone' }], timeout: 0 },
      { op: 'comment', comment: 'never reached' },
    ]);
    expect(res).to.deep.equal([{ count: 1 }, { error: 'timed out', details: '"where" clause test failed' }, null]);
    expect(db.rows('Bridge')[0]!.get('fail_mode')).to.deep.equal(['set', []]);
    // The same wait holds once the value is there; "!=" is its negation.
    db.transact([{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 'standalone' } }]);
    expect(db.transact([
      { op: 'wait', table: 'Bridge', where: [['name', '==', 'br0']], columns: ['fail_mode'], until: '==', rows: [{ fail_mode: 'standalone' }], timeout: 0 },
      { op: 'wait', table: 'Bridge', where: [], columns: ['name'], until: '!=', rows: [], timeout: 0 },
    ])).to.deep.equal([{}, {}]);
  });

  it('a wait with a timeout blocks until a later commit satisfies it, or fails with "timed out" after it', async () => {
    const { db } = freshDb();
    const wait = (timeout: number): Json => ({
      op: 'wait', table: 'Bridge', where: [['name', '==', 'br0']], columns: ['fail_mode'], until: '==', rows: [{ fail_mode: 'secure' }], timeout,
    });
    const satisfied = db.transactWhenReady([wait(60_000), { op: 'update', table: 'Bridge', where: [], row: { external_ids: ['map', [['seen', 'yes']]] } }]);
    let settled = false;
    void satisfied.result.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).to.equal(false);
    db.transact([{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 'secure' } }]);
    expect(await satisfied.result).to.deep.equal([{}, { count: 1 }]);
    expect(db.rows('Bridge')[0]!.get('external_ids')).to.deep.equal(['map', [['seen', 'yes']]]);
    db.transact([{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 'standalone' } }]);
    const res = await db.transactWhenReady([wait(30)]).result;
    expect(res).to.have.length(1);
    expect(res[0]).to.have.property('error', 'timed out');
    expect((res[0] as { details: string }).details).to.match(/^"wait" timed out after \d+ ms$/);
  });

  it('mutates sets and maps as ovsdb-server: insert keeps existing keys, delete by key or by pair', () => {
    const { db } = freshDb();
    const where = [['name', '==', 'br0']];
    db.transact([{ op: 'update', table: 'Bridge', where, row: { other_config: ['map', [['a', '1'], ['b', '2']]], protocols: 'OpenFlow10' } }]);
    db.transact([{ op: 'mutate', table: 'Bridge', where, mutations: [
      ['other_config', 'insert', ['map', [['a', '9'], ['c', '3']]]],
      ['other_config', 'delete', ['set', ['b']]],
      ['protocols', 'insert', ['set', ['OpenFlow13', 'OpenFlow10']]],
    ] }]);
    const b = db.rows('Bridge')[0]!;
    expect(b.get('other_config')).to.deep.equal(['map', [['a', '1'], ['c', '3']]]);
    expect(b.get('protocols')).to.deep.equal(['set', ['OpenFlow10', 'OpenFlow13']]);
    // Deleting a pair needs key and value to match.
    db.transact([{ op: 'mutate', table: 'Bridge', where, mutations: [['other_config', 'delete', ['map', [['a', 'x'], ['c', '3']]]], ['protocols', 'delete', 'OpenFlow10']] }]);
    expect(db.rows('Bridge')[0]!.get('other_config')).to.deep.equal(['map', [['a', '1']]]);
    expect(db.rows('Bridge')[0]!.get('protocols')).to.equal('OpenFlow13');
    // Integers: += on a scalar; a set too large for its column is refused.
    db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 5], ['next_cfg', '-=', 2]] }]);
    expect(db.rows('Open_vSwitch')[0]!.get('next_cfg')).to.equal(3);
    addPort(db, 'tap1');
    const r = db.transact([{ op: 'mutate', table: 'Interface', where: [['name', '==', 'tap1']], mutations: [['ofport', 'insert', 5]] },
      { op: 'mutate', table: 'Interface', where: [['name', '==', 'tap1']], mutations: [['ofport', 'insert', 6]] }]);
    expect(r[1]).to.deep.equal({ error: 'constraint violation', details: 'Attempted to store 2 elements in set of up to 1 integers.' });
    expect(db.rows('Interface').find((i) => i.get('name') === 'tap1')!.get('ofport')).to.deep.equal(['set', []]);
  });

  it('selects with ==, !=, includes, excludes and < (an empty optional matches no ordering), distinct rows', () => {
    const { db } = freshDb();
    addPort(db, 'tap1');
    addPort(db, 'tap2');
    db.transact([{ op: 'update', table: 'Port', where: [['name', '==', 'tap1']], row: { tag: 5, other_config: ['map', [['k', 'v']]] } }]);
    const sel = (where: Json[], columns = ['name']): string[] =>
      ((db.transact([{ op: 'select', table: 'Port', where, columns }])[0] as { rows: Array<{ name: string }> }).rows).map((r) => r.name).sort();
    expect(sel([['tag', '<', 6]])).to.deep.equal(['tap1']);
    expect(sel([['tag', '>=', 0]])).to.deep.equal(['tap1']);
    expect(sel([['tag', '==', ['set', []]]])).to.deep.equal(['br0', 'tap2']);
    expect(sel([['tag', '!=', 5]])).to.deep.equal(['br0', 'tap2']);
    expect(sel([['other_config', 'includes', ['map', [['k', 'v']]]]])).to.deep.equal(['tap1']);
    expect(sel([['other_config', 'excludes', ['map', [['k', 'v']]]]])).to.deep.equal(['br0', 'tap2']);
    expect(sel([true, ['name', '!=', 'br0']])).to.deep.equal(['tap1', 'tap2']);
    // Rows are distinct over the selected columns.
    const rows = (db.transact([{ op: 'select', table: 'Port', where: [], columns: ['fake_bridge'] }])[0] as { rows: Json[] }).rows;
    expect(rows).to.deep.equal([{ fake_bridge: false }]);
  });

  it('refuses a strong reference to a missing row, and deleting a row that is still referenced', () => {
    const { db, br0 } = freshDb();
    const missing = '12345678-1234-1234-1234-123456789012';
    const res = db.transact([{ op: 'insert', table: 'Bridge', row: { name: 'br1', ports: ['uuid', missing] } }]);
    expect(res).to.have.length(2);
    expect(res[1]).to.deep.equal({
      error: 'referential integrity violation',
      details: `Table Bridge column ports row ${uuidOf(res[0]!)} references nonexistent row ${missing} in table Port.`,
    });
    expect(db.transact([{ op: 'delete', table: 'Bridge', where: [] }])).to.deep.equal([{ count: 1 }, {
      error: 'referential integrity violation', details: `cannot delete Bridge row ${br0} because of 1 remaining reference(s)`,
    }]);
    // A Port without interfaces gets the default all-zeros reference, which does not exist.
    const p = db.transact([{ op: 'insert', table: 'Port', row: { name: 'x' } }]);
    expect((p[1] as { details: string }).details).to.contain('references nonexistent row 00000000-0000-0000-0000-000000000000 in table Interface');
    expect(names(db, 'Bridge')).to.deep.equal(['br0']);
  });

  it('checks enums, integer ranges, set sizes, immutable columns, unique indexes and maxRows', () => {
    const { db } = freshDb();
    const one = (op: Json): Json => db.transact([op]).at(-1)!;
    expect(one({ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 'bogus' } })).to.deep.equal(
      { error: 'constraint violation', details: 'bogus is not one of the allowed values ([secure, standalone])' });
    expect(one({ op: 'update', table: 'Port', where: [], row: { tag: 5000 } })).to.deep.equal(
      { error: 'constraint violation', details: '5000 is not in the valid range 0 to 4095 (inclusive)' });
    expect(one({ op: 'update', table: 'Interface', where: [], row: { ofport: ['set', [1, 2]] } })).to.deep.equal(
      { error: 'syntax error', details: 'set must have 0 to 1 members but 2 are present', syntax: '["set",[1,2]]' });
    expect((one({ op: 'update', table: 'Bridge', where: [], row: { name: 'x' } }) as { details: string }).details).to.equal('Cannot update immutable column name in table Bridge.');
    expect((one({ op: 'update', table: 'Bridge', where: [], row: { nosuch: 1 } }) as { error: string }).error).to.equal('unknown column');
    expect((one({ op: 'select', table: 'Nope', where: [] }) as { details: string }).details).to.equal('Parsing ovsdb operation 1 of 1 failed: No table named Nope.');
    const dup = db.transact([
      { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0' } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] },
    ]);
    expect((dup[2] as { details: string }).details).to.match(/^Transaction causes multiple rows in "Bridge" table to have identical values \(br0\) for index on column "name"\./);
    expect(one({ op: 'insert', table: 'Open_vSwitch', row: {} })).to.deep.equal({ error: 'constraint violation',
      details: 'transaction causes "Open_vSwitch" table to contain 2 rows, greater than the schema-defined limit of 1 row(s)' });
    expect(one({ op: 'abort' })).to.deep.equal({ error: 'aborted', details: 'aborted by request' });
    expect(names(db, 'Bridge')).to.deep.equal(['br0']);
  });

  it('drops weak references to rows that disappear (Mirror.select_src_port when its Port is collected)', () => {
    const { db } = freshDb();
    addPort(db, 'tap1');
    const tap1 = db.rows('Port').find((p) => p.get('name') === 'tap1')!.uuid;
    const br0Port = db.rows('Port').find((p) => p.get('name') === 'br0')!.uuid;
    db.transact([
      { op: 'insert', table: 'Mirror', 'uuid-name': 'm', row: { name: 'm1', select_src_port: ['set', [['uuid', tap1], ['uuid', br0Port]]] } },
      { op: 'mutate', table: 'Bridge', where: [], mutations: [['mirrors', 'insert', ['named-uuid', 'm']]] },
    ]);
    db.transact([{ op: 'mutate', table: 'Bridge', where: [], mutations: [['ports', 'delete', ['uuid', tap1]]] }]);
    expect(db.rows('Mirror')[0]!.get('select_src_port')).to.deep.equal(['uuid', br0Port]);
  });

  it('tells commit hooks what changed, in commit order, and lets them run their own transaction', () => {
    const { db } = freshDb();
    const seen: string[] = [];
    // The glue's role: ovs-vswitchd assigns ofports to new interfaces and acknowledges next_cfg.
    db.onCommit((e: CommitEvent) => {
      seen.push(`ins ${e.inserted('Interface').map((i) => i.get('name')).join(',')} mod ${e.modified('Open_vSwitch').map((m) => m.columns.join('+')).join(',')}`);
      const ops: Json[] = e.inserted('Interface').map((i) => ({ op: 'update', table: 'Interface', where: [['_uuid', '==', ['uuid', i.uuid]]], row: { ofport: 7 } }));
      for (const m of e.modified('Open_vSwitch')) {
        if (m.columns.includes('next_cfg')) ops.push({ op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: m.new.get('next_cfg') } });
      }
      if (ops.length) db.transact(ops);
    });
    const other: string[] = [];
    db.onCommit((e) => other.push(e.modified('Interface').length ? 'ofports' : e.inserted('Interface').length ? 'insert' : 'cfg'));
    addPort(db, 'tap1');
    db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }]);
    expect(db.rows('Interface').find((i) => i.get('name') === 'tap1')!.get('ofport')).to.equal(7);
    expect(db.rows('Open_vSwitch')[0]!.get('cur_cfg')).to.equal(1);
    expect(seen).to.deep.equal(['ins tap1 mod ', 'ins  mod ', 'ins  mod next_cfg', 'ins  mod cur_cfg']);
    // The second listener saw the insert before the hook's follow-up, as a monitor must.
    expect(other).to.deep.equal(['insert', 'ofports', 'cfg', 'cfg']);
  });

  it('a transaction that changes nothing commits nothing (no hook call)', () => {
    const { db } = freshDb();
    let calls = 0;
    db.onCommit(() => calls++);
    expect(db.transact([{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: ['set', []] } }, { op: 'insert', table: 'Interface', row: { name: 'gone' } }]))
      .to.have.length(2);
    expect(calls).to.equal(0);
  });

  it('parses a schema object given directly, and answers get_schema in ovsdb-server\'s normal form', () => {
    const s = parseSchema({ name: 'T', version: '1.0.0', tables: { A: { columns: { n: { type: { key: { type: 'integer' }, min: 0, max: 1 } } }, isRoot: true } } });
    expect(s.json).to.deep.equal({ name: 'T', version: '1.0.0', tables: { A: { columns: { n: { type: { key: 'integer', min: 0 } } }, isRoot: true } } });
    const db = new OvsdbDatabase(s);
    expect(db.transact([{ op: 'insert', table: 'A', row: { n: 3 } }, { op: 'select', table: 'A', where: [['n', '>', 2]], columns: ['n'] }])[1])
      .to.deep.equal({ rows: [{ n: 3 }] });
  });
});
