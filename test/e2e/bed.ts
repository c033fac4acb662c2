// The two-host VXLAN test bed: each ovs-vswitchd in its own network namespace (userspace datapath),
// a veth underlay between them, a "VM" namespace plugged into each br-int, and the controller in the
// root namespace reaching each host through a unix socket in its run directory. Needs root,
// openvswitch-switch, iproute2, iputils-ping, procps, ethtool and tcpdump (installed by .ci/run).
import { expect } from 'chai';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  /** The underlay veth's own MAC; br-phy keeps the veth's original one (see startBed). */
  readonly underlayMac: string;
  /** Processes the helpers below started in this host's namespaces; the bed's stop() ends them. */
  readonly children: Set<Child>;
  box?: OvsSandbox;
}

function hosts(P: string): Host[] {
  return [
  { name: 'ha', ns: `${P}hA`, vmNs: `${P}vA`, underlayIf: `${P}uA`, underlayIp: '10.250.0.1', vmIp: '10.251.0.1', vmMac: 'fa:16:3e:00:00:0a', tap: `${P}tA`, portId: 'vm-a',
    underlayMac: '02:00:00:00:01:99', children: new Set() },
  { name: 'hb', ns: `${P}hB`, vmNs: `${P}vB`, underlayIf: `${P}uB`, underlayIp: '10.250.0.2', vmIp: '10.251.0.2', vmMac: 'fa:16:3e:00:00:0b', tap: `${P}tB`, portId: 'vm-b',
    underlayMac: '02:00:00:00:02:99', children: new Set() },
];
}

/** Echo replies `from`'s VM got for `count` pings to `to`'s VM (5 per second, 1 s wait for the last). */
export async function pings(from: Host, to: Host, count: number): Promise<number> {
  const out = await sh('ip', 'netns', 'exec', from.vmNs, 'ping', '-c', String(count), '-i', '0.2', '-W', '1', to.vmIp)
    .catch((e: { stdout?: string }) => e.stdout ?? ''); // exit 1: no reply at all
  const m = /(\d+) received/.exec(out);
  if (!m) throw new Error(`ping from ${from.vmNs} to ${to.vmIp} printed no summary: ${out}`);
  return Number(m[1]);
}

/** Whether every one of `count` pings was answered. */
export async function ping(from: Host, to: Host, count = 1): Promise<boolean> {
  return (await pings(from, to, count)) === count;
}

/** A process a helper started inside a namespace, read line by line; stop() ends it by its own pid. */
export class Child {
  private readonly lines: string[] = [];
  private partial = '';
  private err = '';
  private readonly wakers = new Set<() => void>();
  readonly exited: Promise<void>;

  constructor(private readonly proc: ChildProcess, owner: Set<Child>, readonly what: string) {
    owner.add(this);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const parts = (this.partial + d).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.err += d;
      this.wake();
    });
    this.exited = new Promise((resolve) => proc.once('close', () => {
      owner.delete(this);
      this.wake();
      resolve();
    }));
  }

  private wake(): void {
    for (const w of this.wakers) w();
  }

  get stderr(): string {
    return this.err;
  }

  get output(): readonly string[] {
    return this.lines;
  }

  /** Waits until `cond` holds on what the process printed so far; throws when it exits first or after `ms`. */
  async until(cond: () => boolean, what: string, ms: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (cond()) done();
        else if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
          done(new Error(`${this.what} exited (${this.proc.exitCode ?? this.proc.signalCode}) before ${what}: ${this.err}`));
        }
      };
      const done = (e?: Error): void => {
        clearTimeout(t);
        this.wakers.delete(check);
        if (e) reject(e);
        else resolve();
      };
      const t = setTimeout(() => done(new Error(`${this.what}: no ${what} after ${ms} ms: ${this.err}`)), ms);
      this.wakers.add(check);
      check();
    });
  }

  /** The next stdout line after the first `seen` ones. */
  async line(seen: number, ms: number): Promise<string> {
    await this.until(() => this.lines.length > seen, `output line ${seen + 1}`, ms);
    return this.lines[seen]!;
  }

  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal); // its own pid, no-op once gone
    await this.exited;
  }
}

/** `ip netns exec NS CMD...`; `ip` execs the command, so the child's pid is the command's own. */
function spawnIn(h: Host, ns: string, what: string, cmd: readonly string[]): Child {
  return new Child(spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] }), h.children, what);
}

/** Frames seen on a host's underlay veth: VXLAN (UDP to 4789) counted, anything else kept as tcpdump printed it. */
export interface UnderlayFrames {
  readonly vxlan: number;
  readonly other: readonly string[];
}

/** A capture (tcpdump) on the host's underlay veth, in the host namespace; stop() returns what it saw. */
export async function captureUnderlay(h: Host): Promise<{ stop(): Promise<UnderlayFrames> }> {
  // -e: link-level header; -tt: a packet's first line starts with its time, VXLAN's inner frame follows on
  // its own line; --immediate-mode: each frame printed as it comes, none left in the ring buffer at stop.
  const c = spawnIn(h, h.ns, `tcpdump on ${h.underlayIf}`, ['tcpdump', '-i', h.underlayIf, '--immediate-mode', '-nn', '-e', '-tt', '-l']);
  await c.until(() => c.stderr.includes('listening on'), 'listening', 10_000);
  return {
    async stop(): Promise<UnderlayFrames> {
      // Frames still in the capture buffer when SIGINT comes are lost: wait until it has printed
      // nothing new for 300 ms (at most 3 s; a loaded machine prints late).
      const t0 = Date.now();
      for (let seen = -1; seen !== c.output.length && Date.now() - t0 < 3000;) {
        seen = c.output.length;
        await new Promise((r) => setTimeout(r, 300));
      }
      await c.stop('SIGINT');
      const frames = c.output.filter((l) => /^\d+\.\d+ /.test(l));
      const isVxlan = (l: string): boolean => /ethertype IPv4 .*: [\d.]+ > [\d.]+\.4789: VXLAN/.test(l);
      return { vxlan: frames.filter(isVxlan).length, other: frames.filter((l) => !isVxlan(l)) };
    },
  };
}

/**
 * 3 pings each way, all answered, with a capture on A's underlay (both ends of the veth see the
 * same frames): 12 VXLAN frames at least (ARP may add some) and nothing else (a host kernel
 * answering the tunnel traffic would add ICMP "port 4789 unreachable"). Warmed first: the tunnel
 * endpoints' ARP, the underlay's only other frames, is done before the capture.
 */
export async function pingsOverVxlanOnly(a: Host, b: Host, check?: () => Promise<void>): Promise<void> {
  await eventually(() => ping(a, b), 'the first ping (tunnel and ARP warm-up)', 20_000, check, 200);
  const capture = await captureUnderlay(a);
  expect(await pings(a, b, 3)).to.equal(3);
  expect(await pings(b, a, 3)).to.equal(3);
  const frames = await capture.stop();
  expect(frames.vxlan).to.be.at.least(12);
  expect(frames.other, frames.other.join('\n')).to.deep.equal([]);
}

const TCP_TOOL = fileURLToPath(new URL('./tcp-tool.js', import.meta.url));

/** An echo server on `port` of the VM's address; stop() ends it. */
export async function listenTcp(h: Host, port: number): Promise<{ stop(): Promise<void> }> {
  const c = spawnIn(h, h.vmNs, `TCP listener on ${h.vmIp}:${port}`, [process.execPath, TCP_TOOL, 'listen', h.vmIp, String(port)]);
  if ((await c.line(0, 10_000)) !== 'listening') throw new Error(`${c.what}: ${c.output.join(' ')} ${c.stderr}`);
  return { stop: () => c.stop() };
}

/** connected, refused (a reset: nothing listens, or a reject), timeout (no answer: a drop). */
export type TcpOutcome = 'connected' | 'refused' | 'timeout';

export interface TcpConnection {
  readonly outcome: TcpOutcome;
  /** One round trip through the echo server: ok (data passed both ways), timeout (dropped), closed (cut by a reset or FIN). */
  exchange(): Promise<'ok' | 'timeout' | 'closed'>;
  close(): Promise<void>;
}

/**
 * A TCP connection from one VM to the other's `port`, kept open (when it opens) for exchange();
 * `ms` bounds the handshake and each exchange. Any other failure (no route...) throws.
 */
export async function tcpOpen(from: Host, to: Host, port: number, ms = 1000): Promise<TcpConnection> {
  const c = spawnIn(from, from.vmNs, `TCP connection ${from.vmIp} -> ${to.vmIp}:${port}`,
    [process.execPath, TCP_TOOL, 'connect', to.vmIp, String(port), String(ms)]);
  const outcome = await c.line(0, ms + 10_000);
  if (outcome !== 'connected' && outcome !== 'refused' && outcome !== 'timeout') {
    await c.stop();
    throw new Error(`${c.what}: ${outcome} ${c.stderr}`);
  }
  let seen = 1;
  return {
    outcome,
    async exchange() {
      if (outcome !== 'connected') throw new Error(`${c.what} is ${outcome}: nothing to exchange`);
      c.send('x');
      const r = await c.line(seen++, ms + 10_000);
      if (r !== 'ok' && r !== 'timeout' && r !== 'closed') throw new Error(`${c.what}: ${r}`);
      return r;
    },
    close: () => c.stop(),
  };
}

/** A connection attempt alone: its outcome, the connection closed at once. */
export async function tcpConnect(from: Host, to: Host, port: number, ms = 1000): Promise<TcpOutcome> {
  const c = await tcpOpen(from, to, port, ms);
  await c.close();
  return c.outcome;
}


export interface Bed {
  readonly hosts: readonly Host[];
  readonly store: TopologyStore;
  readonly ctl: Controller;
  stop(): Promise<void>;
}

export interface BedOptions {
  /** Topology event lines applied after the hosts and the network, before the VM ports (security groups...). */
  readonly topology?: readonly string[];
  /** More fields of each VM's port event (e.g. its security groups). */
  readonly port?: (h: Host) => Readonly<Record<string, unknown>>;
}

/** The bed's two hosts before any controller: see startHosts. */
export interface Hosts {
  readonly hosts: readonly Host[];
  /** Ends the helpers' processes, the hosts' OVS, and deletes every namespace it made. */
  stop(): Promise<void>;
}

/**
 * The two hosts alone: their namespaces, OVS (userspace datapath) and underlay, and each VM's
 * namespace with its veth (the outer end, `tap`, up in the host's namespace; the VM's eth0 not yet
 * addressed: addressVm). Nothing plugged into br-int, no controller. On failure nothing is left.
 */
export async function startHosts(tag: string): Promise<Hosts> {
  const P = `${tag}${process.pid % 1000}`; // short: interface names are limited to 15 characters
  const HOSTS = hosts(P);
  const stop = async (): Promise<void> => {
    for (const h of HOSTS) await Promise.all([...h.children].map((c) => c.stop()));
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
        // No IPv6 on the underlay (set before ovs-vswitchd makes its taps): no neighbour discovery or
        // MLD frames besides the VXLAN ones.
        await sh('ip', 'netns', 'exec', h.ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
        h.box = await OvsSandbox.start({ netns: h.ns, dummy: false });
      }
      const [a, b] = HOSTS as [Host, Host];
      await sh('ip', 'link', 'add', a.underlayIf, 'type', 'veth', 'peer', 'name', b.underlayIf);
      for (const h of HOSTS) {
        await sh('ip', 'link', 'set', h.underlayIf, 'netns', h.ns);
        const mac = (await sh('ip', 'netns', 'exec', h.ns, 'cat', `/sys/class/net/${h.underlayIf}/address`)).trim();
        // br-phy takes the veth's MAC and the veth another one: sharing one, the host's kernel also took
        // every VXLAN frame (the tunnel IP is local) and answered it with ICMP "port 4789 unreachable".
        // arp_ignore=1: the kernel answers ARP for the tunnel IP only on br-phy, which holds it, never
        // with the veth's MAC.
        await sh('ip', 'netns', 'exec', h.ns, 'ip', 'link', 'set', h.underlayIf, 'address', h.underlayMac);
        await sh('ip', 'netns', 'exec', h.ns, 'sysctl', '-qw', `net.ipv4.conf.${h.underlayIf}.arp_ignore=1`);
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
      }
  } catch (err) {
    await stop();
    throw err;
  }
  return { hosts: HOSTS, stop };
}

/** The VM's eth0 takes `h.vmMac` and `h.vmIp`/`prefixLen` and comes up. */
export async function addressVm(h: Host, prefixLen = 24): Promise<void> {
  await sh('ip', 'netns', 'exec', h.vmNs, 'ip', 'link', 'set', 'eth0', 'address', h.vmMac);
  await sh('ip', 'netns', 'exec', h.vmNs, 'ip', 'addr', 'add', `${h.vmIp}/${prefixLen}`, 'dev', 'eth0');
  await sh('ip', 'netns', 'exec', h.vmNs, 'ip', 'link', 'set', 'eth0', 'mtu', '1400', 'up');
  // A veth leaves TCP/UDP checksums to "hardware", which the userspace datapath never fills in:
  // the VM computes them itself, as a real NIC would have.
  await sh('ip', 'netns', 'exec', h.vmNs, 'ethtool', '-K', 'eth0', 'tx', 'off');
}

/** ovs-vswitchd in a namespace reaches the controller through a unix socket in its run directory. */
export function controllerSocket(h: Host): string {
  return join(h.box!.dir, 'ofctl-ts.sock');
}

/** Plugs the VM's tap into br-int as Nova's os-vif does: iface-id (`h.portId`), attached-mac, iface-status. */
export async function plugVm(h: Host): Promise<void> {
  await h.box!.vsctl('add-port', 'br-int', h.tap, '--', 'set', 'Interface', h.tap, `external_ids:iface-id=${h.portId}`,
    `external_ids:attached-mac="${h.vmMac}"`, 'external_ids:iface-status=active');
}

/**
 * Builds the bed (about 2-4 s); `tag` keeps parallel beds apart. The pipeline options go to the
 * controller whole, whatever members they have (the firewall's too). A rejected topology line throws.
 */
export async function startBed(pipeline: PipelineOptions, tag: string, more: BedOptions = {}): Promise<Bed> {
  const base = await startHosts(tag);
  const HOSTS = base.hosts;
  let ctl: Controller | undefined;
  let store: TopologyStore | undefined;
  const stop = async (): Promise<void> => {
      for (const h of HOSTS) await Promise.all([...h.children].map((c) => c.stop()));
      await ctl?.stop();
      await base.stop();
  };
  try {
      for (const h of HOSTS) await addressVm(h);
      const s = new TopologyStore();
      store = s;
      const apply = (line: string): void => {
        const r = s.applyLine(line, 'bed');
        if (!r.ok) throw new Error(`bed topology line rejected (${r.error}): ${line}`);
      };
      for (const h of HOSTS) apply(JSON.stringify({ type: 'host', name: h.name, tunnelIp: h.underlayIp, ovsdb: `unix:${h.box!.dbSock}` }));
      apply('{"type":"network","id":"tenant","vni":1001}');
      for (const line of more.topology ?? []) apply(line);
      for (const h of HOSTS) {
        apply(JSON.stringify({ type: 'port', id: h.portId, network: 'tenant', host: h.name, mac: h.vmMac, fixedIps: [h.vmIp], ...more.port?.(h) }));
      }
      const c = new Controller(store, {
        listen: HOSTS.map((h) => ({ kind: 'unix' as const, path: controllerSocket(h) })), pipeline,
        setup: { controllerTarget: 'unused', datapathType: 'netdev', maxBackoffMs: 1000 },
        controllerTargetFor: (name) => {
          const h = HOSTS.find((x) => x.name === name);
          return h ? `unix:${controllerSocket(h)}` : undefined;
        },
      });
      ctl = c;
      await c.start();
      await eventually(() => c.status().hosts.every((h) => h.bridges['br-int']!.connected && h.bridges['br-tun']!.connected),
        'both hosts to connect', 30_000);
      for (const h of HOSTS) await plugVm(h);
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
