// bench/render: render the br-tun of a host in a 1000-network × 200-remote-host l2pop topology
// (≈ 42k flows) and print flows/s, beside OVS's own parse+print of the same flows in the same run
// (`ovs-ofctl -O OpenFlow13 parse-flows`). Target: ≤ 1 s.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveHostState } from '../lib/state/host-state.js';
import { parseTopology } from '../lib/topology/model.js';
import { renderText } from '../pipelines/index.js';
import { pipelineOptions } from '../pipelines/options.js';
import { l2popHost, NETWORKS, REMOTE_HOSTS, REMOTES_PER_NETWORK } from '../testing/l2pop-host.js';

const t0 = performance.now();
const topo = parseTopology(l2popHost({ ofports: true }).lines.join('\n'));
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
