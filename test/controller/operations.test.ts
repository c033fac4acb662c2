// The controller in an operator's hands, against real sandboxed OVS: a host whose OVSDB is down at
// start is retried with backoff and converges when it comes up (no topology event); a host that left
// the topology is no longer tried; every OVSDB change and flow change is logged with its host and
// names; every check of a bridge, even one that changed nothing, shows in the log, status and metrics.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '../../lib/controller/controller.js';
import type { ReconcileResult } from '../../lib/flowset/reconciler.js';
import { ControllerMetrics } from '../../lib/controller/metrics.js';
import { createLogger, Logger } from '../../lib/log.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

interface Line { readonly msg: string; readonly level: number; readonly [k: string]: unknown }

/** A debug-level logger whose JSON lines are kept in memory. */
function capture(): { log: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const log = createLogger('test', 'debug', { write: (s: string) => { lines.push(JSON.parse(s) as Line); } });
  return { log, lines };
}

const pipeline = pipelineOptions({ l2pop: true, arpResponder: true, controllerId: 'test' });

/** A started controller on a free port, its checks counted by `metrics` as the command wires them. */
async function newController(store: TopologyStore, log: Logger, o: { hostRetry?: { initialMs: number; maxMs: number }; metrics?: ControllerMetrics } = {},
): Promise<{ ctl: Controller; port: number }> {
  const port = await freePort();
  const metrics = o.metrics;
  const ctl = new Controller(store, {
    listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline, log,
    setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
    ...(o.hostRetry ? { hostRetry: o.hostRetry } : {}), ...(metrics ? { onReconciled: (h: string, b: string, r: ReconcileResult) => metrics.observe(h, b, r) } : {}),
  });
  await ctl.start();
  return { ctl, port };
}

const apply = (store: TopologyStore, ...lines: string[]): void => {
  for (const l of lines) expect(store.applyLine(l).ok, l).to.equal(true);
};

describe('controller operations', function () {
  this.timeout(90_000);

  it('retries a host whose OVSDB is down at start (capped backoff), lists it unreachable, converges it when it comes up', async () => {
    const ovs = await OvsSandbox.start({});
    let ctl: Controller | undefined;
    let server: import('node:http').Server | undefined;
    try {
      // The host's OVS is down and its socket does not exist yet.
      await ovs.killVswitchd();
      await ovs.killOvsdbServer();
      rmSync(ovs.dbSock, { force: true });
      const store = new TopologyStore();
      apply(store,
        `{"type":"host","name":"h","tunnelIp":"10.250.0.1","ovsdb":"unix:${ovs.dbSock}"}`,
        '{"type":"host","name":"h2","tunnelIp":"10.250.0.2"}',
        '{"type":"network","id":"red","vni":100}',
        '{"type":"port","id":"vm1","network":"red","host":"h","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
        '{"type":"port","id":"vm2","network":"red","host":"h2","mac":"fa:16:3e:00:00:02","fixedIps":["10.1.0.2"]}');
      const { log, lines } = capture();
      ({ ctl } = await newController(store, log, { hostRetry: { initialMs: 100, maxMs: 400 } }));
      const c = ctl;
      await eventually(() => (c.status().hosts[0]?.unreachable?.attempts ?? 0) >= 5, 'five failed attempts');
      const u = c.status().hosts[0]!.unreachable!;
      expect(u.error).to.match(/ENOENT/);
      expect(Date.parse(u.nextTryAt) - Date.now()).to.be.within(-100, 400);
      // 100 ms, doubled each time, capped at 400 ms; warned once, the retries at debug.
      const tries = lines.filter((l) => l.msg === 'cannot reach the host\'s OVSDB; will retry');
      expect(tries.slice(0, 5).map((l) => l.retryInMs)).to.deep.equal([100, 200, 400, 400, 400]);
      expect(tries.filter((l) => l.level === 40)).to.have.length(1);
      // The /status JSON says so too.
      const metrics = new ControllerMetrics(() => c);
      const mport = await freePort();
      server = await metrics.serve(mport, () => c.status());
      const st = (await (await fetch(`http://127.0.0.1:${mport}/status`)).json()) as { hosts: Array<{ host: string; ovsdbConnected: boolean; unreachable?: { error: string; nextTryAt: string } }> };
      expect(st.hosts[0]).to.include({ host: 'h', ovsdbConnected: false });
      expect(st.hosts[0]!.unreachable!.error).to.match(/ENOENT/);
      expect(await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text()).to.match(/^ofctl_ts_ovsdb_connected\{host="h"\} 0$/m);

      // OVS comes up: the host converges with no topology event.
      const accepted = store.accepted;
      await ovs.startOvsdbServer();
      await ovs.startVswitchd();
      await eventually(() => c.status().hosts[0]!.bridges['br-int']!.connected && c.status().hosts[0]!.bridges['br-tun']!.connected, 'the bridges to connect');
      await c.idle();
      const state = c.agents.get('h')!.state!;
      expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal(renderText(state, 'br-tun', pipeline));
      expect(await ovs.dumpFlowsSorted('br-int')).to.deep.equal(renderText(state, 'br-int', pipeline));
      expect(store.accepted).to.equal(accepted);
      expect(c.status().hosts[0]!.unreachable).to.equal(undefined);
      expect(lines.some((l) => l.msg === 'host\'s OVSDB reached' && l.host === 'h')).to.equal(true);
      expect(await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text()).to.match(/^ofctl_ts_ovsdb_connected\{host="h"\} 1$/m);
    } finally {
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      await ctl?.stop();
      await ovs.stop();
    }
  });

  it('a host given its OVSDB address after start gets its agent then, and converges; events that do not touch it start nothing', async () => {
    const ovs = await OvsSandbox.start({});
    const store = new TopologyStore();
    apply(store,
      '{"type":"host","name":"h","tunnelIp":"10.250.0.1"}',
      '{"type":"host","name":"h2","tunnelIp":"10.250.0.2"}',
      '{"type":"network","id":"red","vni":100}',
      '{"type":"port","id":"vm2","network":"red","host":"h2","mac":"fa:16:3e:00:00:02","fixedIps":["10.1.0.2"]}');
    const { log } = capture();
    const { ctl } = await newController(store, log);
    try {
      expect(ctl.status().hosts).to.deep.equal([]);
      // Events that touch neither host's address start nothing.
      apply(store, '{"type":"port","id":"vm1","network":"red","host":"h","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}');
      expect(ctl.status().hosts).to.deep.equal([]);
      // h's entry again, now with its OVSDB: its agent starts and converges.
      apply(store, `{"type":"host","name":"h","tunnelIp":"10.250.0.1","ovsdb":"unix:${ovs.dbSock}"}`);
      expect(ctl.status().hosts.map((x) => x.host)).to.deep.equal(['h']);
      await eventually(() => ['br-int', 'br-tun'].every((br) => ctl.status().hosts[0]!.bridges[br]?.lastReconcile), 'both bridges reconciled');
      await ctl.idle();
      const state = ctl.agents.get('h')!.state!;
      expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal(renderText(state, 'br-tun', pipeline));
      expect(await ovs.dumpFlowsSorted('br-int')).to.deep.equal(renderText(state, 'br-int', pipeline));
    } finally {
      await ctl.stop();
      await ovs.stop();
    }
  });

  it('stops trying a host that left the topology', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-ops-'));
    const sock = join(dir, 'db.sock');
    const store = new TopologyStore();
    apply(store, `{"type":"host","name":"gone","tunnelIp":"10.250.0.9","ovsdb":"unix:${sock}"}`);
    const { log, lines } = capture();
    const { ctl } = await newController(store, log, { hostRetry: { initialMs: 50, maxMs: 100 } });
    let connects = 0;
    const listener = createServer((s) => {
      connects++;
      s.destroy();
    });
    try {
      await eventually(() => (ctl.status().hosts[0]?.unreachable?.attempts ?? 0) >= 2, 'two failed attempts');
      apply(store, '{"type":"remove","kind":"host","id":"gone"}');
      expect(ctl.status().hosts).to.deep.equal([]);
      expect(lines.some((l) => l.msg.startsWith('host left the topology') && l.host === 'gone')).to.equal(true);
      // Something answers at its address now: nobody comes, over many retry periods.
      await new Promise<void>((r) => listener.listen(sock, r));
      await new Promise((r) => setTimeout(r, 600));
      expect(connects).to.equal(0);
    } finally {
      listener.close();
      await ctl.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a host reached once whose OVSDB goes away is listed unreachable with the error and the next try, then reconnects', async () => {
    const ovs = await OvsSandbox.start({});
    let ctl: Controller | undefined;
    try {
      const store = new TopologyStore();
      apply(store, `{"type":"host","name":"h","tunnelIp":"10.250.0.1","ovsdb":"unix:${ovs.dbSock}"}`);
      ({ ctl } = await newController(store, capture().log));
      const c = ctl;
      await eventually(() => c.status().hosts[0]?.ovsdbConnected === true, 'the OVSDB session');
      expect(c.status().hosts[0]!.unreachable).to.equal(undefined);
      await ovs.killOvsdbServer();
      rmSync(ovs.dbSock, { force: true });
      await eventually(() => (c.status().hosts[0]?.unreachable?.attempts ?? 0) >= 1, 'a failed reconnect');
      const h = c.status().hosts[0]!;
      expect(h.ovsdbConnected).to.equal(false);
      expect(h.unreachable!.error).to.match(/ENOENT|ECONNREFUSED/);
      expect(Date.parse(h.unreachable!.nextTryAt)).to.be.above(Date.now() - 1000);
      await ovs.startOvsdbServer();
      await eventually(() => c.status().hosts[0]?.ovsdbConnected === true, 'the OVSDB session back', 20_000);
      expect(c.status().hosts[0]!.unreachable).to.equal(undefined);
    } finally {
      await ctl?.stop();
      await ovs.stop();
    }
  });

  it('logs every OVSDB and flow change with host and names, and reports every check of a bridge', async () => {
    const ovs = await OvsSandbox.start({});
    const { log, lines } = capture();
    let ctl: Controller | undefined;
    let server: import('node:http').Server | undefined;
    try {
      const store = new TopologyStore();
      apply(store,
        `{"type":"host","name":"h","tunnelIp":"10.250.0.1","ovsdb":"unix:${ovs.dbSock}"}`,
        '{"type":"host","name":"h2","tunnelIp":"10.250.0.2"}',
        '{"type":"host","name":"h3","tunnelIp":"10.250.0.3"}',
        '{"type":"network","id":"red","vni":100}',
        '{"type":"port","id":"vm1","network":"red","host":"h","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
        '{"type":"port","id":"vm2","network":"red","host":"h2","mac":"fa:16:3e:00:00:02","fixedIps":["10.1.0.2"]}');
      ({ ctl } = await newController(store, log));
      const c = ctl;
      const connected = (): boolean => c.status().hosts[0]!.bridges['br-int']!.connected && c.status().hosts[0]!.bridges['br-tun']!.connected;
      await eventually(connected, 'the bridges to connect');
      await c.idle();
      const ovsdbLine = (change: string, port?: string): Line | undefined =>
        lines.find((l) => l.msg === `ovsdb: ${change}` && l.host === 'h' && (port === undefined || l.port === port));
      expect(ovsdbLine('bridge created')).to.include({ bridge: 'br-int' });
      expect(lines.filter((l) => l.msg === 'ovsdb: bridge created').map((l) => l.bridge).sort()).to.deep.equal(['br-int', 'br-tun']);
      // No VM plugged yet: no network is local, so no tunnel (as Neutron, which provisions on a device).
      expect(lines.find((l) => l.msg === 'ovsdb: bridge created' && l.bridge === 'br-tun')!.ports).to.deep.equal(['br-tun', 'patch-int']);

      // A VM plugged: tagged with its network's VLAN; one nobody knows: the dead VLAN (tags read back from OVSDB).
      await ovs.vsctl('add-port', 'br-int', 'tap1', '--', 'set', 'Interface', 'tap1', 'type=internal', 'external_ids:iface-id=vm1');
      await ovs.vsctl('add-port', 'br-int', 'tapx', '--', 'set', 'Interface', 'tapx', 'type=internal', 'external_ids:iface-id=nobody');
      await eventually(async () => (await ovs.vsctl('get', 'Port', 'tapx', 'tag')).trim() === '4095' && (await ovs.vsctl('get', 'Port', 'tap1', 'tag')).trim() !== '[]', 'the tags');
      const tag1 = Number((await ovs.vsctl('get', 'Port', 'tap1', 'tag')).trim());
      // tap1 may be seen before ovs-vswitchd numbers it: dead VLAN first, then its network's VLAN.
      const tagged = (): Line | undefined => ovsdbLine('VM port tagged', 'tap1') ?? ovsdbLine('VM port retagged', 'tap1');
      await eventually(() => tagged() !== undefined, 'the tag to be logged');
      expect(tagged()).to.include({ bridge: 'br-int', ifaceId: 'vm1', tag: tag1, network: 'red' });
      // (Why is said in the message: not numbered yet, or, once it is, not in the topology.)
      const dead = lines.find((l) => l.msg.startsWith('ovsdb: VM port put in the dead VLAN (') && l.port === 'tapx');
      expect(dead).to.include({ host: 'h', bridge: 'br-int', ifaceId: 'nobody', tag: 4095 });
      // vm1 plugged makes red local: the tunnel to h2, which has a port in it.
      await eventually(() => ovsdbLine('tunnel port added', 'vxlan-0afa0002') !== undefined, 'the tunnel to h2 to be logged');
      expect(ovsdbLine('tunnel port added', 'vxlan-0afa0002')).to.include({ bridge: 'br-tun', remoteIp: '10.250.0.2', ofport: 2 });
      await c.idle();

      // A remote port on h3: a tunnel port, and the flows it brings, each logged at debug as `+ text`.
      const before = new Set(await ovs.dumpFlowsSorted('br-tun'));
      const mark = lines.length;
      apply(store, '{"type":"port","id":"vm3","network":"red","host":"h3","mac":"fa:16:3e:00:00:03","fixedIps":["10.1.0.3"]}');
      await eventually(async () => (await ovs.vsctl('list-ports', 'br-tun')).includes('vxlan-0afa0003'), 'the tunnel to h3');
      await c.idle();
      expect(ovsdbLine('tunnel port added', 'vxlan-0afa0003')).to.include({ bridge: 'br-tun', remoteIp: '10.250.0.3', ofport: 3 });
      const after = await ovs.dumpFlowsSorted('br-tun');
      const plus = lines.slice(mark).filter((l) => l.bridge === 'br-tun' && l.host === 'h' && l.msg.startsWith('+ ')).map((l) => l.msg.slice(2));
      const minus = lines.slice(mark).filter((l) => l.bridge === 'br-tun' && l.host === 'h' && l.msg.startsWith('- ')).map((l) => l.msg.slice(2));
      expect(plus.length).to.be.above(0);
      expect(new Set(plus)).to.deep.equal(new Set(after.filter((f) => !before.has(f)).map((f) => f.trim())));
      for (const f of minus) expect(before.has(f) || before.has(` ${f}`), f).to.equal(true);
      const reconciled = lines.slice(mark).find((l) => l.msg === 'bridge reconciled' && l.bridge === 'br-tun')!;
      expect(plus.length).to.equal((reconciled.added as number) + (reconciled.modified as number));

      // h3 leaves the network: its tunnel port is removed; vm1 leaves: tap1 goes to the dead VLAN.
      apply(store, '{"type":"remove","kind":"port","id":"vm3"}', '{"type":"remove","kind":"port","id":"vm1"}');
      await eventually(async () => !(await ovs.vsctl('list-ports', 'br-tun')).includes('vxlan-0afa0003')
        && (await ovs.vsctl('get', 'Port', 'tap1', 'tag')).trim() === '4095', 'the tunnel removed and tap1 retagged');
      await c.idle();
      expect(ovsdbLine('tunnel port removed', 'vxlan-0afa0003')).to.include({ bridge: 'br-tun', remoteIp: '10.250.0.3' });
      expect(ovsdbLine('VM port put in the dead VLAN (not in the topology)', 'tap1')).to.include({ tag: 4095, previousTag: tag1 });

      // A controller restart against the unchanged switch: a check that changes nothing is still reported.
      await c.stop();
      // Every OpenFlow session line names its host and bridge.
      const closed = lines.filter((l) => l.msg === 'OpenFlow session closed');
      expect(closed.length).to.be.at.least(2);
      for (const l of closed) expect(l).to.have.property('host', 'h');
      expect(closed.map((l) => l.bridge).sort()).to.include.members(['br-int', 'br-tun']);
      const t0 = Date.now();
      const mark2 = lines.length;
      const metrics = new ControllerMetrics(() => ctl);
      let port: number;
      ({ ctl, port } = await newController(store, log, { metrics }));
      const c2 = ctl;
      await eventually(() => ['br-int', 'br-tun'].every((b) => Date.parse(c2.status().hosts[0]!.bridges[b]!.lastCheck ?? '') >= t0), 'both bridges to be checked');
      const checked = lines.slice(mark2).filter((l) => l.msg === 'bridge checked: in sync' && l.host === 'h').map((l) => l.bridge);
      expect(checked.sort()).to.deep.equal(['br-int', 'br-tun']);
      expect(c2.status().hosts[0]!.bridges['br-tun']!.lastReconcile!.flowMods).to.equal(0);
      const mport = await freePort();
      server = await metrics.serve(mport, () => c2.status());
      const text = await (await fetch(`http://127.0.0.1:${mport}/metrics`)).text();
      expect(text).to.match(/^ofctl_ts_bridge_checks_total\{host="h",bridge="br-tun"\} 1$/m);
      const ts = Number(/^ofctl_ts_bridge_last_check_timestamp_seconds\{host="h",bridge="br-tun"\} (\S+)$/m.exec(text)![1]);
      expect(ts * 1000).to.be.within(t0, Date.now());
      expect(text).to.match(/^ofctl_ts_openflow_connected\{host="h",bridge="br-int"\} 1$/m);

      // A switch whose datapath id no host names: warned once, with its peer and datapath id.
      await ovs.addBridge('br-x');
      await ovs.vsctl('set-controller', 'br-x', `tcp:127.0.0.1:${port}`);
      const dpid = (await ovs.vsctl('get', 'Bridge', 'br-x', 'datapath_id')).trim().replace(/"/g, '');
      await eventually(() => lines.some((l) => l.msg.startsWith('switch matches no host')), 'the unknown switch warning', 10_000);
      await new Promise((r) => setTimeout(r, 500));
      const unknown = lines.filter((l) => l.msg.startsWith('switch matches no host'));
      expect(unknown).to.have.length(1);
      expect(unknown[0]).to.include({ dpid, level: 40 });
      expect(unknown[0]!.peer).to.match(/^127\.0\.0\.1:\d+$/);
    } finally {
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      await ctl?.stop();
      await ovs.stop();
    }
  });
});
