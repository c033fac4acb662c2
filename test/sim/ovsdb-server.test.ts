// The simulated OVSDB server through the project's own client: OvsdbClient's replica follows
// transactions and in-process writes, the controller's host setup converges against it with a
// stand-in for ovs-vswitchd on the commit hook, TCP echo probes, a peer that misbehaves, and a
// thousand servers with a thousand clients in one process.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import type { Json } from '../../codecs/ovsdb/protocol.js';
import { applyHostSetup, planHostSetup } from '../../lib/controller/host-setup.js';
import { deriveHostState } from '../../lib/state/host-state.js';
import { OvsdbClient, Replica } from '../../lib/ovsdb/client.js';
import { OvsdbConnection, OvsdbError } from '../../lib/ovsdb/connection.js';
import { VSWITCH_TABLES, vswitchView } from '../../lib/ovsdb/vswitch.js';
import { parseTopology } from '../../lib/topology/model.js';
import { FIXTURES } from '../../testing/golden-cases.js';
import { OvsdbDatabase } from '../../testing/sim/ovsdb-db.js';
import { createVswitchDatabase as vswitchDb, OvsdbSimServer } from '../../testing/sim/ovsdb-server.js';

/**
 * What ovs-vswitchd writes back after a commit, reduced to what the controller reads: ofports
 * (LOCAL 65534, ofport_request honoured, else the next free), a datapath id per bridge, cur_cfg.
 */
function fakeVswitchd(db: OvsdbDatabase, dpidBase: number): void {
  let nextDpid = dpidBase;
  db.onCommit((e) => {
    const ops: Json[] = [];
    const bridgeNames = new Set(db.rows('Bridge').map((b) => b.get('name')));
    let free = 1 + Math.max(0, ...db.rows('Interface').map((i) => i.get('ofport')).filter((p): p is number => typeof p === 'number' && p < 65534));
    for (const i of e.inserted('Interface')) {
      const req = i.get('ofport_request');
      const ofport = bridgeNames.has(i.get('name') as string) ? 65534 : typeof req === 'number' ? req : free++;
      ops.push({ op: 'update', table: 'Interface', where: [['_uuid', '==', ['uuid', i.uuid]]], row: { ofport } });
    }
    for (const b of e.inserted('Bridge')) {
      ops.push({ op: 'update', table: 'Bridge', where: [['_uuid', '==', ['uuid', b.uuid]]], row: { datapath_id: (nextDpid++).toString(16).padStart(16, '0') } });
    }
    for (const m of e.modified('Open_vSwitch')) {
      if (m.columns.includes('next_cfg')) ops.push({ op: 'update', table: 'Open_vSwitch', where: [], row: { cur_cfg: m.new.get('next_cfg') } });
    }
    if (ops.length) db.transact(ops);
  });
}

// The seed's two hosts, one network (only the compute host's state is used).
const TOPO = readFileSync(`${FIXTURES}topologies/seed-003.jsonl`, 'utf8');
const SETUP = { controllerTarget: 'tcp:127.0.0.1:6653', datapathType: 'netdev', maxBackoffMs: 1000 };

const until = (c: OvsdbClient, cond: (r: Replica) => boolean): Promise<Replica> => firstValueFrom(c.replica$.pipe(filter(cond)));

/** A raw socket to the server; resolves `closed` when the server drops it. */
async function rawSession(path: string): Promise<{ s: Socket; replies: string[]; closed: Promise<void> }> {
  const s = connect(path);
  await new Promise((r) => s.once('connect', r));
  const replies: string[] = [];
  s.on('data', (d: Buffer) => replies.push(d.toString()));
  return { s, replies, closed: new Promise((r) => s.once('close', () => r())) };
}

describe('simulated OVSDB server', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-ovsdb-sim-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('OvsdbClient monitors it (monitor_cond_since) and its replica follows transactions and in-process writes', async () => {
    const db = vswitchDb();
    const server = new OvsdbSimServer(db);
    const target = await server.listen(`unix:${join(dir, 'a.sock')}`);
    const c = await OvsdbClient.start({ kind: 'unix', path: target.slice(5) }, { tables: VSWITCH_TABLES });
    try {
      expect(c.monitorMethod).to.equal('monitor_cond_since');
      const root = [...c.replica.get('Open_vSwitch')!.keys()][0]!;
      expect(root).to.equal(db.rows('Open_vSwitch')[0]!.uuid);
      await c.transact([
        { op: 'insert', table: 'Interface', 'uuid-name': 'i', row: { name: 'br0', type: 'internal' } },
        { op: 'insert', table: 'Port', 'uuid-name': 'p', row: { name: 'br0', interfaces: ['named-uuid', 'i'] } },
        { op: 'insert', table: 'Bridge', 'uuid-name': 'b', row: { name: 'br0', ports: ['named-uuid', 'p'] } },
        { op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', root]]], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] },
      ]);
      await until(c, (r) => vswitchView(r).bridges.has('br0'));
      // ovs-vswitchd's role, in process: the client sees the ofport through the same monitor.
      db.transact([{ op: 'update', table: 'Interface', where: [['name', '==', 'br0']], row: { ofport: 65534 } }]);
      const r = await until(c, (rr) => vswitchView(rr).bridges.get('br0')?.ports[0]?.interfaces[0]?.ofport === 65534);
      expect(vswitchView(r).bridges.get('br0')!.ports.map((p) => p.name)).to.deep.equal(['br0']);
      // Removing the bridge takes its Port and Interface (garbage collection) out of the replica too.
      await c.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'delete', ['set', [['uuid', vswitchView(r).bridges.get('br0')!.uuid]]]]] }]);
      const empty = await until(c, (rr) => rr.get('Interface')!.size === 0);
      expect(empty.get('Bridge')!.size).to.equal(0);
      expect(empty.get('Port')!.size).to.equal(0);
    } finally {
      await c.close();
      await server.close();
    }
  });

  it('a server without monitor_cond_since (or monitor_cond) makes OvsdbClient fall back, and updates still arrive', async () => {
    for (const [disabled, expected] of [[['monitor_cond_since'], 'monitor_cond'], [['monitor_cond_since', 'monitor_cond'], 'monitor']] as const) {
      const db = vswitchDb();
      const server = new OvsdbSimServer(db, { disabledMethods: disabled });
      const c = await OvsdbClient.start({ kind: 'unix', path: (await server.listen(`unix:${join(dir, 'f.sock')}`)).slice(5) }, { tables: VSWITCH_TABLES });
      try {
        expect(c.monitorMethod).to.equal(expected);
        db.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 3]] }]);
        expect(vswitchView(await until(c, (r) => vswitchView(r).nextCfg === 3)).curCfg).to.equal(0);
      } finally {
        await c.close();
        await server.close();
      }
    }
  });

  it('the controller\'s host setup converges against it with a stand-in ovs-vswitchd, and is then idempotent', async () => {
    const db = vswitchDb();
    fakeVswitchd(db, 0x100);
    const server = new OvsdbSimServer(db);
    const c = await OvsdbClient.start({ kind: 'unix', path: (await server.listen(`unix:${join(dir, 'b.sock')}`)).slice(5) }, { tables: VSWITCH_TABLES });
    try {
      const state = deriveHostState(parseTopology(TOPO), 'compute');
      expect(await applyHostSetup(c, state, SETUP)).to.be.above(0);
      const v = vswitchView(c.replica);
      expect(v.curCfg).to.equal(1);
      const tun = v.bridges.get('br-tun')!;
      expect(tun.ports.map((p) => [p.name, p.interfaces[0]!.ofport]).sort()).to.deep.equal([['br-tun', 65534], ['patch-int', 1], ['vxlan-0a00644d', 2]]);
      expect(tun.controllers.map((x) => x.target)).to.deep.equal([SETUP.controllerTarget]);
      expect([v.bridges.get('br-int')!.datapathId, tun.datapathId]).to.deep.equal([0x100n, 0x101n]);
      expect(planHostSetup(v, state, SETUP)).to.deep.equal([]);
      expect(await applyHostSetup(c, state, SETUP)).to.equal(0);
    } finally {
      await c.close();
      await server.close();
    }
  });

  it('over TCP it probes an idle client with echo: OvsdbConnection answers and stays, a silent peer is dropped', async () => {
    const server = new OvsdbSimServer(vswitchDb(), { tcpInactivityProbeMs: 50 });
    const target = await server.listen('tcp:127.0.0.1:0');
    const port = Number(target.split(':')[2]);
    const conn = await OvsdbConnection.connect({ kind: 'tcp', host: '127.0.0.1', port });
    const silent = connect(port, '127.0.0.1');
    const got: string[] = [];
    silent.on('data', (d: Buffer) => got.push(d.toString()));
    try {
      await new Promise((r) => silent.once('close', r));
      expect(got.join('')).to.equal('{"id":"echo","method":"echo","params":[]}');
      // Several probe periods later the answering client is still served.
      expect(conn.isOpen).to.equal(true);
      expect(await conn.request('list_dbs', [])).to.deep.equal(['Open_vSwitch']);
      expect(await conn.request('echo', ['x', 1])).to.deep.equal(['x', 1]);
    } finally {
      conn.close('done');
      silent.destroy();
      await server.close();
    }
  });

  it('answers errors as ovsdb-server and drops a session that breaks the protocol, never the server', async () => {
    const server = new OvsdbSimServer(vswitchDb());
    const path = join(dir, 'c.sock');
    await server.listen(`unix:${path}`);
    try {
      const conn = await OvsdbConnection.connect({ kind: 'unix', path });
      const err = (method: string, params: Json[]): Promise<Json> => conn.request(method, params).then(() => 'ok', (e: OvsdbError) => e.error ?? null);
      expect(await err('frobnicate', [])).to.equal('unknown method');
      expect(await err('monitor', ['Open_vSwitch'])).to.deep.include({ error: 'syntax error' }); // ovsdb-server 3.1 crashes here
      expect(await err('transact', [])).to.deep.equal({ error: 'syntax error', details: 'transact request params must begin with <db-name>', syntax: '[]' });
      expect(await err('get_schema', ['Nope'])).to.deep.equal({ error: 'unknown database', details: 'get_schema request specifies unknown database Nope', syntax: '["Nope"]' });
      // An error reply carries no "result", as ovsdb-server's.
      const raw = await rawSession(path);
      raw.s.write('{"id":7,"method":"nope","params":[]}');
      await new Promise((r) => setTimeout(r, 20));
      expect(raw.replies.join('')).to.equal('{"id":7,"error":"unknown method"}');
      raw.s.destroy();
      for (const bad of ['garbage{', '[1,2]', '{"id":1,"method":"echo"}', '{"id":1,"method":"echo","params":[],"jsonrpc":"2.0"}', '{"id":99,"result":[],"error":null}', '}']) {
        const s = await rawSession(path);
        s.s.write(bad);
        await s.closed;
        expect(s.replies, bad).to.deep.equal([]);
      }
      // A notification is ignored; a request split into single bytes is answered once.
      const slow = await rawSession(path);
      for (const ch of '{"id":null,"method":"transact","params":["Open_vSwitch"]}{"id":"e","method":"echo","params":[]}') slow.s.write(ch);
      await new Promise((r) => setTimeout(r, 50));
      expect(slow.replies.join('')).to.equal('{"id":"e","result":[],"error":null}');
      slow.s.destroy();
      expect(conn.isOpen).to.equal(true);
      expect(await conn.request('echo', [])).to.deep.equal([]);
      conn.close('done');
    } finally {
      await server.close();
    }
  });

  it('a commit hook that throws: the transaction is committed, the client gets "internal error", the server goes on', async () => {
    const db = vswitchDb();
    db.onCommit((e) => {
      if (e.modified('Open_vSwitch').length) throw new Error('hook bug');
    });
    const server = new OvsdbSimServer(db);
    const path = join(dir, 'e.sock');
    await server.listen(`unix:${path}`);
    const conn = await OvsdbConnection.connect({ kind: 'unix', path });
    try {
      const bump: Json[] = ['Open_vSwitch', { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }];
      const e = await conn.request('transact', bump).then(() => 'ok', (x: OvsdbError) => x.error ?? null);
      expect(e).to.deep.equal({ error: 'internal error', details: 'hook bug' });
      expect(db.rows('Open_vSwitch')[0]!.get('next_cfg')).to.equal(1);
      expect(await conn.request('echo', ['alive'])).to.deep.equal(['alive']);
    } finally {
      conn.close('done');
      await server.close();
    }
  });

  it('monitor_cancel stops a monitor\'s updates; another monitor of the session keeps getting them', async () => {
    const db = vswitchDb();
    const server = new OvsdbSimServer(db);
    const path = join(dir, 'd.sock');
    await server.listen(`unix:${path}`);
    const conn = await OvsdbConnection.connect({ kind: 'unix', path });
    const notes: Json[] = [];
    conn.notifications$.subscribe((n) => notes.push([n.method, n.params[0]!]));
    try {
      await conn.request('monitor', ['Open_vSwitch', 'a', { Open_vSwitch: { columns: ['next_cfg'] } }]);
      await conn.request('monitor_cond', ['Open_vSwitch', ['b'], { Open_vSwitch: [{ columns: ['next_cfg'] }] }]);
      const bump = (): Promise<Json> => conn.request('transact', ['Open_vSwitch', { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }]);
      await bump();
      expect(await conn.request('monitor_cancel', ['a'])).to.deep.equal({});
      await bump();
      expect(notes).to.deep.equal([['update', 'a'], ['update2', ['b']], ['update2', ['b']]]);
    } finally {
      conn.close('done');
      await server.close();
    }
  });

  it('monitors alike share one encoding of each update; one whose id, method or condition differs gets its own', async () => {
    const db = vswitchDb();
    const server = new OvsdbSimServer(db);
    const path = join(dir, 'e.sock');
    await server.listen(`unix:${path}`);
    const sessions = await Promise.all([0, 1, 2, 3, 4].map(() => OvsdbConnection.connect({ kind: 'unix', path })));
    const notes = sessions.map(() => [] as Json[]);
    sessions.forEach((c, i) => c.notifications$.subscribe((n) => notes[i]!.push([n.method, ...n.params])));
    try {
      const req = { Bridge: [{ columns: ['name'] }] };
      await sessions[0]!.request('monitor_cond', ['Open_vSwitch', 'm', req]);
      await sessions[1]!.request('monitor_cond', ['Open_vSwitch', 'm', req]);
      await sessions[2]!.request('monitor_cond', ['Open_vSwitch', 'm', req]);
      await sessions[3]!.request('monitor_cond', ['Open_vSwitch', 'other', req]);
      await sessions[4]!.request('monitor', ['Open_vSwitch', 'm', { Bridge: { columns: ['name'] } }]);
      // The third narrows its condition to br-int: it no longer matches its twins.
      await sessions[2]!.request('monitor_cond_change', ['m', 'm', { Bridge: [{ where: [['name', '==', 'br-int']] }] }]);
      // Bridges live while the root row refers to them.
      const uuids = ((await sessions[0]!.request('transact', ['Open_vSwitch',
        { op: 'insert', table: 'Bridge', row: { name: 'br-int' }, 'uuid-name': 'a' }, { op: 'insert', table: 'Bridge', row: { name: 'br-tun' }, 'uuid-name': 'b' },
        { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'a'], ['named-uuid', 'b']]]]] }])) as { uuid?: [string, string] }[])
        .slice(0, 2).map((r) => r.uuid![1]);
      await Promise.all(sessions.map((c) => c.request('echo', [])));
      const both = { [uuids[0]!]: { insert: { name: 'br-int' } }, [uuids[1]!]: { insert: { name: 'br-tun' } } };
      expect(notes[0]).to.deep.equal([['update2', 'm', { Bridge: both }]]);
      expect(notes[1]).to.deep.equal(notes[0]);
      expect(notes[2]).to.deep.equal([['update2', 'm', { Bridge: { [uuids[0]!]: { insert: { name: 'br-int' } } } }]]);
      expect(notes[3]).to.deep.equal([['update2', 'other', { Bridge: both }]]);
      expect(notes[4]).to.deep.equal([['update', 'm', { Bridge: { [uuids[0]!]: { new: { name: 'br-int' } }, [uuids[1]!]: { new: { name: 'br-tun' } } } }]]);
    } finally {
      sessions.forEach((c) => c.close('done'));
      await server.close();
    }
  });

  it('runs 1000 servers and 1000 monitoring clients in one process; every host converges', async function () {
    this.timeout(300_000);
    const n = 1000;
    const t0 = process.hrtime.bigint();
    const heap0 = process.memoryUsage().heapUsed;
    const servers: OvsdbSimServer[] = [];
    const clients: OvsdbClient[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const db = vswitchDb();
        fakeVswitchd(db, i * 2 + 1);
        const s = new OvsdbSimServer(db);
        await s.listen(`unix:${join(dir, `h${i}.sock`)}`);
        servers.push(s);
      }
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < n; i += 100) {
        clients.push(...await Promise.all(servers.slice(i, i + 100).map((_, k) =>
          OvsdbClient.start({ kind: 'unix', path: join(dir, `h${i + k}.sock`) }, { tables: VSWITCH_TABLES }))));
      }
      const t2 = process.hrtime.bigint();
      // Every host: br-int, br-tun, patch ports and one VXLAN port per other host of a 5-host group.
      const topo = (g: number): string => [
        ...[0, 1, 2, 3, 4].map((k) => `{"type":"host","name":"h${g * 5 + k}","tunnelIp":"10.${g >> 8}.${g & 255}.${k + 1}"}`),
        `{"type":"network","id":"net-${g}","vni":${g + 1}}`,
        ...[0, 1, 2, 3, 4].map((k) => `{"type":"port","id":"p${g * 5 + k}","network":"net-${g}","host":"h${g * 5 + k}","mac":"fa:16:3e:00:00:0${k + 1}","fixedIps":["10.0.0.${k + 1}"],"ofport":2}`),
      ].join('\n');
      const states = clients.map((_, i) => deriveHostState(parseTopology(topo(Math.floor(i / 5))), `h${i}`));
      const ops = await Promise.all(clients.map((c, i) => applyHostSetup(c, states[i]!, SETUP)));
      const t3 = process.hrtime.bigint();
      expect(ops.every((o) => o > 0)).to.equal(true);
      for (const [i, c] of clients.entries()) {
        const v = vswitchView(c.replica);
        expect(v.bridges.get('br-tun')!.ports.length, `h${i}`).to.equal(6);
        expect(planHostSetup(v, states[i]!, SETUP)).to.deep.equal([]);
      }
      global.gc?.();
      const heap = process.memoryUsage().heapUsed - heap0;
      const rows = servers.reduce((a, s) => a + [...s.db.schema.tables.keys()].reduce((b, t) => b + s.db.tableRows(t).size, 0), 0);
      const ms = (a: bigint, b: bigint): string => (Number(b - a) / 1e6).toFixed(0);
      console.log(`      ${n} servers: listen ${ms(t0, t1)} ms, ${n} clients synced ${ms(t1, t2)} ms, host setups ${ms(t2, t3)} ms; ` +
        `${rows} rows; heap +${(heap / 2 ** 20).toFixed(0)} MiB (servers, clients and replicas)`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
