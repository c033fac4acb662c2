// resubmit: run the packet through a table again (NXAST_RESUBMIT: port only; NXAST_RESUBMIT_TABLE:
// port and table, 255 = this table; NXAST_RESUBMIT_TABLE_CT: the same, matching the conntrack
// original-direction tuple). Text: resubmit:PORT, resubmit([PORT],[TABLE][,ct]).
import type { Match } from '../openflow/match.js';
import { formatPort, namedPort, OFPP_IN_PORT } from '../openflow/ports.js';
import { fail } from '../ofctl/syntax.js';
import { ActionRecord, nxHeader } from './record.js';

export interface Resubmit {
  readonly type: 'resubmit';
  readonly inPort: number;
  readonly table: number;
  /** Which wire form; OVS 3.1 writes every parsed resubmit as 'table' ('table_ct' with `,ct`). */
  readonly form: 'port' | 'table' | 'table_ct';
}

const NXAST_RESUBMIT = 1, NXAST_RESUBMIT_TABLE = 14, NXAST_RESUBMIT_TABLE_CT = 44;
const CS_NEW_EST_REL_RPL_NAT = 0xcfn, CS_INVALID = 0x10n, CS_TRACKED = 0x20n;

/** OVS's is_ct_valid() on a match: it says the packet has a valid connection (resubmit's ct needs one). */
export function ctValid(m: Match): boolean {
  const e = m.get('ct_state');
  if (!e) return false;
  return (e.value & CS_NEW_EST_REL_RPL_NAT) !== 0n || ((e.value & CS_TRACKED) !== 0n && (e.mask & CS_INVALID) !== 0n && (e.value & CS_INVALID) === 0n);
}
const NO_TABLE = 255;

export const resubmit: ActionRecord<Resubmit> = {
  wire: [{ nx: NXAST_RESUBMIT }, { nx: NXAST_RESUBMIT_TABLE }, { nx: NXAST_RESUBMIT_TABLE_CT }],
  encode: (w, a) => {
    nxHeader(w, 16, a.form === 'table' ? NXAST_RESUBMIT_TABLE : a.form === 'table_ct' ? NXAST_RESUBMIT_TABLE_CT : NXAST_RESUBMIT);
    w.u16(a.inPort);
    if (a.form !== 'port') w.u8(a.table).zeros(3);
    else w.zeros(4);
  },
  decode: (r, id, _len, at) => {
    if (id === NXAST_RESUBMIT) return { type: 'resubmit', inPort: r.u16(), table: NO_TABLE, form: 'port' };
    const inPort = r.u16();
    const table = r.u8();
    if (r.bytes(3).some((b) => b !== 0)) r.fail('resubmit pad bytes must be zero', at);
    return { type: 'resubmit', inPort, table, form: id === NXAST_RESUBMIT_TABLE_CT ? 'table_ct' : 'table' };
  },
  print: (a) => {
    const ct = a.form === 'table_ct';
    if (a.inPort !== OFPP_IN_PORT && a.table === NO_TABLE && !ct) return `resubmit:${formatPort(a.inPort)}`;
    return `resubmit(${a.inPort !== OFPP_IN_PORT ? formatPort(a.inPort) : ''},${a.table !== NO_TABLE ? a.table : ''}${ct ? ',ct' : ''})`;
  },
  parse: {
    resubmit: ({ value, valueAt, delim, keyAt }, ctx, out) => {
      if (delim !== '(') {
        const p = namedPort(value) ?? (/^\d+$/.test(value) ? Number(value) : undefined);
        if (p === undefined) fail(`${value}: resubmit to unknown port`, valueAt);
        if (p === OFPP_IN_PORT) fail(`at least one "in_port" or "table" must be specified on resubmit`, valueAt);
        out.push({ type: 'resubmit', inPort: p!, table: NO_TABLE, form: 'table' });
        return;
      }
      const [portText = '', tableText = '', ctText, extra] = value.split(',');
      if (extra !== undefined) fail(`${value}: resubmit takes at most port, table and ct`, valueAt);
      if (ctText !== undefined && ctText !== 'ct') fail(`${ctText}: unknown parameter`, valueAt);
      const inPort = portText === '' ? OFPP_IN_PORT : namedPort(portText) ?? (/^\d+$/.test(portText) ? Number(portText) : -1);
      if (inPort < 0) fail(`${portText}: resubmit to unknown port`, valueAt);
      let table = NO_TABLE;
      if (tableText !== '') {
        if (!/^\d+$/.test(tableText) || Number(tableText) > 255) fail(`${tableText}: resubmit to unknown table`, valueAt);
        table = Number(tableText);
      }
      if (inPort === OFPP_IN_PORT && table === NO_TABLE) fail(`at least one "in_port" or "table" must be specified on resubmit`, valueAt);
      if (ctText !== undefined && !ctx.unchecked && !ctValid(ctx.match)) {
        fail('actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): resubmit with ct needs a ct_state that says the connection is valid', keyAt);
      }
      out.push({ type: 'resubmit', inPort, table, form: ctText === undefined ? 'table' : 'table_ct' });
    },
  },
};
