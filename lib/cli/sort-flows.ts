// dump-flows --sort[=FIELD] / --rsort[=FIELD], as ovs-ofctl sorts (compare_flows): by each key in
// turn, a field's value with its wildcarded bits zero, the flows that do not match the field (or
// whose prerequisites do not hold) last in either direction; no field: the priority. Ties go by
// descending priority, as ovs-ofctl 3.1 prints them (measured: not the switch's order), then the
// switch's order.
import { fieldByName, FieldDef, prereqHolds } from '../../codecs/openflow/fields.js';
import type { Flow } from '../../codecs/openflow/flow.js';
import { protocolContext } from '../../codecs/openflow/match.js';
import type { SortKey } from './args.js';

const fieldOf = (k: SortKey): FieldDef | undefined => (k.field === undefined || k.field === 'priority' ? undefined : fieldByName(k.field));

/** The first key naming no match field (ovs-ofctl refuses it: `FIELD: unknown field name`). */
export function unknownSortField(keys: readonly SortKey[]): string | undefined {
  return keys.find((k) => k.field !== undefined && k.field !== 'priority' && !fieldByName(k.field))?.field;
}

/** The field's value in the flow's match (wildcarded bits zero), or undefined when the flow does not match it. */
function valueOf(f: FieldDef, flow: Flow): bigint | undefined {
  const e = flow.match.get(f.slot);
  if (!e || (e.mask & f.slotMask) === 0n || !prereqHolds(f.prereq, protocolContext(flow.match, true))) return undefined;
  return e.value & e.mask & f.slotMask;
}

export function sortFlows<F extends Flow>(flows: F[], keys: readonly SortKey[]): F[] {
  const fields = keys.map(fieldOf);
  return flows.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const f = fields[i];
      let ret: number;
      if (!f) {
        ret = a.priority - b.priority;
      } else {
        const va = valueOf(f, a);
        const vb = valueOf(f, b);
        if ((va === undefined) !== (vb === undefined)) return va === undefined ? 1 : -1;
        ret = va === undefined || vb === undefined || va === vb ? 0 : va < vb ? -1 : 1;
      }
      if (ret) return keys[i]!.descending ? -ret : ret;
    }
    return b.priority - a.priority;
  });
}
