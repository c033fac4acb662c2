// Golden-flow snapshots: every case renders exactly its golden files; the Neutron cases equal what
// Neutron's own agent installed (fixtures/neutron-examples, cookie placeholder filled in); the seed's
// compute node equals the seed dump as OVS 3.1 prints it, less the one flow learned at run time.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { deriveHostState } from '../../lib/state/host-state.js';
import { readTopology } from '../../lib/topology/model.js';
import { conjIdBijection, renameConjIds } from '../../testing/conj-ids.js';
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

  // Neutron numbers conjunctions in Python's set order: ids are compared up to a consistent renaming
  // (testing/conj-ids.ts), and the order of a flow's conjunction actions, which OVS holds as a set, not at all.
  for (const example of ['sg-small', 'sg-remote-group']) {
    it(`neutron profile with the openvswitch firewall equals what Neutron's agent installed (${example})`, () => {
      const opts = pipelineOptions({ profile: 'neutron', firewall: 'openvswitch' });
      const state = deriveHostState(readTopology(`${FIXTURES}topologies/neutron-${example}.jsonl`), 'compute');
      for (const bridge of ['br-tun', 'br-int'] as const) {
        const cookie = `0x${(bridge === 'br-tun' ? opts.cookies.brTun : opts.cookies.brInt).toString(16)}`;
        const want = lines(readFileSync(`${FIXTURES}neutron-examples/${example}/${bridge}.flows`, 'utf8'))
          .map((l) => ` ${l.replaceAll('AGENT', cookie)}`).sort(byteOrder);
        const got = renderText(state, bridge, opts);
        const rename = conjIdBijection(got, want);
        if (!rename) expectSame(got, want, `${example} ${bridge} (no renaming of conjunction ids makes them equal)`);
        expectSame(got.map((l) => renameConjIds(l, (id) => rename!.get(id)!)).sort(byteOrder),
          want.map((l) => renameConjIds(l, (id) => id)).sort(byteOrder), `${example} ${bridge}`);
      }
    });
  }

  it('conjunction ids compare up to a consistent renaming, and only so', () => {
    const want = [' table=82, conj_id=22,ct_state=+new-est,ip actions=set_field:0x16->reg7,output:3',
      ' table=82, ct_state=+new-est,ip,nw_src=10.0.0.3 actions=conjunction(22,1/2),conjunction(46,1/2)', ' table=82, conj_id=46 actions=drop'];
    const got = [' table=82, conj_id=9,ct_state=+new-est,ip actions=set_field:0x9->reg7,output:3',
      ' table=82, ct_state=+new-est,ip,nw_src=10.0.0.3 actions=conjunction(1,1/2),conjunction(9,1/2)', ' table=82, conj_id=1 actions=drop'];
    expect([...conjIdBijection(got, want)!]).to.have.deep.members([[9, 22], [1, 46]]);
    // The reg7 copy must follow its conj_id; two ids may not become one.
    expect(conjIdBijection([got[0]!.replace('0x9->reg7', '0x1->reg7'), got[1]!, got[2]!], want)).to.equal(undefined);
    expect(conjIdBijection([got[0]!, got[1]!.replace('conjunction(1,', 'conjunction(9,'), got[2]!.replace('=1 ', '=9 ')], want)).to.equal(undefined);
  });

  it("classic profile equals the seed's compute br-tun as OVS 3.1 prints it, less the learned flow", () => {
    const want = lines(readFileSync(`${FIXTURES}seed-003/compute-br-tun.ovs31-of13-nostats.txt`, 'utf8'))
      .filter((l) => !l.startsWith(' table=20, hard_timeout=300')).sort(byteOrder);
    const state = deriveHostState(readTopology(`${FIXTURES}topologies/seed-003.jsonl`), 'compute');
    expect(state.tunnels.map((t) => [t.portName, t.ofport])).to.deep.equal([['vxlan-0a00644d', 2]]);
    expectSame(renderText(state, 'br-tun', pipelineOptions({ profile: 'classic' })), want, 'seed compute br-tun');
  });
});
