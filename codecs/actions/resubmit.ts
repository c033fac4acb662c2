// resubmit: run the packet through a table again (NXAST_RESUBMIT: port only; NXAST_RESUBMIT_TABLE:
// port and table, 255 = this table). Text: resubmit:PORT, resubmit([PORT],[TABLE]).
import { formatPort, OFPP_IN_PORT, portByName } from '../openflow/ports.js';
import { fail } from '../ofctl/syntax.js';
import { ActionRecord, nxHeader } from './record.js';

export interface Resubmit {
  readonly type: 'resubmit';
  readonly inPort: number;
  readonly table: number;
  /** Which of the two wire forms; OVS 3.1 writes every parsed resubmit as 'table'. */
  readonly form: 'port' | 'table';
}

const NXAST_RESUBMIT = 1, NXAST_RESUBMIT_TABLE = 14;
const NO_TABLE = 255;

export const resubmit: ActionRecord<Resubmit> = {
  wire: [{ nx: NXAST_RESUBMIT }, { nx: NXAST_RESUBMIT_TABLE }],
  encode: (w, a) => {
    nxHeader(w, 16, a.form === 'table' ? NXAST_RESUBMIT_TABLE : NXAST_RESUBMIT);
    w.u16(a.inPort);
    if (a.form === 'table') w.u8(a.table).zeros(3);
    else w.zeros(4);
  },
  decode: (r, id, _len, at) => {
    if (id === NXAST_RESUBMIT) return { type: 'resubmit', inPort: r.u16(), table: NO_TABLE, form: 'port' };
    const inPort = r.u16();
    const table = r.u8();
    if (r.bytes(3).some((b) => b !== 0)) r.fail('resubmit pad bytes must be zero', at);
    return { type: 'resubmit', inPort, table, form: 'table' };
  },
  print: (a) => {
    if (a.inPort !== OFPP_IN_PORT && a.table === NO_TABLE) return `resubmit:${formatPort(a.inPort)}`;
    return `resubmit(${a.inPort !== OFPP_IN_PORT ? formatPort(a.inPort) : ''},${a.table !== NO_TABLE ? a.table : ''})`;
  },
  parse: {
    resubmit: ({ value, valueAt, delim }, _ctx, out) => {
      if (delim !== '(') {
        const p = portByName(value) ?? (/^\d+$/.test(value) ? Number(value) : undefined);
        if (p === undefined) fail(`${value}: resubmit to unknown port`, valueAt);
        if (p === OFPP_IN_PORT) fail(`at least one "in_port" or "table" must be specified on resubmit`, valueAt);
        out.push({ type: 'resubmit', inPort: p!, table: NO_TABLE, form: 'table' });
        return;
      }
      const [portText = '', tableText = '', extra] = value.split(',');
      if (extra !== undefined) fail(`${value}: resubmit takes at most port and table`, valueAt);
      const inPort = portText === '' ? OFPP_IN_PORT : portByName(portText) ?? (/^\d+$/.test(portText) ? Number(portText) : -1);
      if (inPort < 0) fail(`${portText}: resubmit to unknown port`, valueAt);
      let table = NO_TABLE;
      if (tableText !== '') {
        if (!/^\d+$/.test(tableText) || Number(tableText) > 255) fail(`${tableText}: resubmit to unknown table`, valueAt);
        table = Number(tableText);
      }
      if (inPort === OFPP_IN_PORT && table === NO_TABLE) fail(`at least one "in_port" or "table" must be specified on resubmit`, valueAt);
      out.push({ type: 'resubmit', inPort, table, form: 'table' });
    },
  },
};
