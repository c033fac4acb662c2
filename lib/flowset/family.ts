// Flow families: a large set of flows kept as its description and generated when needed.
//
// The firewall's remote-group member flows are most of a large br-int (1M of 1.07M at the firewall
// bench's scale: every member address of a group in every network whose ports name it). Held as flow
// objects they took ~1 KB each, and an event touching one member rebuilt and re-diffed all of them.
// A family is what they follow from (a network's rules and the member lists); the reconciler tracks
// families by key and asks a changed one what changed, so an event costs what it changes.
import { Flow, flowIdentity, flowIdentityUncached } from '../../codecs/openflow/flow.js';
import { sameSettings } from './flowset.js';

/** What changed in a family from its previous version: by identity, new, changed (settings) and gone. */
export interface FamilyChanges {
  readonly added: readonly Flow[];
  readonly changed: readonly Flow[];
  readonly deleted: readonly Flow[];
}

export interface FlowFamily {
  /** Names the family among a bridge's families; the same key across renders is the same family. */
  readonly key: string;
  /**
   * Every flow of the family, generated at each call (the same flows each time). A family's flows
   * never share an identity with another family's or with a bridge's plain flows.
   */
  flows(): Iterable<Flow>;
  /**
   * What changed from `prev` (the family of the same key last installed), found without generating
   * every flow; undefined when it cannot tell (then every flow of both is compared).
   */
  changesFrom(prev: FlowFamily): FamilyChanges | undefined;
  /** How many flows flows() yields, without making them (for the progress of a large sync). */
  count(): number;
}

/** The changes between two families of the same key, flow by flow (the fallback of changesFrom). */
export function familyChanges(prev: FlowFamily, next: FlowFamily): FamilyChanges {
  return diffFlowLists(prev.flows(), next.flows());
}

/**
 * The changes between two small lists of flows, by identity (computed by `identityOf`: not cached
 * by default, for flows generated to be compared once).
 */
export function diffFlowLists(prev: Iterable<Flow>, next: Iterable<Flow>, identityOf: (f: Flow) => string = flowIdentityUncached): FamilyChanges {
  const before = new Map<string, Flow>();
  for (const f of prev) before.set(identityOf(f), f);
  const added: Flow[] = [];
  const changed: Flow[] = [];
  for (const f of next) {
    const k = identityOf(f);
    const was = before.get(k);
    if (was === undefined) added.push(f);
    else {
      before.delete(k);
      if (!sameSettings(was, f)) changed.push(f);
    }
  }
  return { added, changed, deleted: [...before.values()] };
}

/**
 * A family held as a list of flow objects (a port's firewall flows): kept by the pipeline's memos, so
 * a flow an event leaves alone is the very object it was, and a change is found by object first.
 */
export class FlowListFamily implements FlowFamily {
  constructor(
    readonly key: string,
    readonly list: readonly Flow[],
  ) {}

  flows(): Iterable<Flow> {
    return this.list;
  }

  count(): number {
    return this.list.length;
  }

  changesFrom(prev: FlowFamily): FamilyChanges | undefined {
    if (!(prev instanceof FlowListFamily)) return undefined;
    // The objects both lists hold are the same flows: only the others are compared (their
    // identities are the pipeline's, cached per object).
    const before = new Set(prev.list);
    const after = new Set(this.list);
    return diffFlowLists(prev.list.filter((f) => !after.has(f)), this.list.filter((f) => !before.has(f)), flowIdentity);
  }
}
