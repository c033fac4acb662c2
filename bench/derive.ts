// bench/derive: deriveHostState per topology event on the firewall bench's full-scale host (issue 16
// point 6: 1000 networks, 200 remote hosts, 20k remote ports, two security groups), handed the
// previous state as the agent does (plugged ports and VLAN hints built afresh at every pass). Prints
// per event kind the wall p50/p99 and the CPU (all threads, GC included) mean/p99 of one derivation.
// Target: <= 3 ms per event that concerns one port or one group. Run: node dist/bench/derive.js [N]
import { deriveHostState, HostState, HostStateOptions } from '../lib/state/host-state.js';
import { TopologyStore } from '../lib/topology/store.js';
import { l2popHost, securityGroupLine } from '../testing/l2pop-host.js';

const N = Number(process.argv[2] ?? 100);
const WARM = 20;
const TARGET_MS = 3;

const host = l2popHost({ networks: 1000, remoteHosts: 200, ofports: true, securityGroups: true });
const store = new TopologyStore();
for (const l of host.lines) store.applyLine(l, 'bench');
type PortLine = Record<string, unknown> & { type: string; id: string; host: string; ofport?: number };
const ports = host.lines.map((l) => JSON.parse(l) as PortLine).filter((e) => e.type === 'port');
const remote = ports.filter((p) => p.host !== 'local');
const local = ports.filter((p) => p.host === 'local');
const plugged = new Map(local.map((p) => [p.id, p.ofport!]));
let state: HostState = deriveHostState(store.topology, 'local', { plugged: new Map(plugged) });
// What the other hosts have plugged, as the controller keeps it (none reported: those hosts have no agent here).
const pluggedOn = new Map<string, ReadonlySet<string>>();
const agentOptions = (): HostStateOptions => ({
  plugged: new Map(plugged), vlanHints: new Map(state.networks.map((n) => [n.id, n.vlan])), remotePlugged: (h) => pluggedOn.get(h),
});

const hex = (n: number): string => n.toString(16).padStart(2, '0');
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const apply = (e: object): void => {
  const r = store.applyLine(JSON.stringify(e), 'bench');
  if (!r.ok) throw new Error(r.error);
};

/** Each kind: the events (or OVSDB change) of its i-th occurrence. */
const kinds: Array<[string, (i: number) => void]> = [
  ['member joins sg-a', (i) => apply({ ...remote[(i * 37) % remote.length], securityGroups: ['sg-a'] })],
  ['member leaves sg-a', (i) => apply({ ...remote[(i * 37) % remote.length], securityGroups: [] })],
  // Alternately a rule added to sg-a and removed again.
  ['rule added to/removed from sg-a', (i) => store.applyLine(securityGroupLine('sg-a', i % 2 ? [] : [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 1000 + i, portRangeMax: 1000 + i }]), 'bench')],
  ['remote MAC changed', (i) => apply({ ...remote[(i * 41) % remote.length], mac: `fa:16:3f:00:${hex(i >> 8)}:${hex(i & 255)}` })],
  ['remote port added', (i) => apply({ ...remote[0], id: `new${i}`, network: `net${(i * 13) % 1000}`, host: `r${i % 200}`, mac: `fa:16:3f:01:${hex(i >> 8)}:${hex(i & 255)}`, fixedIps: [`10.250.${i >> 8}.${(i & 255) + 1}`] })],
  ['remote port moved', (i) => apply({ ...remote[(i * 53) % remote.length], host: `r${(i * 11 + 3) % 200}` })],
  ['local port unplugged/replugged', (i) => {
    const p = local[((i >> 1) * 7) % local.length]!;
    if (i % 2 === 0) plugged.delete(p.id);
    else plugged.set(p.id, p.ofport!);
  }],
  ['local port in a new network', (i) => {
    apply({ type: 'network', id: `nx${i}`, vni: 90000 + i });
    apply({ ...local[0], id: `lx${i}`, network: `nx${i}`, mac: `fa:16:3f:02:${hex(i >> 8)}:${hex(i & 255)}`, fixedIps: [`10.251.${i >> 8}.${(i & 255) + 1}`], ofport: 5000 + i });
    plugged.set(`lx${i}`, 5000 + i);
  }],
  ['nothing (an OVSDB update)', () => undefined],
];

const done = new Map<string, number>();
function run(name: string, event: (i: number) => void, n: number): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = done.get(name) ?? 0;
    done.set(name, i + 1);
    event(i);
    const opts = agentOptions();
    const c = process.cpuUsage();
    const t = performance.now();
    state = deriveHostState(store.topology, 'local', { ...opts, previous: state });
    wall.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return { wall, cpu };
}

for (const [name, event] of kinds) run(name, event, WARM);
console.log(`derive bench: ${store.topology.ports.size} ports, ${state.networks.length} local networks, ${state.remotePorts.length} remote ports, ${state.tunnels.length} tunnels; ${N} events per kind after ${WARM} to warm up`);
for (const [name, event] of kinds) {
  const { wall, cpu } = run(name, event, N);
  const p50 = quantile(wall, 0.5);
  console.log(`${name.padEnd(32)} wall p50 ${p50.toFixed(2).padStart(6)} p99 ${quantile(wall, 0.99).toFixed(2).padStart(6)} ms  `
    + `cpu mean ${(cpu.reduce((a, b) => a + b, 0) / N).toFixed(2).padStart(6)} p99 ${quantile(cpu, 0.99).toFixed(2).padStart(6)} ms  ${p50 <= TARGET_MS ? 'OK' : 'MISSED'} (p50 target <= ${TARGET_MS} ms)`);
}
