// Honesty check of the simulated OVSDB server: the same raw transactions go to a real ovsdb-server
// 3.1 (a sandbox whose ovs-vswitchd is killed first, so nothing else writes) and to the simulator
// seeded with the real database's rows. Results, `update`/`update2`/`update3` notifications of
// three monitors and the final tables must be equal once UUIDs are replaced by the order in which
// inserts created them (and the value of _version, random on both, is masked).
import { expect } from 'chai';
import type { Json, Notification, Operation } from '../../codecs/ovsdb/protocol.js';
import { planHostSetup } from '../../lib/controller/host-setup.js';
import { deriveHostState } from '../../lib/state/host-state.js';
import type { Replica, Row } from '../../lib/ovsdb/client.js';
import { OvsdbConnection, OvsdbError } from '../../lib/ovsdb/connection.js';
import { vswitchView } from '../../lib/ovsdb/vswitch.js';
import { parseTopology } from '../../lib/topology/model.js';
import { canonicalJson } from '../../testing/sim/ovsdb-datum.js';
import { OvsdbDatabase } from '../../testing/sim/ovsdb-db.js';
import { loadSchemaFile } from '../../testing/sim/ovsdb-schema.js';
import { OvsdbSimServer } from '../../testing/sim/ovsdb-server.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const DB = 'Open_vSwitch';
const UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const TABLES = ['Open_vSwitch', 'Bridge', 'Port', 'Interface', 'Controller', 'Mirror'];

const topology = (remotes: string[]): string => [
  '{"type":"host","name":"compute","tunnelIp":"10.0.100.88"}',
  ...remotes.map((ip, i) => `{"type":"host","name":"r${i}","tunnelIp":"${ip}"}`),
  '{"type":"network","id":"net-1001","vni":1001}',
  // No ovs-vswitchd here to number interfaces: vm-1 is plugged as an offline topology says it.
  '{"type":"port","id":"vm-1","network":"net-1001","host":"compute","mac":"fa:16:3e:83:95:fa","fixedIps":["10.0.0.5"],"ofport":2}',
  ...remotes.map((_, i) => `{"type":"port","id":"p-r${i}","network":"net-1001","host":"r${i}","mac":"fa:16:3e:00:00:0${i + 1}","fixedIps":["10.0.0.${10 + i}"]}`),
].join('\n');
const SETUP = { controllerTarget: 'tcp:127.0.0.1:6653', datapathType: 'netdev', maxBackoffMs: 1000 };

/** One server under test: its connection, notifications, and the labels of the UUIDs it created. */
class Side {
  readonly notes: Notification[] = [];
  private readonly labels = new Map<string, string>();
  private created = 0;

  constructor(readonly conn: OvsdbConnection) {
    conn.notifications$.subscribe((n) => this.notes.push(n));
    this.keep(ZERO_UUID);
  }

  keep(uuid: string): void {
    this.labels.set(uuid, uuid === ZERO_UUID ? uuid : `seed:${uuid}`);
  }

  /** Sends a transaction; returns its results and the notifications that came with it. */
  async transact(ops: readonly (Operation | Json)[]): Promise<{ results: Json; notes: Json[] }> {
    return this.call('transact', [DB, ...(ops as Json[])]);
  }

  /** Any request: its result (or error) and the notifications that came before the reply. */
  async call(method: string, params: Json[]): Promise<{ results: Json; notes: Json[] }> {
    this.notes.length = 0;
    const results = await this.conn.request(method, params).catch((e: OvsdbError) => ({ rpcError: e.error ?? null }));
    for (const r of Array.isArray(results) ? results : []) {
      const u = r && typeof r === 'object' && !Array.isArray(r) ? r.uuid : undefined;
      if (Array.isArray(u)) this.labels.set(u[1] as string, `#${++this.created}`);
    }
    await this.conn.request('echo', []); // a barrier: every notification sent before is in
    // Notifications of different monitors come in no defined order: sorted by monitor id.
    const notes = [...this.notes].sort((a, b) => (String(a.params[0]) < String(b.params[0]) ? -1 : 1));
    return { results: this.norm(results), notes: notes.map((n) => this.norm([n.method, ...n.params])) };
  }

  async replica(): Promise<Replica> {
    const res = (await this.conn.request('transact', [DB, ...TABLES.map((table) => ({ op: 'select', table, where: [] }))])) as Array<{ rows: Row[] }>;
    return new Map(TABLES.map((t, i) => [t, new Map(res[i]!.rows.map((r) => [(r._uuid as [string, string])[1], r]))]));
  }

  /** UUIDs to labels, _version values masked, sets/maps/rows sorted (their order follows UUID values). */
  norm(v: Json): Json {
    if (typeof v === 'string') return v.replace(UUID_G, (u) => this.labels.get(u) ?? '?');
    if (Array.isArray(v)) {
      const a = v.map((x) => this.norm(x));
      if ((a[0] === 'set' || a[0] === 'map') && a.length === 2 && Array.isArray(a[1])) return [a[0], sortJson(a[1])];
      return a;
    }
    if (v && typeof v === 'object') {
      const o: Record<string, Json> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === '_version') {
          o[k] = 'version'; // random on both sides: only its presence is compared
          continue;
        }
        o[this.norm(k) as string] = k === 'rows' && Array.isArray(x) ? sortJson(x.map((r) => this.norm(r))) : this.norm(x);
      }
      return o;
    }
    return v;
  }
}

/** Sorted by their JSON text with object members sorted (servers write members in any order). */
const sortJson = (a: Json[]): Json[] => [...a].sort((x, y) => (canonicalJson(x) < canonicalJson(y) ? -1 : 1));

describe('simulated OVSDB server cross-checked against a real ovsdb-server 3.1', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  let server: OvsdbSimServer;
  let real: Side;
  let sim: Side;
  const initial: Record<'real' | 'sim', Json[]> = { real: [], sim: [] };

  before(async () => {
    ovs = await OvsSandbox.start({});
    await ovs.killVswitchd();
    real = new Side(await OvsdbConnection.connect({ kind: 'unix', path: ovs.dbSock }));
    // The simulator starts with the real database's rows (same UUIDs): the Open_vSwitch row.
    const db = new OvsdbDatabase(loadSchemaFile());
    const seed: Json[] = [];
    const content = await real.replica();
    for (const [table, rows] of content) {
      for (const [u, row] of rows) {
        const { _uuid: _u, _version: _v, ...cols } = row;
        seed.push({ op: 'insert', table, uuid: u, row: cols });
        real.keep(u);
      }
    }
    expect(db.transact(seed).every((r) => r && typeof r === 'object' && 'uuid' in r)).to.equal(true);
    server = new OvsdbSimServer(db);
    sim = new Side(await OvsdbConnection.connect({ kind: 'unix', path: (await server.listen(`unix:${ovs.dir}/sim.sock`)).slice(5) }));
    for (const t of content.values()) for (const u of t.keys()) sim.keep(u);
    const monitors: Array<[string, Json[]]> = [
      ['monitor', [DB, 'v1', { Open_vSwitch: { columns: ['bridges', 'next_cfg', 'cur_cfg', 'external_ids'] }, Bridge: {}, Port: {}, Interface: {}, Controller: {}, Mirror: {} }]],
      ['monitor_cond', [DB, 'v2', { Bridge: [{ columns: ['name', 'ports', 'fail_mode', 'protocols', 'other_config', 'controller'] }], Port: [{}], Interface: [{ columns: ['name', 'type', 'options', 'ofport', 'ofport_request', 'external_ids'] }], Mirror: [{}] }]],
      ['monitor_cond_since', [DB, 'v3', { Bridge: [{ columns: ['name', 'fail_mode', 'other_config'], where: [['fail_mode', '==', 'secure']] }], Port: [{ columns: ['name', 'tag', 'trunks'], where: [['tag', '<', 100]], select: { initial: false } }] }, '00000000-0000-0000-0000-000000000000']],
    ];
    for (const [name, side] of [['real', real], ['sim', sim]] as const) {
      for (const [method, params] of monitors) initial[name].push(side.norm(await side.conn.request(method, params)));
    }
  });

  after(async () => {
    real?.conn.close('test done');
    sim?.conn.close('test done');
    await server?.close();
    await ovs?.stop();
  });

  async function both(ops: readonly (Operation | Json)[]): Promise<{ results: Json; notes: Json[] }> {
    const [r, s] = [await real.transact(ops), await sim.transact(ops)];
    expect(s.results, 'results').to.deep.equal(r.results);
    expect(s.notes, 'notifications').to.deep.equal(r.notes);
    return r;
  }

  /** Plans the host setup from each side's own contents; the plans must be the same. */
  async function planBoth(topo: string): Promise<{ real: Operation[]; sim: Operation[] }> {
    const state = deriveHostState(parseTopology(topo), 'compute');
    const plan = async (side: Side): Promise<Operation[]> => {
      const view = vswitchView(await side.replica());
      const ops = planHostSetup(view, state, SETUP);
      return ops.length ? [...ops, { op: 'mutate', table: DB, where: [['_uuid', '==', ['uuid', view.rootUuid!]]], mutations: [['next_cfg', '+=', 1]] },
        { op: 'select', table: DB, where: [], columns: ['next_cfg'] }] : ops;
    };
    const p = { real: await plan(real), sim: await plan(sim) };
    expect(sim.norm(p.sim as unknown as Json)).to.deep.equal(real.norm(p.real as unknown as Json));
    return p;
  }

  async function applyBoth(p: { real: Operation[]; sim: Operation[] }): Promise<{ results: Json; notes: Json[] }> {
    const [r, s] = [await real.transact(p.real), await sim.transact(p.sim)];
    expect(s.results, 'results').to.deep.equal(r.results);
    expect(s.notes, 'notifications').to.deep.equal(r.notes);
    return r;
  }

  it('answers get_schema with the same schema and the monitors with the same initial contents', async () => {
    expect(await sim.conn.request('get_schema', [DB])).to.deep.equal(await real.conn.request('get_schema', [DB]));
    expect(initial.sim).to.deep.equal(initial.real);
    expect(initial.real[2]).to.deep.equal([false, '00000000-0000-0000-0000-000000000000', {}]);
    const bad = async (side: Side, method: string, params: Json[]): Promise<Json> => side.conn.request(method, params).then(() => 'ok', (e: { error?: Json }) => e.error ?? null);
    for (const [method, params] of [['get_schema', ['Nope']], ['transact', ['Nope']], ['frobnicate', []], ['monitor_cancel', ['none']],
      ['monitor', [DB, 'v1', {}]], ['monitor', [DB, 'x', { Nope: {} }]], ['monitor', [DB, 'y', { Bridge: { columns: ['nope'] } }]]] as Array<[string, Json[]]>) {
      expect(await bad(sim, method, params), method).to.deep.equal(await bad(real, method, params));
    }
  });

  it('runs the controller\'s host setup (planHostSetup, next_cfg += 1) with the same results and updates', async () => {
    const r = await applyBoth(await planBoth(topology(['10.0.100.77', '10.0.100.66'])));
    expect((r.results as Json[]).length).to.be.above(10);
    expect(r.notes.map((n) => (n as Json[])[0])).to.deep.equal(['update', 'update2', 'update3']);
    // Nova plugs a VM port; the next plan tags it (no port-list change, so no wait guard).
    await both([
      { op: 'insert', table: 'Interface', 'uuid-name': 'i', row: { name: 'tap-vm1', type: 'internal', external_ids: ['map', [['iface-id', 'vm-1'], ['attached-mac', 'fa:16:3e:83:95:fa']]] } },
      { op: 'insert', table: 'Port', 'uuid-name': 'p', row: { name: 'tap-vm1', interfaces: ['named-uuid', 'i'], tag: 4095 } },
      { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-int']], mutations: [['ports', 'insert', ['set', [['named-uuid', 'p']]]]] },
    ]);
    const tag = await planBoth(topology(['10.0.100.77', '10.0.100.66']));
    expect(tag.real.map((o) => o.op)).to.deep.equal(['update', 'mutate', 'select']);
    await applyBoth(tag);
  });

  it('removes a tunnel port (Port and Interface collected); the same plan again fails its wait and changes nothing', async () => {
    const plan = await planBoth(topology(['10.0.100.77']));
    expect(plan.real[0]!.op).to.equal('wait');
    const r = await applyBoth(plan);
    expect(JSON.stringify(r.notes)).to.contain('"delete":null');
    const stale = await applyBoth(plan);
    expect((stale.results as Json[])[0]).to.deep.equal({ details: '"where" clause test failed', error: 'timed out' });
    expect(stale.notes).to.deep.equal([]);
  });

  it('mutates maps and sets, moves rows in and out of a monitor condition, and sends nothing for a no-op', async () => {
    await both([
      { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-tun']], mutations: [['other_config', 'insert', ['map', [['disable-in-band', 'false'], ['mac-table-size', '50000']]]], ['protocols', 'delete', 'OpenFlow10']] },
      { op: 'mutate', table: 'Port', where: [['name', '==', 'tap-vm1']], mutations: [['trunks', 'insert', ['set', [1, 2, 3]]], ['other_config', 'delete', ['set', ['physical_network']]]] },
      { op: 'mutate', table: 'Interface', where: [['name', '==', 'tap-vm1']], mutations: [['external_ids', 'delete', ['map', [['iface-id', 'other'], ['attached-mac', 'fa:16:3e:83:95:fa']]]]] },
    ]);
    await both([
      { op: 'mutate', table: 'Port', where: [['name', '==', 'tap-vm1']], mutations: [['trunks', 'delete', 2], ['tag', 'delete', ['set', []]]] },
      { op: 'update', table: 'Bridge', where: [['name', '==', 'br-tun']], row: { fail_mode: 'standalone' } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 2], ['cur_cfg', '+=', 7]] },
    ]);
    await both([{ op: 'update', table: 'Bridge', where: [['name', '==', 'br-tun']], row: { fail_mode: 'secure' } }, { op: 'update', table: 'Port', where: [['name', '==', 'tap-vm1']], row: { tag: 200 } }]);
    const noop = await both([{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 'secure' } }, { op: 'insert', table: 'Interface', row: { name: 'unreferenced' } }]);
    expect(noop.notes).to.deep.equal([]);
  });

  it('selects with conditions, waits that hold, comment/commit/abort/assert', async () => {
    await both([
      { op: 'select', table: 'Port', where: [['tag', '>', 100]], columns: ['name', 'tag'] },
      { op: 'select', table: 'Port', where: [['trunks', 'includes', ['set', [1, 3]]]], columns: ['name'] },
      { op: 'select', table: 'Bridge', where: [['other_config', 'excludes', ['map', [['disable-in-band', 'true']]]]], columns: ['name', 'other_config'] },
      { op: 'select', table: 'Interface', where: [['ofport_request', '<=', 2], ['type', '!=', 'patch']], columns: ['name', 'ofport_request'] },
      { op: 'select', table: 'Interface', where: [true], columns: ['type'] },
      { op: 'select', table: 'Bridge', where: [['name', '==', 'br-int']] },
      { op: 'wait', table: 'Bridge', where: [['name', '==', 'br-int']], columns: ['fail_mode', 'datapath_type'], until: '==', rows: [{ fail_mode: 'secure', datapath_type: 'netdev' }], timeout: 0 },
      { op: 'wait', table: 'Port', where: [['name', '==', 'nope']], columns: ['name'], until: '==', rows: [], timeout: 0 },
      { op: 'comment', comment: 'cross-check' },
      { op: 'commit', durable: false },
    ]);
    await both([{ op: 'abort' }, { op: 'comment', comment: 'after' }]);
    await both([{ op: 'assert', lock: 'nolock' }]);
  });

  it('gives the same errors: referential integrity, constraints, unique index, immutable column, maxRows, bad operations', async () => {
    const cases: Json[][] = [
      [{ op: 'insert', table: 'Bridge', row: { name: 'br-x', ports: ['uuid', '12345678-1234-1234-1234-123456789012'] } }],
      [{ op: 'insert', table: 'Bridge', row: { name: 'br-y', ports: ['named-uuid', 'never'] }, 'uuid-name': 'b' }, { op: 'mutate', table: DB, where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] }],
      [{ op: 'delete', table: 'Bridge', where: [['name', '==', 'br-int']] }],
      [{ op: 'insert', table: 'Port', row: { name: 'no-iface' }, 'uuid-name': 'p' }, { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-int']], mutations: [['ports', 'insert', ['named-uuid', 'p']]] }],
      [{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 'bogus' } }],
      [{ op: 'update', table: 'Port', where: [], row: { tag: 5000 } }],
      [{ op: 'update', table: 'Interface', where: [], row: { ofport: ['set', [1, 2]] } }],
      [{ op: 'mutate', table: 'Interface', where: [['name', '==', 'br-int']], mutations: [['ofport_request', 'insert', 5]] }, { op: 'mutate', table: 'Interface', where: [['name', '==', 'br-int']], mutations: [['ofport_request', 'insert', 6]] }],
      [{ op: 'update', table: 'Bridge', where: [['name', '==', 'br-int']], row: { name: 'br-z' } }],
      [{ op: 'mutate', table: 'Bridge', where: [], mutations: [['name', 'insert', 'x']] }],
      [{ op: 'insert', table: 'Bridge', row: { name: 'br-int' }, 'uuid-name': 'b' }, { op: 'mutate', table: DB, where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] }],
      [{ op: 'insert', table: DB, row: {} }],
      [{ op: 'insert', table: 'Bridge', row: { name: 'a' }, 'uuid-name': 'b' }, { op: 'insert', table: 'Bridge', row: { name: 'b' }, 'uuid-name': 'b' }],
      [{ op: 'select', table: 'Bridge', where: [['nosuch', '==', 1]] }],
      [{ op: 'select', table: 'Bridge', where: [['name', '<', 'x']] }],
      [{ op: 'select', table: 'Nope', where: [] }],
      [{ op: 'select', table: 'Bridge' }],
      [{ op: 'frob', table: 'Bridge' }],
      [{ op: 'update', table: 'Bridge', where: [], row: { nosuch: 1 } }],
      [{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 5 } }],
      [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '/=', 0]] }],
      [5],
      [{ op: 'comment', comment: 'x', extra: 1 }],
      [{ op: 'select', table: 'Bridge', where: [], columns: ['name', 'name'] }],
      [{ op: 'wait', table: 'Bridge', where: [], until: '==', rows: [], timeout: -1 }],
      [{ op: 'insert', table: 'Port', row: { name: 'p', interfaces: ['uuid', 'not-a-uuid'] } }],
      [{ op: 'update', table: 'Port', where: [['name', '==', 'tap-vm1']], row: { trunks: ['set', [1, 1]] } }],
      [{ op: 'update', table: 'Port', where: [['name', '==', 'tap-vm1']], row: { external_ids: ['map', [['a', '1'], ['a', '2']]] } }],
    ];
    for (const ops of cases) {
      const r = await both(ops);
      const last = (r.results as Json[]).filter((x) => x !== null).at(-1) as { error?: string };
      expect(last.error, JSON.stringify(ops)).to.be.a('string');
      expect(r.notes).to.deep.equal([]);
    }
  });

  it('drops a weak reference (Mirror.select_src_port) when its Port is collected', async () => {
    await both([
      { op: 'insert', table: 'Mirror', 'uuid-name': 'm', row: { name: 'm1', select_all: false } },
      { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-int']], mutations: [['mirrors', 'insert', ['named-uuid', 'm']]] },
    ]);
    // The same mirror on both sides, now pointed at the VM port (found by name on each).
    const portOf = async (side: Side): Promise<string> => [...(await side.replica()).get('Port')!].find(([, p]) => p.name === 'tap-vm1')![0];
    const [rp, sp] = [await portOf(real), await portOf(sim)];
    const point = (p: string): Json[] => [{ op: 'update', table: 'Mirror', where: [], row: { select_src_port: ['uuid', p], select_dst_port: ['set', [['uuid', p]]] } }];
    const [r1, s1] = [await real.transact(point(rp)), await sim.transact(point(sp))];
    expect(s1).to.deep.equal(r1);
    const unplug = (p: string): Json[] => [{ op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-int']], mutations: [['ports', 'delete', ['set', [['uuid', p]]]]] }];
    const [r, s] = [await real.transact(unplug(rp)), await sim.transact(unplug(sp))];
    expect(s).to.deep.equal(r);
    expect(JSON.stringify(r.notes)).to.contain('select_src_port').and.contain('"delete":null');
    const sel = await both([{ op: 'select', table: 'Mirror', where: [], columns: ['name', 'select_src_port', 'select_dst_port'] }]);
    expect(sel.results).to.deep.equal([{ rows: [{ name: 'm1', select_src_port: ['set', []], select_dst_port: ['set', []] }] }]);
  });

  it('a wait with a timeout waits: it completes after another client\'s commit, or fails with "timed out after N ms"', async () => {
    const run = async (side: Side, path: string): Promise<Json[]> => {
      const other = await OvsdbConnection.connect({ kind: 'unix', path });
      try {
        const wait = (timeout: number): Json => ({
          op: 'wait', table: 'Bridge', where: [['name', '==', 'br-int']], columns: ['external_ids'], until: '==', rows: [{ external_ids: ['map', [['k', 'v']]] }], timeout,
        });
        const waiting = side.conn.request('transact', [DB, wait(30_000), { op: 'update', table: 'Bridge', where: [['name', '==', 'br-int']], row: { fail_mode: 'standalone' } }]);
        await side.conn.request('echo', []); // the wait is in before the other client commits
        const commit = await other.request('transact', [DB, { op: 'update', table: 'Bridge', where: [['name', '==', 'br-int']], row: { external_ids: ['map', [['k', 'v']]] } }]);
        const timedOut = await side.conn.request('transact', [DB, { ...(wait(100) as Record<string, Json>), rows: [{ external_ids: ['map', []] }] }]);
        return [await waiting, commit, timedOut, await other.request('transact', [DB, { op: 'select', table: 'Bridge', where: [['name', '==', 'br-int']], columns: ['fail_mode'] }])];
      } finally {
        other.close('done');
      }
    };
    // The time in the message is what really elapsed (100 or a little more, on both).
    const masked = (v: Json[]): Json => JSON.parse(JSON.stringify(v).replace(/after \d+ ms/, 'after N ms')) as Json;
    const r = await run(real, ovs.dbSock);
    expect(masked(await run(sim, `${ovs.dir}/sim.sock`))).to.deep.equal(masked(r));
    expect(JSON.stringify(r[2])).to.match(/^\[\{"(error|details)".*"\\"wait\\" timed out after 1\d\d ms".*\}\]$/);
    await both([{ op: 'update', table: 'Bridge', where: [['name', '==', 'br-int']], row: { fail_mode: 'secure', external_ids: ['map', []] } }]);
  });

  it('monitor_cond_change moves rows in and out of a monitor as ovsdb-server does', async () => {
    const calls: Array<[string, Json[]]> = [
      ['monitor_cond_change', ['v3', 'v3b', { Bridge: [{ where: [['name', '==', 'br-int']] }] }]],
      // The clauses of a monitor's condition are alternatives (a transaction's are all required).
      ['monitor_cond_change', ['v3b', 'v3b', { Bridge: [{ where: [['name', '==', 'br-tun'], ['name', '==', 'br-int']] }] }]],
      ['monitor_cond_change', ['v3b', 'v3b', { Bridge: [{ where: [true] }], Port: [{ where: [false] }] }]],
      ['monitor_cond_change', ['zz', 'v4', {}]],
      ['monitor_cond_change', ['v3b', 'v3b', { Bridge: [{ columns: ['name'], where: [false] }] }]],
    ];
    for (const [method, params] of calls) {
      const [r, s] = [await real.call(method, params), await sim.call(method, params)];
      expect(s, JSON.stringify(params)).to.deep.equal(r);
    }
    const r = await both([{ op: 'update', table: 'Bridge', where: [], row: { fail_mode: 'standalone' } }]);
    expect(JSON.stringify(r.notes)).to.contain('"update3","v3b"');
  });

  it('ends with the same tables, row for row', async () => {
    const dump = async (side: Side): Promise<Json> => side.norm(await side.conn.request('transact', [DB, ...TABLES.map((table) => ({ op: 'select', table, where: [] }))]));
    const r = await dump(real);
    expect(await dump(sim)).to.deep.equal(r);
    expect(JSON.stringify(r)).to.contain('vxlan-0a00644d').and.not.contain('vxlan-0a006442');
  });
});
