// bench/render: render the br-tun of a host in a 1000-network × 200-remote-host l2pop topology
// (≈ 42k flows) and print flows/s, beside OVS's own parse+print of the same flows in the same run
// (`ovs-ofctl -O OpenFlow13 parse-flows`). Target: ≤ 1 s.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveHostState } from '../lib/state/host-state.js';
import { Topology } from '../lib/topology/model.js';
import { renderText } from '../pipelines/index.js';
import { pipelineOptions } from '../pipelines/options.js';
import { mac } from '../testing/big-topology.js';

const NETWORKS = 1000;
const REMOTE_HOSTS = 200;
const REMOTES_PER_NETWORK = 20;


function buildTopology(): Topology {
  const t = new Topology();
  t.apply({ type: 'host', name: 'local', tunnelIp: '10.200.0.1' });
  for (let h = 0; h < REMOTE_HOSTS; h++) t.apply({ type: 'host', name: `r${h}`, tunnelIp: `10.201.${h >> 8}.${(h & 255) + 1}` });
  let port = 0;
  for (let n = 0; n < NETWORKS; n++) {
    t.apply({ type: 'network', id: `net${n}`, vni: 5000 + n });
    const ip = (k: number): string => `10.${n >> 8}.${n & 255}.${k + 10}`;
    const add = (host: string, k: number): void => {
      // Offline, a local port is plugged where its ofport says (n + 2: after patch-tun).
      t.apply({
        type: 'port', id: `p${port}`, network: `net${n}`, host, mac: mac(++port), fixedIps: [ip(k)], allowedAddressPairs: [], portSecurity: true,
        ...(host === 'local' ? { ofport: n + 2 } : {}),
      });
    };
    add('local', 0);
    for (let k = 0; k < REMOTES_PER_NETWORK; k++) add(`r${(n * 7 + k * 13) % REMOTE_HOSTS}`, k + 1);
  }
  return t;
}

const t0 = performance.now();
const topo = buildTopology();
const tTopo = performance.now() - t0;
const opts = pipelineOptions({ profile: 'neutron', l2pop: true, arpResponder: true });
let best = Infinity;
let lines: string[] = [];
for (let run = 0; run < 3; run++) {
  const t = performance.now();
  const state = deriveHostState(topo, 'local');
  lines = renderText(state, 'br-tun', opts);
  best = Math.min(best, performance.now() - t);
}
const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-render-'));
const file = join(dir, 'br-tun.flows');
writeFileSync(file, lines.join('\n'));
const r0 = performance.now();
execFileSync('ovs-ofctl', ['-O', 'OpenFlow13', 'parse-flows', file], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 << 30 });
const ovsMs = performance.now() - r0;
rmSync(dir, { recursive: true, force: true });

console.log(`render bench: ${NETWORKS} networks, ${REMOTE_HOSTS} remote hosts, ${REMOTES_PER_NETWORK} remote ports per network, l2pop + ARP responder`);
console.log(`topology built in ${tTopo.toFixed(0)} ms (${topo.ports.size} ports)`);
console.log(`ofctl-ts render br-tun: ${lines.length} flows in ${best.toFixed(0)} ms (best of 3) = ${Math.round(lines.length / (best / 1000))} flows/s` +
  `  ${best <= 1000 ? 'OK' : 'MISSED'} (target <= 1000 ms)`);
console.log(`reference: ovs-ofctl parse-flows of the same ${lines.length} flows: ${ovsMs.toFixed(0)} ms`);
