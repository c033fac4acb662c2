// Table features against OVS 3.1: the reply ovs-vswitchd 3.1 really sends (two of the 20 messages
// of `dump-table-features` on a fresh bridge, every field OVS knows in its order, ditto runs)
// printed by `ovs-ofctl ofp-print` as we print it and re-encoded byte for byte; every header of
// codecs/openflow/mf-fields.ts named by OVS as the table names it; the field rows of fields.ts
// under the same names there.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { formatMessage } from '../../../codecs/ofctl/format-message.js';
import { FIELDS, headersOf } from '../../../codecs/openflow/fields.js';
import { decodeMessage, encodeMessage } from '../../../codecs/openflow/messages.js';
import { mfFieldByHeader, mfFields } from '../../../codecs/openflow/mf-fields.js';

const run = promisify(execFile);
const ofpPrint = async (hex: string): Promise<string> =>
  (await run('ovs-ofctl', ['ofp-print', hex], { maxBuffer: 1 << 26 })).stdout;

const REPLY = readFileSync(new URL('../../../../fixtures/table-features/ovs-3.1-reply.hex', import.meta.url), 'utf8').trim().split('\n');

/** A table features reply of one entry per OXM list, each in a match property beside the other required ones. */
function perHeader(lists: readonly Buffer[]): Buffer {
  const entries = lists.map((oxms, i) => {
    const props = [0, 2, 4, 6, 8, 10, 12, 14].map((type) => {
      const data = type === 8 ? oxms : Buffer.alloc(0);
      const p = Buffer.alloc((4 + data.length + 7) & ~7);
      p.writeUInt16BE(type, 0);
      p.writeUInt16BE(4 + data.length, 2);
      data.copy(p, 4);
      return p;
    });
    const fixed = Buffer.alloc(64);
    fixed[2] = i;
    fixed.writeUInt32BE(i + 1, 60); // max_entries apart: no entry is "ditto"
    const e = Buffer.concat([fixed, ...props]);
    e.writeUInt16BE(e.length, 0);
    return e;
  });
  const header = Buffer.from('04130000000000010000000c00000000'.replace('0000000c', '000c0000'), 'hex');
  const m = Buffer.concat([header, ...entries]);
  m.writeUInt16BE(m.length, 2);
  return m;
}

describe('table features against ovs-ofctl 3.1', function () {
  this.timeout(60_000);

  REPLY.forEach((hex, i) => {
    it(`ovs-vswitchd's reply, message ${i + 1} of 2 (${hex.length / 2} bytes): printed as OVS prints it, re-encoded as it came`, async () => {
      const r = decodeMessage(Buffer.from(hex, 'hex'));
      if (!r.ok) throw r.error;
      expect(formatMessage(r.msg)).to.equal(await ofpPrint(hex));
      expect(encodeMessage(r.msg).toString('hex')).to.equal(hex);
    });
  });

  it('table stats: runs of equal counters as "tables N...M: ditto", as OVS prints them', async () => {
    const entry = (table: number, active: number): string => `${table.toString(16).padStart(2, '0')}000000${active.toString(16).padStart(8, '0')}${'00'.repeat(16)}`;
    const body = [entry(0, 1), entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 2), entry(5, 2), entry(6, 3)].join('');
    const hex = `0413${(16 + body.length / 2).toString(16).padStart(4, '0')}000000070003000000000000${body}`;
    const r = decodeMessage(Buffer.from(hex, 'hex'));
    if (!r.ok) throw r.error;
    const ovs = await ofpPrint(hex);
    expect(ovs).to.contain('tables 1...3: ditto');
    expect(formatMessage(r.msg)).to.equal(ovs);
  });

  it('every header of the mf_field table names its field for OVS', async () => {
    const all = mfFields().flatMap((f) => f.headers.map((h) => [f.name, h] as const));
    for (let i = 0; i < all.length; i += 200) {
      const chunk = all.slice(i, i + 200);
      const out = await ofpPrint(perHeader(chunk.map(([, h]) => Buffer.from(h, 'hex'))).toString('hex'));
      // Two headers of one field in a row: the second entry prints "(same matching)".
      let last = '';
      const named = [...out.matchAll(/must exact match: (\S+)|\(same matching\)/g)].map((m) => (last = m[1] ?? last));
      expect(named).to.deep.equal(chunk.map(([name]) => name));
    }
  });

  it('OVS lists fields in the mf_field order of the table', async () => {
    const oxms = Buffer.concat(mfFields().map((f) => Buffer.from(f.headers[0]!, 'hex')).reverse());
    const out = await ofpPrint(perHeader([oxms]).toString('hex'));
    const r = decodeMessage(perHeader([oxms]));
    if (!r.ok) throw r.error;
    expect(formatMessage(r.msg)).to.equal(out);
  });

  it('lookups follow OVS: masked headers by their exact form, variable length only for tun_metadata, no length of 128 or more', () => {
    const tunId = mfFields().findIndex((f) => f.name === 'tun_id');
    expect(mfFieldByHeader(0x80004d10)).to.equal(tunId);
    expect(mfFieldByHeader(0x80004c04)).to.equal(undefined);
    const md0 = mfFields().findIndex((f) => f.name === 'tun_metadata0');
    expect([0x00015001, 0x0001507f, 0x000151f8, 0x00015080].map((h) => mfFieldByHeader(h))).to.deep.equal([md0, md0, md0, undefined]);
  });

  it("the codec's field rows are OVS's fields of the same headers", () => {
    for (const f of FIELDS) {
      for (const h of headersOf(f)) {
        // fields.ts counts an experimenter OXM's length without its experimenter id; OVS with it.
        const header = h.experimenter === undefined ? h.header : h.header + 4;
        const id = mfFieldByHeader(header, h.experimenter);
        expect(id === undefined ? undefined : [f.name, ...f.aliases], h.name).to.include(mfFields()[id ?? 0]!.name);
      }
    }
  });
});
