// Tables 72/82, the first dimension of the remote-group conjunctions: each network's member flows as
// one flow family (lib/flowset/family.ts). They are most of a large br-int (1000 networks x 500
// members: ~1M flows), so they are never held as flow objects: the family keeps what they follow from
// (the network's VLAN, the rules' use of remote groups with their conj ids, the member lists) and a
// member joining a group changes the flows of that address alone, in every network naming the group.
import type { GroupMembers } from '../../lib/state/host-state.js';
import { diffFlowLists, FamilyChanges, FlowFamily } from '../../lib/flowset/family.js';
import type { Flow } from '../../codecs/openflow/flow.js';
import type { PipelineFlow } from '../table.js';
import { ruleFlow } from './rule-flows.js';
import { MemberAddress, memberEntriesOf, memberFlowCount, memberFlowSpecs, memberList, MemberUse } from './rules.js';

const NO_CHANGES: FamilyChanges = { added: [], changed: [], deleted: [] };

export class MemberFamily implements FlowFamily {
  /** The VLAN, the cookie and the use as one value: two families alike in it differ in member lists only. */
  private readonly params: string;

  constructor(
    readonly key: string,
    private readonly vlan: number,
    private readonly cookie: bigint,
    private readonly use: readonly MemberUse[],
    private readonly members: ReadonlyMap<string, GroupMembers>,
  ) {
    let p = `${vlan}|${cookie}`;
    for (const u of use) {
      p += `|${u.direction}/${u.ethertype}`;
      for (const [remote, ids] of u.byRemote) p += ` ${remote}=${[...ids].join(',')}`;
    }
    this.params = p;
  }

  /** The family's flows as the pipeline lists them (all of them, or those of some address keys). */
  *pipelineFlows(only?: ReadonlySet<string>): Generator<PipelineFlow> {
    for (const spec of memberFlowSpecs(this.vlan, this.use, this.members, only)) yield ruleFlow(spec, this.cookie);
  }

  count(): number {
    return memberFlowCount(this.vlan, this.use, this.members);
  }

  *flows(only?: ReadonlySet<string>): Generator<Flow> {
    for (const p of this.pipelineFlows(only)) yield p.flow;
  }

  changesFrom(prev: FlowFamily): FamilyChanges | undefined {
    if (!(prev instanceof MemberFamily) || prev.params !== this.params) return undefined;
    const keys = new Set<string>();
    for (const u of this.use) {
      for (const remote of u.byRemote.keys()) {
        const was = memberList(prev.members, remote, u.ethertype);
        const now = memberList(this.members, remote, u.ethertype);
        if (was !== now) for (const k of changedKeys(was, now, u.ethertype === 'IPv6', remote)) keys.add(k);
      }
    }
    return keys.size === 0 ? NO_CHANGES : diffFlowLists(prev.flows(keys), this.flows(keys));
  }
}

/**
 * The address keys in one list and not the other. Every network naming the group asks for the same
 * pair after a member event: computed once (the last pair per list is kept).
 */
function changedKeys(was: readonly MemberAddress[], now: readonly MemberAddress[], v6: boolean, remote: string): readonly string[] {
  const last = lastPair.get(was);
  if (last?.now === now) return last.keys;
  const a = memberEntriesOf(was, v6, remote);
  const b = memberEntriesOf(now, v6, remote);
  const keys: string[] = [];
  for (const k of a.keys()) if (!b.has(k)) keys.push(k);
  for (const k of b.keys()) if (!a.has(k)) keys.push(k);
  lastPair.set(was, { now, keys });
  return keys;
}
const lastPair = new WeakMap<readonly MemberAddress[], { now: readonly MemberAddress[]; keys: readonly string[] }>();
