// Neutron's OVS firewall (firewall_driver = openvswitch) in br-int: tables 60 (its per-port part),
// 71-73, 81-82 and 91-94, as Neutron 21's agent installs them. A protected port (port security on,
// not a trusted `network:*` port) gets the base flows and its security groups' rules; any other
// port is let through its egress side unfiltered, as Neutron's `_initialize_egress_no_port_security`.
import type { HostState } from '../../lib/state/host-state.js';
import { isProtected } from '../br-int.js';
import type { PipelineFlow } from '../table.js';
import { filteredPortFlows, fixedFlows, unfilteredPortFlows } from './base.js';

export function firewallFlows(s: HostState, cookie: bigint, out: PipelineFlow[]): void {
  let anyFiltered = false;
  for (const p of s.localPorts) {
    if (isProtected(p)) {
      anyFiltered = true;
      for (const f of filteredPortFlows(p, cookie)) out.push(f);
    } else {
      for (const f of unfilteredPortFlows(p, cookie)) out.push(f);
    }
  }
  for (const f of fixedFlows(cookie, anyFiltered)) out.push(f);
}
