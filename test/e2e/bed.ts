// The two-host VXLAN test bed: each ovs-vswitchd in its own network namespace (userspace datapath),
// a veth underlay between them, a "VM" namespace plugged into each br-int, and the controller in the
// root namespace reaching each host through a unix socket in its run directory. Needs root,
// openvswitch-switch, iproute2, iputils-ping and procps (installed by .ci/run).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Controller } from '../../lib/controller/controller.js';
import { TopologyStore } from '../../lib/topology/store.js';
import type { PipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually } from '../../testing/wait.js';

const run = promisify(execFile);
export const sh = async (...args: string[]): Promise<string> => (await run(args[0]!, args.slice(1))).stdout;

export interface Host {
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

function hosts(P: string): Host[] {
  return [
  { name: 'ha', ns: `${P}hA`, vmNs: `${P}vA`, underlayIf: `${P}uA`, underlayIp: '10.250.0.1', vmIp: '10.251.0.1', vmMac: 'fa:16:3e:00:00:0a', tap: `${P}tA`, portId: 'vm-a' },
  { name: 'hb', ns: `${P}hB`, vmNs: `${P}vB`, underlayIf: `${P}uB`, underlayIp: '10.250.0.2', vmIp: '10.251.0.2', vmMac: 'fa:16:3e:00:00:0b', tap: `${P}tB`, portId: 'vm-b' },
];
}

export async function ping(from: Host, to: Host, count = 1): Promise<boolean> {
  try {
    await sh('ip', 'netns', 'exec', from.vmNs, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', to.vmIp);
    return true;
  } catch {
    return false;
  }
}


export interface Bed {
  readonly hosts: readonly Host[];
  readonly store: TopologyStore;
  readonly ctl: Controller;
  stop(): Promise<void>;
}

/** Builds the bed (about 2-4 s) with the given pipeline options; `tag` keeps parallel beds apart. */
export async function startBed(pipeline: PipelineOptions, tag: string): Promise<Bed> {
  const P = `${tag}${process.pid % 1000}`; // short: interface names are limited to 15 characters
  const HOSTS = hosts(P);
  let ctl: Controller | undefined;
  let store: TopologyStore | undefined;
  const stop = async (): Promise<void> => {
      await ctl?.stop();
      for (const h of HOSTS) {
        await h.box?.stop();
        await sh('ip', 'netns', 'del', h.ns).catch(() => undefined);
        await sh('ip', 'netns', 'del', h.vmNs).catch(() => undefined);
      }
  };
  try {
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
      const c = new Controller(store, {
        listen: HOSTS.map((h) => ({ kind: 'unix' as const, path: sock(h) })), pipeline,
        setup: { controllerTarget: 'unused', datapathType: 'netdev', maxBackoffMs: 1000 },
        controllerTargetFor: (name) => {
          const h = HOSTS.find((x) => x.name === name);
          return h ? `unix:${sock(h)}` : undefined;
        },
      });
      ctl = c;
      await c.start();
      await eventually(() => c.status().hosts.every((h) => h.bridges['br-int']!.connected && h.bridges['br-tun']!.connected),
        'both hosts to connect', 30_000);
      for (const h of HOSTS) {
        await h.box!.vsctl('add-port', 'br-int', h.tap, '--', 'set', 'Interface', h.tap, `external_ids:iface-id=${h.portId}`,
          `external_ids:attached-mac="${h.vmMac}"`, 'external_ids:iface-status=active');
      }
      await eventually(async () => {
        for (const h of HOSTS) if ((await h.box!.vsctl('get', 'Port', h.tap, 'tag')).trim() !== '1') return false;
        return true;
      }, 'the VM ports to be tagged');
      await c.idle();

  } catch (err) {
    await stop();
    throw err;
  }
  return { hosts: HOSTS, store: store!, ctl: ctl!, stop };
}
