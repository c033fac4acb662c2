// Golden-flow snapshots: every case renders exactly its golden files; the Neutron cases equal what
// Neutron's own agent installed (fixtures/neutron-examples, cookie placeholder filled in); the seed's
// compute node equals the seed dump as OVS 3.1 prints it, less the one flow learned at run time.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { deriveHostState } from '../../lib/state/host-state.js';
import { readTopology } from '../../lib/topology/model.js';
import { goldenCases, goldenPath, FIXTURES, renderCase } from '../../testing/golden-cases.js';
import { byteOrder, renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';

const lines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);

/** A readable diff: - expected, + rendered. */
function diff(want: readonly string[], got: readonly string[]): string {
  const w = new Set(want);
  const g = new Set(got);
  return [...want.filter((l) => !g.has(l)).map((l) => `- ${l}`), ...got.filter((l) => !w.has(l)).map((l) => `+ ${l}`)].join('\n');
}

function expectSame(got: readonly string[], want: readonly string[], what: string): void {
  const d = diff(want, got);
  if (d) expect.fail(`${what} differs (- expected, + rendered):\n${d}`);
  expect(got).to.deep.equal(want);
}

describe('golden flows', () => {
  for (const c of goldenCases()) {
    it(`${c.name}: renders exactly its golden files`, () => {
      for (const [host, bridge, got] of renderCase(c)) {
        const path = goldenPath(c, host, bridge);
        expect(existsSync(path), `${path} is missing: run npm run goldens`).to.equal(true);
        expectSame(got, lines(readFileSync(path, 'utf8')), `${c.name} ${host} ${bridge}`);
      }
    });
  }

  for (const example of ['small', 'small-l2pop']) {
    it(`neutron profile equals what Neutron's agent installed (${example})`, () => {
      const meta = JSON.parse(readFileSync(`${FIXTURES}neutron-examples/${example}/topology.json`, 'utf8')) as { l2_population: boolean; arp_responder: boolean };
      const opts = pipelineOptions({ profile: 'neutron', l2pop: meta.l2_population, arpResponder: meta.arp_responder });
      const state = deriveHostState(readTopology(`${FIXTURES}topologies/neutron-small.jsonl`), 'compute');
      for (const bridge of ['br-tun', 'br-int'] as const) {
        const cookie = `0x${(bridge === 'br-tun' ? opts.cookies.brTun : opts.cookies.brInt).toString(16)}`;
        const want = lines(readFileSync(`${FIXTURES}neutron-examples/${example}/${bridge}.flows`, 'utf8'))
          .map((l) => ` ${l.replaceAll('AGENT', cookie)}`).sort(byteOrder);
        expectSame(renderText(state, bridge, opts), want, `${example} ${bridge}`);
      }
    });
  }

  it("classic profile equals the seed's compute br-tun as OVS 3.1 prints it, less the learned flow", () => {
    const want = lines(readFileSync(`${FIXTURES}seed-003/compute-br-tun.ovs31-of13-nostats.txt`, 'utf8'))
      .filter((l) => !l.startsWith(' table=20, hard_timeout=300')).sort(byteOrder);
    const state = deriveHostState(readTopology(`${FIXTURES}topologies/seed-003.jsonl`), 'compute');
    expect(state.tunnels.map((t) => [t.portName, t.ofport])).to.deep.equal([['vxlan-0a00644d', 2]]);
    expectSame(renderText(state, 'br-tun', pipelineOptions({ profile: 'classic' })), want, 'seed compute br-tun');
  });
});
