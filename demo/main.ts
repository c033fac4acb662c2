// `npm start`: the embedded default. Two sandboxed hypervisors (each its own ovsdb-server and
// ovs-vswitchd, userspace datapath), a fixture topology with one network and one VM port per host,
// and the controller programming both. Prints each host's flows (as ovs-ofctl prints them) and an
// ofproto/trace of a frame from host A's VM leaving on the VXLAN port with the network's VNI, then
// keeps running until Ctrl-C (or exits at once with --once) and stops exactly what it started.
import { formatFlow } from '../codecs/ofctl/format-flow.js';
import { pipelineOptions } from '../pipelines/options.js';
import { OvsSandbox } from '../testing/sandbox.js';
import { Controller } from '../lib/controller/controller.js';
import { dumpFlows } from '../lib/switch/flow-ops.js';
import { connectSwitch } from '../lib/switch/target.js';
import { TopologyStore } from '../lib/topology/store.js';
import { eventually, freePort } from '../testing/wait.js';

const once = process.argv.includes('--once');

async function printFlows(box: OvsSandbox, host: string, bridge: string): Promise<void> {
  const conn = await connectSwitch({ kind: 'unix', path: box.mgmt(bridge) }, { features: false });
  try {
    const flows = await dumpFlows(conn);
    console.log(`\n== host ${host}, ${bridge}: ${flows.length} flows (ofctl-ts dump-flows --no-stats)`);
    for (const f of flows) console.log(` ${formatFlow(f)}`);
  } finally {
    conn.close('printed');
  }
}

async function main(): Promise<void> {
  const hosts = await Promise.all([OvsSandbox.start({}), OvsSandbox.start({})]);
  const [a, b] = hosts as [OvsSandbox, OvsSandbox];
  let ctl: Controller | undefined;
  const cleanup = async (): Promise<void> => {
    await ctl?.stop();
    await Promise.all(hosts.map((h) => h.stop()));
  };
  try {
    const port = await freePort();
    const store = new TopologyStore();
    const topology = [
      `{"type":"host","name":"host-a","tunnelIp":"10.250.0.1","ovsdb":"unix:${a.dbSock}"}`,
      `{"type":"host","name":"host-b","tunnelIp":"10.250.0.2","ovsdb":"unix:${b.dbSock}"}`,
      '{"type":"network","id":"tenant-net","vni":1001}',
      '{"type":"port","id":"vm-a","network":"tenant-net","host":"host-a","mac":"fa:16:3e:00:00:0a","fixedIps":["10.251.0.1"]}',
      '{"type":"port","id":"vm-b","network":"tenant-net","host":"host-b","mac":"fa:16:3e:00:00:0b","fixedIps":["10.251.0.2"]}',
    ];
    console.log('topology:');
    for (const l of topology) {
      console.log(`  ${l}`);
      const r = store.applyLine(l, 'demo');
      if (!r.ok) throw new Error(r.error);
    }
    ctl = new Controller(store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port },
      pipeline: pipelineOptions({ l2pop: true, arpResponder: true }),
      setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
    });
    const t0 = Date.now();
    await ctl.start();
    const c = ctl;
    await eventually(() => c.status().hosts.every((h) => h.bridges['br-int']!.connected && h.bridges['br-tun']!.connected), 'both hosts to connect');
    // Nova plugs one VM port into each host's br-int.
    for (const [box, id, mac] of [[a, 'vm-a', 'fa:16:3e:00:00:0a'], [b, 'vm-b', 'fa:16:3e:00:00:0b']] as const) {
      await box.vsctl('add-port', 'br-int', `tap-${id}`, '--', 'set', 'Interface', `tap-${id}`, 'type=internal',
        `external_ids:iface-id=${id}`, `external_ids:attached-mac="${mac}"`, 'external_ids:iface-status=active');
    }
    await eventually(async () => (await a.vsctl('get', 'Port', 'tap-vm-a', 'tag')).trim() === '1'
      && (await b.vsctl('get', 'Port', 'tap-vm-b', 'tag')).trim() === '1', 'the VM ports to be tagged');
    await ctl.idle();
    console.log(`\nboth hosts converged in ${Date.now() - t0} ms (OVSDB setup, VXLAN ports, VM tags, flows on br-int and br-tun)`);
    for (const [box, host] of [[a, 'host-a'], [b, 'host-b']] as const) {
      console.log(`\n== host ${host}: ovs-vsctl show`);
      console.log((await box.vsctl('show')).trimEnd());
      for (const br of ['br-int', 'br-tun']) await printFlows(box, host, br);
    }
    console.log('\n== ofproto/trace on host-a: a frame from vm-a to vm-b');
    console.log(await a.appctl('ofproto/trace', 'br-int',
      'in_port=2,dl_src=fa:16:3e:00:00:0a,dl_dst=fa:16:3e:00:00:0b,dl_type=0x0800,nw_src=10.251.0.1,nw_dst=10.251.0.2'));
    if (once) return;
    console.log('controller running; Ctrl-C stops it and both sandboxes');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } finally {
    await cleanup();
  }
}

await main();
