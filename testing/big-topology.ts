// A topology big enough that syncing one host is a large change: one local host (a sandbox), remote
// hosts without OVSDB, and networks with one local port and REMOTES_PER_NETWORK remote ones each.
// With l2pop + ARP responder every 100 networks are ~3,300 br-tun flows. The local ports name their
// ofport, so `render` (offline) and the controller (OVSDB) agree once plugLocalPorts plugged them.
import { writeFileSync } from 'node:fs';
import { runCli } from './run-cli.js';
import type { OvsSandbox } from './sandbox.js';
import { eventually } from './wait.js';

export const REMOTE_HOSTS = 40;
export const REMOTES_PER_NETWORK = 15;

/** A Neutron-style MAC (fa:16:3e:…) numbered n. */
export function mac(n: number): string {
  return `fa:16:3e:${[(n >> 16) & 255, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

/** The hosts: `local` (managed, at ovsdb) and r0..r39. */
export function hostLines(ovsdb: string): string[] {
  const lines = [JSON.stringify({ type: 'host', name: 'local', tunnelIp: '10.200.0.1', ovsdb })];
  for (let h = 0; h < REMOTE_HOSTS; h++) lines.push(JSON.stringify({ type: 'host', name: `r${h}`, tunnelIp: `10.201.0.${h + 1}` }));
  return lines;
}

/** Networks [from, to), each with its ports; port ids are p<network*100+k>, k = 0 the local one. */
export function networkLines(from: number, to: number): string[] {
  const lines: string[] = [];
  for (let n = from; n < to; n++) {
    lines.push(JSON.stringify({ type: 'network', id: `net${n}`, vni: 5000 + n }));
    for (let k = 0; k <= REMOTES_PER_NETWORK; k++) {
      const host = k === 0 ? 'local' : `r${(n * 7 + k * 13) % REMOTE_HOSTS}`;
      const p = n * 100 + k;
      lines.push(JSON.stringify({
        type: 'port', id: `p${p}`, network: `net${n}`, host, mac: mac(p), fixedIps: [`10.${n >> 8}.${n & 255}.${k + 10}`],
        ...(k === 0 ? { ofport: localOfport(n) } : {}),
      }));
    }
  }
  return lines;
}

/** Where network n's local port is plugged into br-int. */
const localOfport = (n: number): number => n + 2;

/**
 * Nova plugging the local ports of networks [from, to) into br-int (created if missing) on the
 * ofports the topology names, 250 per ovs-vsctl call.
 */
export async function plugLocalPorts(ovs: OvsSandbox, from: number, to: number): Promise<void> {
  for (let n0 = from; n0 < to; n0 += 250) {
    const args = ['--may-exist', 'add-br', 'br-int', '--', 'set', 'Bridge', 'br-int', 'datapath_type=netdev'];
    for (let n = n0; n < Math.min(to, n0 + 250); n++) {
      const name = `tap${n * 100}`;
      args.push('--', 'add-port', 'br-int', name, '--', 'set', 'Interface', name, 'type=internal', `ofport_request=${localOfport(n)}`,
        `external_ids:iface-id=p${n * 100}`, `external_ids:attached-mac="${mac(n * 100)}"`);
    }
    await ovs.vsctl(...args);
  }
}

/** Removes the remote ports of networks [from, to) (the local ones stay, so no VLAN is freed). */
export function removeRemotePortLines(from: number, to: number): string[] {
  const lines: string[] = [];
  for (let n = from; n < to; n++) for (let k = 1; k <= REMOTES_PER_NETWORK; k++) lines.push(JSON.stringify({ type: 'remove', kind: 'port', id: `p${n * 100 + k}` }));
  return lines;
}

/**
 * Waits until both bridges of the host `local` hold exactly what `ofctl-ts render --l2pop
 * --arp-responder` gives for these topology lines (written to `file` for render).
 */
export async function convergedToRender(ovs: OvsSandbox, file: string, lines: readonly string[], check?: () => Promise<void>): Promise<void> {
  writeFileSync(file, `${lines.join('\n')}\n`);
  for (const bridge of ['br-tun', 'br-int']) {
    const r = await runCli(['render', '--topology', file, '--host', 'local', '--bridge', bridge, '--l2pop', '--arp-responder']);
    if (r.code !== 0) throw new Error(`render ${bridge}: ${r.stderr}`);
    const want = r.stdout.split('\n').filter((l) => l).join('\n');
    await eventually(async () => (await ovs.dumpFlowsSorted(bridge)).join('\n') === want, `${bridge} to hold the rendered flows`, 60_000, check, 250);
  }
}
