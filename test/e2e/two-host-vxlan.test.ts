// Two hypervisors on one machine, each ovs-vswitchd in its own network namespace (userspace
// datapath), joined by a veth underlay; a "VM" namespace plugged into each br-int. The controller
// (root namespace, reached through unix sockets in each host's run directory) programs both from the
// topology, and real packets cross a real VXLAN tunnel. Needs root, openvswitch-switch, iproute2 and
// iputils-ping (installed by .ci/run).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Controller } from '../../lib/controller/controller.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../ovs/sandbox.js';
import { eventually } from '../ovs/wait.js';

const run = promisify(execFile);
const sh = async (...args: string[]): Promise<string> => (await run(args[0]!, args.slice(1))).stdout;
const P = `ot${process.pid % 10000}`; // short: interface names are limited to 15 characters

interface Host {
  readonly name: string;
  readonly ns: string;
  readonly vmNs: string;
  readonly underlayIf: string;
  readonly underlayIp: string;
  readonly vmIp: string;
  readonly vmMac: string;
  readonly tap: string;
  readonly portId: string;
  box?: OvsSandbox;
}

const HOSTS: Host[] = [
  { name: 'ha', ns: `${P}hA`, vmNs: `${P}vA`, underlayIf: `${P}uA`, underlayIp: '10.250.0.1', vmIp: '10.251.0.1', vmMac: 'fa:16:3e:00:00:0a', tap: `${P}tA`, portId: 'vm-a' },
  { name: 'hb', ns: `${P}hB`, vmNs: `${P}vB`, underlayIf: `${P}uB`, underlayIp: '10.250.0.2', vmIp: '10.251.0.2', vmMac: 'fa:16:3e:00:00:0b', tap: `${P}tB`, portId: 'vm-b' },
];

async function ping(from: Host, to: Host, count = 1): Promise<boolean> {
  try {
    await sh('ip', 'netns', 'exec', from.vmNs, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', to.vmIp);
    return true;
  } catch {
    return false;
  }
}

describe('two hosts, real VXLAN between network namespaces', function () {
  this.timeout(120_000);
  let ctl: Controller;
  let store: TopologyStore;
  const pipeline = pipelineOptions({ l2pop: true, arpResponder: true });

  before(async () => {
    for (const h of HOSTS) {
      await sh('ip', 'netns', 'add', h.ns);
      await sh('ip', 'netns', 'add', h.vmNs);
      await sh('ip', 'netns', 'exec', h.ns, 'ip', 'link', 'set', 'lo', 'up');
      h.box = await OvsSandbox.start({ netns: h.ns, dummy: false });
    }
    const [a, b] = HOSTS as [Host, Host];
    await sh('ip', 'link', 'add', a.underlayIf, 'type', 'veth', 'peer', 'name', b.underlayIf);
    for (const h of HOSTS) {
      await sh('ip', 'link', 'set', h.underlayIf, 'netns', h.ns);
      const mac = (await sh('ip', 'netns', 'exec', h.ns, 'cat', `/sys/class/net/${h.underlayIf}/address`)).trim();
      await sh('ip', 'netns', 'exec', h.ns, 'ip', 'link', 'set', h.underlayIf, 'up');
      // The underlay: br-phy carries the host's tunnel IP (OVS routes VXLAN through it).
      await h.box!.vsctl('add-br', 'br-phy', '--', 'set', 'Bridge', 'br-phy', 'datapath_type=netdev', 'fail_mode=standalone',
        `other_config:hwaddr="${mac}"`, '--', 'add-port', 'br-phy', h.underlayIf);
      await sh('ip', 'netns', 'exec', h.ns, 'ip', 'addr', 'add', `${h.underlayIp}/24`, 'dev', 'br-phy');
      await sh('ip', 'netns', 'exec', h.ns, 'ip', 'link', 'set', 'br-phy', 'up');
      // The VM: a veth whose outer end is the tap Nova plugs into br-int.
      await sh('ip', 'link', 'add', h.tap, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.vmNs);
      await sh('ip', 'link', 'set', h.tap, 'netns', h.ns);
      await sh('ip', 'netns', 'exec', h.ns, 'ip', 'link', 'set', h.tap, 'up');
      // IPv4 only in the VMs: no IPv6 neighbour discovery multicast muddying the flood counters.
      await sh('ip', 'netns', 'exec', h.vmNs, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
      await sh('ip', 'netns', 'exec', h.vmNs, 'ip', 'link', 'set', 'eth0', 'address', h.vmMac);
      await sh('ip', 'netns', 'exec', h.vmNs, 'ip', 'addr', 'add', `${h.vmIp}/24`, 'dev', 'eth0');
      await sh('ip', 'netns', 'exec', h.vmNs, 'ip', 'link', 'set', 'eth0', 'mtu', '1400', 'up');
    }
    store = new TopologyStore();
    for (const h of HOSTS) store.applyLine(JSON.stringify({ type: 'host', name: h.name, tunnelIp: h.underlayIp, ovsdb: `unix:${h.box!.dbSock}` }));
    store.applyLine('{"type":"network","id":"tenant","vni":1001}');
    for (const h of HOSTS) {
      store.applyLine(JSON.stringify({ type: 'port', id: h.portId, network: 'tenant', host: h.name, mac: h.vmMac, fixedIps: [h.vmIp] }));
    }
    // ovs-vswitchd in a namespace reaches the controller through a unix socket in its run directory.
    const sock = (h: Host): string => join(h.box!.dir, 'ofctl-ts.sock');
    ctl = new Controller(store, {
      listen: HOSTS.map((h) => ({ kind: 'unix' as const, path: sock(h) })), pipeline,
      setup: { controllerTarget: 'unused', datapathType: 'netdev', maxBackoffMs: 1000 },
      controllerTargetFor: (name) => {
        const h = HOSTS.find((x) => x.name === name);
        return h ? `unix:${sock(h)}` : undefined;
      },
    });
    await ctl.start();
    await eventually(() => ctl.status().hosts.every((h) => h.bridges['br-int']!.connected && h.bridges['br-tun']!.connected),
      'both hosts to connect', 30_000);
    for (const h of HOSTS) {
      await h.box!.vsctl('add-port', 'br-int', h.tap, '--', 'set', 'Interface', h.tap, `external_ids:iface-id=${h.portId}`,
        `external_ids:attached-mac="${h.vmMac}"`, 'external_ids:iface-status=active');
    }
    await eventually(async () => {
      for (const h of HOSTS) if ((await h.box!.vsctl('get', 'Port', h.tap, 'tag')).trim() !== '1') return false;
      return true;
    }, 'the VM ports to be tagged');
    await ctl.idle();
  });

  after(async () => {
    await ctl?.stop();
    for (const h of HOSTS) {
      await h.box?.stop();
      await sh('ip', 'netns', 'del', h.ns).catch(() => undefined);
      await sh('ip', 'netns', 'del', h.vmNs).catch(() => undefined);
    }
  });

  it('VM A pings VM B across the tunnel (l2pop + ARP responder), with no ARP request flooded to the tunnel', async () => {
    const [a, b] = HOSTS as [Host, Host];
    await eventually(() => ping(a, b), 'the first ping (tunnel and ARP warm-up)', 15_000, undefined, 200);
    expect(await ping(a, b, 5)).to.equal(true);
    // The ARP responder answered locally: the flood flow for VLAN 1 in table 22 saw no ARP.
    const t22 = (await a.box!.ofctl('dump-flows', a.box!.mgmtTarget('br-tun'), 'table=22,dl_vlan=1')).trim();
    expect(t22).to.match(/n_packets=0,/);
    const t21 = (await a.box!.ofctl('dump-flows', a.box!.mgmtTarget('br-tun'), 'table=21,arp,arp_tpa=10.251.0.2')).trim();
    expect(t21).to.match(/n_packets=[1-9]/);
  });

  it("removing VM B's port stops the traffic and removes its flows", async () => {
    const [a, b] = HOSTS as [Host, Host];
    store.applyLine(`{"type":"remove","kind":"port","id":"${b.portId}"}`);
    // Its l2pop and ARP-responder flows go (a learned entry, which OVS expires itself, may stay).
    await eventually(async () => !(await a.box!.dumpFlowsSorted('br-tun')).some((l) => l.includes(b.vmMac) && !l.includes('hard_timeout')),
      'its flows to go');
    await eventually(async () => (await b.box!.vsctl('get', 'Port', b.tap, 'tag')).trim() === '4095', 'its tap to be parked on the dead VLAN');
    await sh('ip', 'netns', 'exec', a.vmNs, 'ip', 'neigh', 'flush', 'all');
    expect(await ping(a, b, 2)).to.equal(false);
  });
});
