// Flow files as ovs-ofctl add-flows reads them: comments, blank lines, CRLF, backslash continuations,
// and errors that name the line where the flow starts.
import { expect } from 'chai';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { FlowFileError, iterateFlowText } from '../../lib/flowset/flow-file.js';

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
});
