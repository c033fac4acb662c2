// The drawn pipeline: edges come from the flows each profile really renders.
import { expect } from 'chai';
import { graphFor } from '../../lib/cli/pipeline-graph.js';
import { edgeList, toDot, toMermaid } from '../../pipelines/graph.js';
import { runCli } from '../../testing/run-cli.js';

const NEUTRON_BR_TUN = [
  '0->2 goto', '0->4 goto', '2->20 goto', '2->22 goto', '4->10 goto', '10->20 learn', '10->patch-int output',
  '20->22 goto', '22->tunnels output',
];

describe('pipeline graph', function () {
  this.timeout(60_000);
  const plain = { profile: 'neutron', bridge: 'br-tun', l2pop: false, arpResponder: false } as const;

  it("draws neutron br-tun's continuations, and table 21 with l2pop + the ARP responder", () => {
    const g = graphFor(plain);
    expect(edgeList(g)).to.include.members(NEUTRON_BR_TUN);
    expect(edgeList(g)).not.to.include('2->21 goto');
    expect(g.nodes.find((n) => n.key === '4')?.lines).to.deep.equal(['4 VXLAN_TUN_TO_LV', 'tunnel ID to local VLAN']);

    const arp = edgeList(graphFor({ ...plain, l2pop: true, arpResponder: true }));
    expect(arp).to.include.members([...NEUTRON_BR_TUN, '2->21 goto', '21->IN_PORT output', '21->22 goto']);
  });

  it('labels the classic continuations resubmit, without tables 6 and 21', () => {
    const g = graphFor({ ...plain, profile: 'classic' });
    expect(edgeList(g)).to.include.members(NEUTRON_BR_TUN.map((e) => e.replace(/ goto$/, ' resubmit')));
    expect(g.edges.map((e) => e.label)).not.to.include('goto');
    const tables = g.nodes.map((n) => n.key);
    expect(tables).not.to.include('6');
    expect(tables).not.to.include('21');
  });

  it('writes those edges as Mermaid and dot', () => {
    const g = graphFor(plain);
    const mermaid = toMermaid(g);
    expect(mermaid).to.match(/^flowchart LR\n/);
    expect(mermaid).to.include('t4["4 VXLAN_TUN_TO_LV<br/>tunnel ID to local VLAN"]');
    for (const e of ['t0 -->|goto| t2', 't0 -->|goto| t4', 't2 -->|goto| t20', 't2 -->|goto| t22', 't4 -->|goto| t10',
      't10 -.->|learn| t20', 't10 -->|output| p_patch_int', 't20 -->|goto| t22', 't22 -->|output| p_tunnels']) {
      expect(mermaid).to.include(`  ${e}\n`);
    }
    const dot = toDot(g);
    expect(dot).to.match(/^digraph .* \{\n {2}rankdir=LR;/);
    expect(dot).to.include('t4 [label="4 VXLAN_TUN_TO_LV\\ntunnel ID to local VLAN"];');
    for (const e of ['t0 -> t2 [label="goto"]', 't0 -> t4 [label="goto"]', 't2 -> t20 [label="goto"]', 't2 -> t22 [label="goto"]',
      't4 -> t10 [label="goto"]', 't10 -> t20 [label="learn", style=dashed]', 't10 -> p_patch_int [label="output"]',
      't20 -> t22 [label="goto"]', 't22 -> p_tunnels [label="output"]']) {
      expect(dot).to.include(`  ${e};\n`);
    }
  });

  it('--format svg through the CLI runs Graphviz, or says to install it', async () => {
    const r = await runCli(['pipeline', 'graph', '--format', 'svg']);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^(<\?xml|<svg)/);
    expect(r.stdout).to.include('LEARN_FROM_TUN');

    const missing = await runCli(['pipeline', 'graph', '--format', 'svg'], { PATH: '/nonexistent' });
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('install graphviz (apt-get install graphviz) for --format svg');
  });
});
