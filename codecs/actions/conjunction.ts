// conjunction: one clause of a conjunctive match (NXAST_CONJUNCTION). Text: conjunction(ID,K/N);
// clause K is K-1 on the wire. The rule that a flow holds only conjunctions and notes is checked
// over the whole list (parse-actions.ts).
import { fail } from '../ofctl/syntax.js';
import { ActionRecord, nxHeader } from './record.js';

export interface Conjunction {
  readonly type: 'conjunction';
  readonly id: number;
  /** 0-based, as on the wire. */
  readonly clause: number;
  readonly nClauses: number;
}

const NXAST_CONJUNCTION = 34;

export const conjunction: ActionRecord<Conjunction> = {
  wire: [{ nx: NXAST_CONJUNCTION }],
  encode: (w, a) => {
    nxHeader(w, 16, NXAST_CONJUNCTION);
    w.u8(a.clause).u8(a.nClauses).u32(a.id);
  },
  decode: (r, _id, _len, at) => {
    const clause = r.u8();
    const nClauses = r.u8();
    const id = r.u32();
    if (nClauses < 2 || nClauses > 64 || clause >= nClauses) r.fail(`conjunction clause ${clause + 1}/${nClauses} is invalid`, at);
    return { type: 'conjunction', id, clause, nClauses };
  },
  print: (a) => `conjunction(${a.id},${a.clause + 1}/${a.nClauses})`,
  parse: {
    conjunction: ({ value, valueAt }, _ctx, out) => {
      const m = /^\s*(0x[0-9a-f]+|\d+)\s*,\s*(\d+)\s*\/\s*(\d+)\s*$/i.exec(value);
      if (!m) return fail(`"conjunction" syntax is "conjunction(id,i/n)"`, valueAt);
      const id = Number(BigInt(m[1]!));
      const clause = Number(m[2]);
      const n = Number(m[3]);
      if (n < 2) fail('conjunction must have at least 2 clauses', valueAt);
      if (n > 64) fail('conjunction must have at most 64 clauses', valueAt);
      if (clause < 1) fail('clause index must be positive', valueAt);
      if (clause > n) fail('clause index must be less than or equal to number of clauses', valueAt);
      out.push({ type: 'conjunction', id, clause: clause - 1, nClauses: n });
    },
  },
};
