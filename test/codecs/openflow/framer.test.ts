// The OpenFlow framer alone: messages cut anywhere come out whole and in order; a length the
// stream cannot resynchronise from is reported, not thrown.
import { expect } from 'chai';
import { parseFlow } from '../../../codecs/ofctl/parse-flow.js';
import { OfFramer } from '../../../codecs/openflow/framer.js';
import { encodeMessage } from '../../../codecs/openflow/messages.js';

describe('OpenFlow stream framing', () => {
  it('reassembles messages cut anywhere and reports a broken stream', () => {
    const msgs = [
      encodeMessage({ type: 'hello', xid: 1, versions: [4] }),
      encodeMessage({ ...parseFlow('table=4,priority=1,tun_id=0x3e9 actions=mod_vlan_vid:1,resubmit(,10)'), xid: 2 }),
      encodeMessage({ type: 'barrier_request', xid: 3 }),
    ];
    const all = Buffer.concat(msgs);
    for (const cut of [1, 3, 7, 8, 9, 13, 50]) {
      const f = new OfFramer();
      const got: Buffer[] = [];
      for (let at = 0; at < all.length; at += cut) {
        expect(f.push(all.subarray(at, at + cut), (m) => (got.push(Buffer.from(m)), true))).to.equal(undefined);
      }
      expect(got.map((m) => m.toString('hex'))).to.deep.equal(msgs.map((m) => m.toString('hex')));
      expect(f.pending).to.equal(0);
    }
    const f = new OfFramer();
    expect(f.push(Buffer.from('0400000800000001040e000200000002', 'hex'), () => true)).to.match(/length 2 < 8 at stream offset 8/);
  });

  it('refuses a message longer than the limit, and stops when told to', () => {
    const msgs = [1, 2, 3].map((xid) => encodeMessage({ type: 'barrier_request', xid }));
    expect(new OfFramer(16).push(Buffer.from('0400001800000001', 'hex'), () => true)).to.equal('length 24 > 16 at stream offset 0');
    const f = new OfFramer();
    const got: number[] = [];
    expect(f.push(Buffer.concat(msgs), (m) => (got.push(m.readUInt32BE(4)), got.length < 2))).to.equal(undefined);
    expect(got).to.deep.equal([1, 2]);
    expect(f.pending).to.equal(8);
  });
});
