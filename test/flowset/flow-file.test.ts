// Flow files as ovs-ofctl add-flows reads them: comments, blank lines, CRLF, backslash continuations,
// and errors that name the line where the flow starts.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { Writer } from '../../codecs/openflow/bytes.js';
import { FlowModMessage, writeMessage } from '../../codecs/openflow/messages.js';
import { FlowFileError, iterateFlowText } from '../../lib/flowset/flow-file.js';
import { assertOvsInstalled } from '../../testing/sandbox.js';

const run = promisify(execFile);

/** The FLOW_MOD ovs-ofctl 3.1 encodes for one flow (hex, xid 1), or its refusal (stderr). */
async function ovsFlowMod(flow: string): Promise<{ hex?: string; refused?: string }> {
  try {
    const { stdout } = await run('ovs-ofctl', ['-O', 'OpenFlow13', '-mmmmm', 'parse-flow', flow]);
    return { hex: stdout.split('\n').map((l) => /^[0-9a-f]{8} {2}((?:[0-9a-f]{2}[ -]){1,16})/.exec(l)?.[1]).filter((h) => h !== undefined).join('').replace(/[ -]/g, '') };
  } catch (err) {
    return { refused: (err as { stderr: string }).stderr };
  }
}

function hexOf(m: FlowModMessage): string {
  const w = new Writer(256);
  writeMessage(w, m, 1);
  return w.finish().toString('hex');
}

describe('flow files', () => {
  const text = 'in_port=1,\\\nactions=drop\n# a comment\n\n table=1,actions=output:2 \r\n\ntable=2,\\\n\\\npriority=7,actions=drop';

  it('yields each flow with the line it starts on, continuations joined, comments and blank lines skipped', () => {
    const flows = [...iterateFlowText(text, 'f.txt')];
    expect(flows.map((f) => [f.line, f.text, formatFlow(f.flow)])).to.deep.equal([
      [1, 'in_port=1,actions=drop', 'in_port=1 actions=drop'],
      [5, 'table=1,actions=output:2', 'table=1, actions=output:2'],
      [7, 'table=2,priority=7,actions=drop', 'table=2, priority=7 actions=drop'],
    ]);
  });

  it('names the file, the line and the column of a syntax error, after the flows before it', () => {
    const it = iterateFlowText(`${text}\nbogus=1,actions=drop\n`, 'f.txt');
    expect([it.next(), it.next(), it.next()].every((r) => !r.done)).to.equal(true);
    expect(() => it.next()).to.throw(FlowFileError, 'f.txt:10: column 1: unknown keyword bogus');
  });

  it('reads an empty file and a lone newline as no flows', () => {
    expect([...iterateFlowText('', 'e')]).to.deep.equal([]);
    expect([...iterateFlowText('\n', 'e')]).to.deep.equal([]);
  });

  // A file's repeated action lists are read once (ActionsMemo): the same list after other match
  // fields must still come out as OVS encodes it there, or be refused where OVS refuses it.
  describe('an action list repeated after other matches', () => {
    const flows = [
      'priority=1,ip,actions=dec_ttl,output:1',
      'priority=2,ip,nw_src=10.0.0.1,actions=dec_ttl,output:1',
      'cookie=0x5,priority=3,ip,actions=dec_ttl,output:1',
      'table=3,priority=4,ip,actions=dec_ttl,output:1',
      'priority=5,dl_vlan=5,actions=mod_vlan_vid:7,output:2',
      'priority=6,actions=mod_vlan_vid:7,output:2',
      'priority=7,dl_vlan=5,actions=mod_vlan_vid:7,output:2',
      'priority=8,tcp,actions=set_field:80->tcp_dst',
      'priority=9,tcp,tp_src=5,actions=set_field:80->tcp_dst',
      'priority=10,ipv6,actions=dec_ttl,output:1',
    ];

    it('encodes each flow of the file as ovs-ofctl encodes it alone', async () => {
      assertOvsInstalled();
      const ours = [...iterateFlowText(flows.join('\n'), 'f.txt')].map((f) => hexOf(f.flow));
      const theirs = await Promise.all(flows.map(ovsFlowMod));
      expect(theirs.every((t) => t.hex !== undefined), JSON.stringify(theirs)).to.equal(true);
      expect(ours).to.deep.equal(theirs.map((t) => t.hex));
    });

    it('refuses a repeated list where the match does not allow it, as ovs-ofctl does', async () => {
      assertOvsInstalled();
      for (const [bad, why] of [
        ['priority=11,arp,actions=dec_ttl,output:1', 'dec_ttl needs an ip or ipv6 match'],
        ['priority=11,udp,actions=set_field:80->tcp_dst', 'set_field tcp_dst lacks correct prerequisites'],
      ] as const) {
        expect((await ovsFlowMod(bad)).refused, bad).to.be.a('string');
        expect(() => [...iterateFlowText([...flows, bad].join('\n'), 'f.txt')], bad).to.throw(FlowFileError, why);
      }
    });

    it('reads a file of many distinct lists, then repeats, as each flow alone', () => {
      const lines = Array.from({ length: 1500 }, (_, i) => `priority=${i},ip,actions=set_field:${i}->reg0,output:${i % 3 + 1}`);
      lines.push(...lines.slice(0, 300).map((l) => `cookie=0x1,${l}`));
      const file = [...iterateFlowText(lines.join('\n'), 'f.txt')].map((f) => hexOf(f.flow));
      expect(file).to.deep.equal(lines.map((l) => hexOf(parseFlow(l))));
    });
  });
});
