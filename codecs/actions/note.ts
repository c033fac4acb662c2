// note: opaque bytes that do nothing (NXAST_NOTE). Text: note:HEX[.HEX]…; OVS pads the bytes so
// the action is a multiple of 8 bytes (at least 16), and prints the padding back.
import { fail } from '../ofctl/syntax.js';
import { ActionRecord, nxHeader } from './record.js';

export interface Note {
  readonly type: 'note';
  readonly data: Buffer;
}

const NXAST_NOTE = 8;
const NOTE_HEADER = 10;

export const note: ActionRecord<Note> = {
  wire: [{ nx: NXAST_NOTE }],
  encode: (w, a) => {
    const start = w.pos;
    nxHeader(w, 0, NXAST_NOTE);
    w.bytes(a.data);
    // OVS pads the note to at least 16 bytes (6 bytes of note space in the minimal action).
    if (w.pos - start < 16) w.zeros(16 - (w.pos - start));
    w.padTo(8, start);
    w.patch16(start + 2, w.pos - start);
  },
  decode: (r) => ({ type: 'note', data: Buffer.from(r.bytes(r.remaining)) }),
  print: (a) => `note:${[...a.data].map((b) => b.toString(16).padStart(2, '0')).join('.')}`,
  parse: {
    note: ({ value, valueAt }, _ctx, out) => {
      const hex = value.replace(/\./g, '');
      if (!/^([0-9a-f]{2})*$/i.test(hex)) fail(`${value}: bad hex digit in \`note' argument`, valueAt);
      const data = Buffer.from(hex, 'hex');
      const total = Math.max(16, Math.ceil((NOTE_HEADER + data.length) / 8) * 8);
      out.push({ type: 'note', data: Buffer.concat([data, Buffer.alloc(total - NOTE_HEADER - data.length)]) });
    },
  },
};
