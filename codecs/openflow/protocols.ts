// OVS's flow-mod "protocols" (enum ofputil_protocol, lib/ofp-protocol.c): the OpenFlow versions and
// flow formats a flow can be sent in. A set of them is a bit mask; each match field (fields.ts), some
// actions (codecs/actions) and some flow-mod keywords narrow it, and `ovs-ofctl parse-flow` prints
// what is left as "usable protocols".

export const P_OF10_STD = 1 << 0;
export const P_OF10_STD_TID = 1 << 1;
export const P_OF10_NXM = 1 << 2;
export const P_OF10_NXM_TID = 1 << 3;
export const P_OF11_STD = 1 << 4;
export const P_OF12_OXM = 1 << 5;
export const P_OF13_OXM = 1 << 6;
export const P_OF14_OXM = 1 << 7;
export const P_OF15_OXM = 1 << 8;

export const P_OF10_STD_ANY = P_OF10_STD | P_OF10_STD_TID;
export const P_OF10_NXM_ANY = P_OF10_NXM | P_OF10_NXM_TID;
export const P_OF10_ANY = P_OF10_STD_ANY | P_OF10_NXM_ANY;
export const P_ANY_OXM = P_OF12_OXM | P_OF13_OXM | P_OF14_OXM | P_OF15_OXM;
export const P_OF11_UP = P_OF11_STD | P_ANY_OXM;
export const P_OF12_UP = P_ANY_OXM;
export const P_OF13_UP = P_OF13_OXM | P_OF14_OXM | P_OF15_OXM;
export const P_NXM_OF11_UP = P_OF10_NXM_ANY | P_OF11_UP;
export const P_NXM_OXM_ANY = P_OF10_NXM_ANY | P_ANY_OXM;
/** The formats that carry a table id in a flow-mod (table=N narrows to these). */
export const P_TID = P_OF10_STD_TID | P_OF10_NXM_TID | P_OF11_STD | P_ANY_OXM;
export const P_ANY = (1 << 9) - 1;
export const P_NONE = 0;

/** ofputil_protocol_to_string(), by bit. */
const NAMES = [
  'OpenFlow10-table_id', 'OpenFlow10+table_id', 'NXM-table_id', 'NXM+table_id', 'OpenFlow11',
  'OXM-OpenFlow12', 'OXM-OpenFlow13', 'OXM-OpenFlow14', 'OXM-OpenFlow15',
];

/** ofputil_protocols_to_string()'s abbreviations, tried in this order before single names. */
const ABBREVIATIONS: ReadonlyArray<readonly [number, string]> = [
  [P_ANY, 'any'], [P_OF10_STD_ANY, 'OpenFlow10'], [P_OF10_NXM_ANY, 'NXM'], [P_ANY_OXM, 'OXM'],
];

/** One protocol's name (a single bit). */
export function protocolName(p: number): string {
  return NAMES[31 - Math.clz32(p)]!;
}

/** A set as ovs-ofctl prints it: abbreviations where a whole group is in, then single names in bit order. */
export function protocolsToString(set: number): string {
  if (!set) return 'none';
  const names: string[] = [];
  let left = set;
  while (left) {
    const ab = ABBREVIATIONS.find(([p]) => (left & p) === p);
    const p = ab ? ab[0] : left & -left;
    names.push(ab ? ab[1] : protocolName(p));
    left &= ~p;
  }
  return names.join(',');
}

/** What narrows while a flow is parsed (OVS's `enum ofputil_protocol *usable_protocols`). */
export interface Usable {
  protocols: number;
}
