// The OVSDB framer finds JSON messages written back to back, whatever the chunking.
import { expect } from 'chai';
import fc from 'fast-check';
import { FramingError, JsonFramer } from '../../codecs/ovsdb/framer.js';
import { decodeRpc, encodeRpc } from '../../codecs/ovsdb/protocol.js';

const jsonValue = fc.jsonValue({ maxDepth: 4 });
const message = fc.record({ id: fc.oneof(fc.integer(), fc.string()), method: fc.string(), params: fc.array(jsonValue, { maxLength: 4 }) });

describe('OVSDB JSON framer', () => {
  it('splits back-to-back messages at any chunking, strings with braces, quotes and UTF-8 included', () => {
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (msgs, cuts) => {
      const bytes = Buffer.from(msgs.map((m) => JSON.stringify(m)).join(''), 'utf8');
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      const f = new JsonFramer();
      const got: string[] = [];
      let last = 0;
      for (const p of [...points, bytes.length]) {
        got.push(...f.push(bytes.subarray(last, p)));
        last = p;
      }
      expect(got.map((t) => JSON.parse(t) as unknown)).to.deep.equal(msgs.map((m) => JSON.parse(JSON.stringify(m)) as unknown));
    }), { seed: 7, numRuns: 500 });
  });

  it('rejects bytes between messages that are not white space', () => {
    expect(() => new JsonFramer().push(Buffer.from('{"a":1} x {"b":2}'))).to.throw(FramingError, /unexpected 'x'/);
  });

  it('bounds the size of an unfinished message', () => {
    const f = new JsonFramer(1024);
    expect(() => f.push(Buffer.from(`{"a":"${'x'.repeat(2000)}`))).to.throw(FramingError, /larger than 1024/);
  });

  it('speaks JSON-RPC 1.0: no "jsonrpc" member, params an array, null-id notifications', () => {
    expect(encodeRpc({ id: 1, method: 'echo', params: [] })).to.equal('{"id":1,"method":"echo","params":[]}');
    expect(decodeRpc('{"id":null,"method":"update2","params":["x",{}]}')).to.deep.equal({ id: null, method: 'update2', params: ['x', {}] });
    expect(decodeRpc('{"id":3,"result":{},"error":null}')).to.deep.equal({ id: 3, result: {}, error: null });
  });
});
