// The OVSDB client against a real ovsdb-server 3.1: monitor replica, transactions, errors, the
// server's echo over TCP, and a full resync after the server restarts.
import { expect } from 'chai';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import { fromMap, namedUuid, ovsMap, ovsSet, uuid } from '../../codecs/ovsdb/protocol.js';
import { OvsdbClient, Replica, Row, TransactionError } from '../../lib/ovsdb/client.js';
import { OvsSandbox } from '../../testing/sandbox.js';

const TABLES = {
  Open_vSwitch: ['bridges', 'cur_cfg', 'next_cfg'],
  Bridge: ['name', 'ports', 'other_config', 'fail_mode'],
  Port: ['name', 'interfaces', 'tag'],
  Interface: ['name', 'ofport', 'type'],
};

function bridgeNamed(r: Replica, name: string): Row | undefined {
  return [...(r.get('Bridge')?.values() ?? [])].find((b) => b.name === name);
}

async function until(c: OvsdbClient, cond: (r: Replica) => boolean): Promise<Replica> {
  return firstValueFrom(c.replica$.pipe(filter(cond)));
}

describe('OVSDB client with a real ovsdb-server', function () {
  this.timeout(60_000);
  let ovs: OvsSandbox;
  const port = 26000 + (process.pid % 2000);
  before(async () => {
    ovs = await OvsSandbox.start({ ovsdbTcpPort: port });
  });
  after(async () => {
    await ovs?.stop();
  });

  async function addBridge(c: OvsdbClient, name: string): Promise<void> {
    const ovsRow = [...c.replica.get('Open_vSwitch')!.keys()][0]!;
    await c.transact([
      { op: 'insert', table: 'Interface', row: { name, type: 'internal' }, 'uuid-name': 'iface' },
      { op: 'insert', table: 'Port', row: { name, interfaces: namedUuid('iface') }, 'uuid-name': 'port' },
      { op: 'insert', table: 'Bridge', row: { name, ports: namedUuid('port'), datapath_type: 'netdev' }, 'uuid-name': 'br' },
      { op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', uuid(ovsRow)]], mutations: [['bridges', 'insert', ovsSet([namedUuid('br')])]] },
    ]);
  }

  it('monitors with monitor_cond_since and keeps a replica that follows transactions', async () => {
    const c = await OvsdbClient.start({ kind: 'unix', path: ovs.dbSock }, { tables: TABLES });
    try {
      expect(c.monitorMethod).to.equal('monitor_cond_since');
      expect(c.replica.get('Open_vSwitch')!.size).to.equal(1);
      await addBridge(c, 'br-a');
      await until(c, (r) => bridgeNamed(r, 'br-a') !== undefined);
      // A map column arrives as an update2 difference and is applied as one.
      await c.transact([{ op: 'update', table: 'Bridge', where: [['name', '==', 'br-a']], row: { other_config: ovsMap({ 'disable-in-band': 'true', x: '1' }) } }]);
      await until(c, (r) => fromMap(bridgeNamed(r, 'br-a')?.other_config).get('x') === '1');
      await c.transact([{ op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-a']], mutations: [['other_config', 'delete', ovsSet(['x'])]] }]);
      const r = await until(c, (rr) => !fromMap(bridgeNamed(rr, 'br-a')?.other_config).has('x'));
      expect([...fromMap(bridgeNamed(r, 'br-a')!.other_config)]).to.deep.equal([['disable-in-band', 'true']]);
      // ovs-vsctl sees the same.
      expect((await ovs.vsctl('get', 'Bridge', 'br-a', 'other_config')).trim()).to.equal('{disable-in-band="true"}');
    } finally {
      await c.close();
    }
  });

  it('a failed operation fails the whole transaction with the reason, and nothing is committed', async () => {
    const c = await OvsdbClient.start({ kind: 'unix', path: ovs.dbSock }, { tables: TABLES });
    try {
      const attempt = c.transact([
        { op: 'update', table: 'Bridge', where: [['name', '==', 'br-a']], row: { fail_mode: 'secure' } },
        { op: 'wait', table: 'Bridge', where: [['name', '==', 'br-a']], columns: ['fail_mode'], until: '==', rows: [{ fail_mode: 'standalone' }], timeout: 0 },
      ]);
      await attempt.then(() => expect.fail('transaction succeeded'), (err: unknown) => {
        expect(err).to.be.instanceOf(TransactionError);
        expect((err as Error).message).to.match(/operation 2 \(wait\): timed out/);
      });
      expect((await ovs.vsctl('get', 'Bridge', 'br-a', 'fail_mode')).trim()).to.equal('[]');
    } finally {
      await c.close();
    }
  });

  it('answers the echo probes ovsdb-server sends over TCP, so an idle client stays connected', async () => {
    const c = await OvsdbClient.start({ kind: 'tcp', host: '127.0.0.1', port }, { tables: TABLES });
    try {
      // ovsdb-server probes after 5 s of silence and drops a client that does not answer by 10 s.
      await new Promise((r) => setTimeout(r, 11_000));
      expect(c.connected$.value).to.equal(true);
      await c.transact([{ op: 'comment', comment: 'still here' }]);
    } finally {
      await c.close();
    }
  });

  it('monitors the rows a condition selects, and changes it: the rows are in (or out) of the replica when setWhere resolves, across a restart too', async () => {
    const names = (r: Replica): string[] => [...(r.get('Interface')?.values() ?? [])].map((i) => String(i.name)).filter((n) => n.startsWith('w-')).sort();
    const c = await OvsdbClient.start({ kind: 'unix', path: ovs.dbSock }, { tables: TABLES, where: { Interface: [['type', '!=', 'vxlan']] } });
    try {
      await c.transact([
        { op: 'insert', table: 'Interface', row: { name: 'w-vx', type: 'vxlan', options: ovsMap({ remote_ip: '192.0.2.9' }) }, 'uuid-name': 'i1' },
        { op: 'insert', table: 'Port', row: { name: 'w-vx', interfaces: namedUuid('i1') }, 'uuid-name': 'p1' },
        { op: 'insert', table: 'Interface', row: { name: 'w-in', type: 'internal' }, 'uuid-name': 'i2' },
        { op: 'insert', table: 'Port', row: { name: 'w-in', interfaces: namedUuid('i2') }, 'uuid-name': 'p2' },
        { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-a']], mutations: [['ports', 'insert', ovsSet([namedUuid('p1'), namedUuid('p2')])]] },
      ]);
      // Both came in one transaction, so one update: the tunnel is left out of it.
      await until(c, (r) => names(r).includes('w-in'));
      expect(names(c.replica)).to.deep.equal(['w-in']);
      await c.setWhere('Interface', undefined);
      expect(names(c.replica)).to.deep.equal(['w-in', 'w-vx']);
      await c.setWhere('Interface', [['type', '!=', 'vxlan']]);
      expect(names(c.replica)).to.deep.equal(['w-in']);
      // A new session monitors with the condition as it stands, and one changed while none is up
      // takes effect with the next.
      await ovs.killOvsdbServer();
      await firstValueFrom(c.connected$.pipe(filter((v) => !v)));
      const widened = c.setWhere('Interface', undefined);
      await ovs.startOvsdbServer();
      await widened;
      expect(names(c.replica)).to.deep.equal(['w-in', 'w-vx']);
      await c.setWhere('Interface', [['type', '!=', 'vxlan']]);
      await ovs.killOvsdbServer();
      await firstValueFrom(c.connected$.pipe(filter((v) => !v)));
      await ovs.startOvsdbServer();
      await firstValueFrom(c.connected$.pipe(filter((v) => v)));
      expect(names(c.replica)).to.deep.equal(['w-in']);
      expect((await ovs.vsctl('get', 'Interface', 'w-vx', 'type')).trim()).to.equal('vxlan');
      // A condition the server refuses: rejected, the session and the condition before it stay.
      await c.setWhere('Interface', [['no_such_column', '==', 1]]).then(() => expect.fail('accepted'), (err: unknown) => {
        expect(String(err)).to.match(/no_such_column/);
      });
      expect(c.connected$.value).to.equal(true);
      await ovs.killOvsdbServer();
      await firstValueFrom(c.connected$.pipe(filter((v) => !v)));
      await ovs.startOvsdbServer();
      await firstValueFrom(c.connected$.pipe(filter((v) => v)));
      expect(names(c.replica)).to.deep.equal(['w-in']);
      await c.setWhere('Interface', undefined);
      expect(names(c.replica)).to.deep.equal(['w-in', 'w-vx']);
    } finally {
      await c.close();
    }
  });

  it('reconnects after ovsdb-server restarts and resyncs the replica', async () => {
    const events: string[] = [];
    const c = await OvsdbClient.start({ kind: 'unix', path: ovs.dbSock }, { tables: TABLES, onEvent: (e) => events.push(e) });
    try {
      await ovs.killOvsdbServer();
      await firstValueFrom(c.connected$.pipe(filter((v) => !v)));
      await ovs.startOvsdbServer();
      await firstValueFrom(c.connected$.pipe(filter((v) => v)));
      await addBridge(c, 'br-after-restart');
      await until(c, (r) => bridgeNamed(r, 'br-after-restart') !== undefined);
      expect(bridgeNamed(c.replica, 'br-a')).to.not.equal(undefined);
      expect(events.some((e) => e.startsWith('disconnected'))).to.equal(true);
    } finally {
      await c.close();
    }
  });
});
