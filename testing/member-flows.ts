// Flows like the firewall's remote-group member flows (table 82, one per network and member IP,
// two conjunction actions), as many as wanted: the bulk of a big br-int bundle.

/** The i-th member flow, as ovs-ofctl add-flows reads it; distinct for i below 65536000. */
export function memberFlow(i: number): string {
  const net = 1 + (i % 1000);
  const host = Math.floor(i / 1000);
  return `table=82,priority=73,ct_state=+est-rel-rpl,ip,reg6=${net},nw_src=10.${(host >> 8) & 255}.${host & 255}.${1 + (net % 250)} `
    + `actions=conjunction(${2 * net},1/2),conjunction(${2 * net + 8},1/2)`;
}
