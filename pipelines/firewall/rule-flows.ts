// Security-group rules as flows of tables 72 RULES_EGRESS and 82 RULES_INGRESS: the flow specs of
// pipelines/firewall/rules.ts (Neutron's rules.py) turned into the codec's flows.
import { BR_INT as T } from '../br-int-tables.js';
import type { PipelineFlow } from '../table.js';
import { ZONE } from './base.js';
import type { RuleFlowSpec } from './rules.js';

const DL_TYPE = { IPv4: 0x0800, IPv6: 0x86dd } as const;

/** One rule flow spec as a flow of its direction's table. */
export function ruleFlow(spec: RuleFlowSpec, cookie: bigint): PipelineFlow {
  const match = {
    ct_state: spec.ctState,
    dl_type: DL_TYPE[spec.ethertype],
    ...(spec.port !== undefined ? { reg5: spec.port } : {}),
    ...(spec.network !== undefined ? { reg6: spec.network } : {}),
    ...(spec.conjId !== undefined ? { conj_id: spec.conjId } : {}),
    ...(spec.nwProto !== undefined ? { nw_proto: spec.nwProto } : {}),
    ...(spec.remote ? { [spec.remote.field]: spec.remote.prefix } : {}),
    ...(spec.dlSrc !== undefined ? { dl_src: spec.dlSrc } : {}),
    ...(spec.tpDst ? { tp_dst: spec.tpDst.mask === undefined ? spec.tpDst.value : `${spec.tpDst.value}/${spec.tpDst.mask}` } : {}),
    ...(spec.icmpType !== undefined ? { icmp_type: spec.icmpType } : {}),
    ...(spec.icmpCode !== undefined ? { icmp_code: spec.icmpCode } : {}),
  };
  const a = spec.action;
  const reg7 = a.kind !== 'conjunction' && a.reg7 !== undefined ? [{ setField: 'reg7', value: a.reg7, set: 'reg7' } as const] : [];
  const conj = a.kind === 'conjunction' ? a.ids.map((id) => ({ conjunction: id, clause: a.clause, of: 2 })) : [];
  if (spec.direction === 'egress') {
    return T.rulesEgress.flow({
      cookie, priority: spec.priority, match, actions: a.kind === 'conjunction' ? conj : [...reg7, { resubmit: T.acceptOrIngress }],
    });
  }
  const deliver = { output: spec.port!, to: 'vm' } as const;
  return T.rulesIngress.flow({
    cookie, priority: spec.priority, match,
    actions: a.kind === 'conjunction' ? conj
      : a.kind === 'commit-accept' ? [...reg7, { ct: { commit: true, zone: ZONE } }, deliver, { resubmit: T.acceptedIngressTraffic }]
        : [...reg7, deliver],
  });
}
