// The flow table of a simulated OpenFlow 1.3 switch, with Open vSwitch 3.1's semantics (ofproto.c):
// identity is (table, priority, match); ADD replaces an identical flow (new cookie, timeouts, flags
// and age); MODIFY[_STRICT] changes only the instructions of the flows it selects and never adds
// one in OpenFlow 1.3; DELETE[_STRICT] and flow stats filter by cookie/mask, out_port and
// out_group; table 0xff means every table (254 is OVS's hidden internal table, read-only).
// Pure: no I/O, the clock is injected. Flows are kept compact (stored-flow.ts), keyed by their
// identity as codecs/openflow/flow.ts defines it.
import type { Writer } from '../../codecs/openflow/bytes.js';
import type { FlowStats } from '../../codecs/openflow/flow.js';
import { identityInTable, matchOfIdentityInTable, OFPFF_CHECK_OVERLAP, OFPFF_SEND_FLOW_REM } from '../../codecs/openflow/flow.js';
import type { Instructions } from '../../codecs/openflow/instructions.js';
import { prereqBits } from '../../codecs/openflow/fields.js';
import { Match, matchEquals } from '../../codecs/openflow/match.js';
import {
  FlowMod, FlowStatsRequest, OFP_NO_BUFFER, OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY, OFPFC_MODIFY_STRICT,
  OFPG_ANY, OFPTT_ALL,
} from '../../codecs/openflow/messages.js';
import { OFPP_NONE } from '../../codecs/openflow/ports.js';
import {
  OfErrorCode, OFPBAC_BAD_OUT_GROUP, OFPBIC_BAD_TABLE_ID, OFPBMC_BAD_PREREQ, OFPBRC_BUFFER_UNKNOWN, OFPBRC_EPERM,
  OFPFMFC_BAD_TABLE_ID, OFPFMFC_OVERLAP, OFPMMFC_INVALID_METER,
} from './of-errors.js';
import {
  appendStored, decodeStored, storedBody, storedCookie, storedCreated, storedFlags,
  storedHardTimeout, storedIdleTimeout, storedMatch, storedModified, storedPriority, StoredFlow, storedAsFlow, storeFlow,
} from './stored-flow.js';

/** OVS has 255 tables; the last (254) is its hidden, read-only internal table. */
const N_TABLES = 255;
const TABLE_INTERNAL = 254;

export const OFPRR_IDLE_TIMEOUT = 0;
export const OFPRR_HARD_TIMEOUT = 1;
export const OFPRR_DELETE = 2;

/** A flow the table removed whose flags ask for a FLOW_REMOVED message. */
export interface RemovedFlow {
  readonly flow: FlowStats;
  readonly reason: number;
}

export interface FlowTableOptions {
  /** Wall clock in ms (durations and timeouts). */
  readonly now?: () => number;
}

/** What a dump or a loose flow-mod selects (OFPMP_FLOW request fields). */
export type FlowSelection = FlowStatsRequest;

type Table = Map<string, StoredFlow>;

// check() and the change itself both need a flow-mod's identity key (a bundle checks at ADD and
// applies at COMMIT): computed once per message object.
const modKeys = new WeakMap<FlowMod, string>();

function keyOf(mod: FlowMod): string {
  let k = modKeys.get(mod);
  if (k === undefined) modKeys.set(mod, (k = identityInTable(mod.priority, mod.match, mod.unknownOxm)));
  return k;
}

interface Selected {
  readonly table: number;
  readonly key: string;
  readonly flow: StoredFlow;
}

export class FlowTable {
  private tables: Array<Table | undefined> = [];
  /** During an atomic batch: what each change replaced (undefined: nothing), to undo on failure. */
  private undo: Array<readonly [number, string, StoredFlow | undefined]> | undefined;
  private pendingRemoved: RemovedFlow[] = [];
  private readonly removedListeners: Array<(r: RemovedFlow) => void> = [];
  /** Flows deleted by flow-mods, for onDeleted listeners (kept only while there are any). */
  private pendingDeleted: RemovedFlow[] = [];
  private readonly deletedListeners: Array<(r: RemovedFlow) => void> = [];
  /** Set when a flow with a timeout went in; cleared by a sweep that finds none. */
  private mayExpire = false;
  readonly now: () => number;

  constructor(opts: FlowTableOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** Number of flows in all tables. */
  get size(): number {
    let n = 0;
    for (const t of this.tables) n += t?.size ?? 0;
    return n;
  }

  /** Called for each removed flow that has send_flow_rem, once its removal is final. */
  onRemoved(listener: (r: RemovedFlow) => void): void {
    this.removedListeners.push(listener);
  }

  /** Called for each flow a DELETE flow-mod removed, flags or not, once the removal is final (benches count them). */
  onDeleted(listener: (r: RemovedFlow) => void): () => void {
    this.deletedListeners.push(listener);
    return () => void this.deletedListeners.splice(this.deletedListeners.indexOf(listener), 1);
  }

  /**
   * The checks OVS makes when it decodes a flow-mod (and, in a bundle, when the message is added):
   * they depend on the message only. undefined = acceptable.
   */
  check(mod: FlowMod): OfErrorCode | undefined {
    // A field whose prerequisites are missing cannot be carried in OpenFlow 1.3 (our encoder drops
    // it, as OVS's would): OVS refuses the match. Only fields with prerequisites need the round trip.
    if (needsPrereqs(mod.match) && !matchEquals(matchOfIdentityInTable(keyOf(mod)), mod.match)) return OFPBMC_BAD_PREREQ;
    const adds = mod.command === OFPFC_ADD || mod.command === OFPFC_MODIFY || mod.command === OFPFC_MODIFY_STRICT;
    if (adds && mod.table === OFPTT_ALL) return OFPFMFC_BAD_TABLE_ID;
    const goto = mod.instructions.gotoTable;
    if (goto !== undefined && ((mod.table !== OFPTT_ALL && goto <= mod.table) || goto >= N_TABLES)) return OFPBIC_BAD_TABLE_ID;
    if (mod.command === OFPFC_ADD && mod.table === TABLE_INTERNAL) return OFPBRC_EPERM;
    if (adds && mod.bufferId !== OFP_NO_BUFFER) return OFPBRC_BUFFER_UNKNOWN;
    return undefined;
  }

  /** Applies one flow-mod (checked first); on error nothing changed. */
  apply(mod: FlowMod): OfErrorCode | undefined {
    const error = this.check(mod) ?? this.start(mod); // a single flow-mod fails before it changes anything
    if (error) this.dropPending();
    else this.notifyRemoved();
    return error;
  }

  /**
   * Applies flow-mods all or nothing (a bundle commit). They must have passed check(). Returns the
   * first failure (its position and error) after undoing everything, or undefined.
   */
  applyAll(mods: readonly FlowMod[]): { index: number; error: OfErrorCode } | undefined {
    const undo: Array<readonly [number, string, StoredFlow | undefined]> = [];
    this.undo = undo;
    this.dropPending();
    try {
      for (let i = 0; i < mods.length; i++) {
        const error = this.start(mods[i]!);
        if (!error) continue;
        // Undone in reverse; a flow put back after a delete goes to the end of its table's order.
        for (let u = undo.length - 1; u >= 0; u--) {
          const [id, key, before] = undo[u]!;
          if (before === undefined) this.tables[id]!.delete(key);
          else this.tables[id]!.set(key, before);
        }
        this.dropPending();
        return { index: i, error };
      }
    } finally {
      this.undo = undefined;
    }
    this.notifyRemoved();
    return undefined;
  }

  /**
   * Flows a flow stats request selects, decoded, by table then in the order they went in (a flow
   * replaced in place keeps its position; one put back by an undone batch moves to the end).
   */
  *select(sel: Partial<FlowSelection> = {}): Generator<FlowStats> {
    const now = this.now();
    for (const s of this.collectLoose(fullSelection(sel))) yield decodeStored(s.flow, now, s.table);
  }

  /** All flows, decoded. */
  flows(): FlowStats[] {
    return [...this.select()];
  }

  /**
   * Writes the reply entries of a flow stats request into `w` one by one; `beforeEach(len)` runs
   * before each entry (so a caller can start a new multipart message when one would overflow).
   */
  writeStats(sel: FlowSelection, w: Writer, beforeEach: (entryLength: number) => void): number {
    const now = this.now();
    let n = 0;
    for (const s of this.collectLoose(sel)) {
      beforeEach(s.flow.length);
      appendStored(w, s.flow, now);
      n++;
    }
    return n;
  }

  /** Removes flows whose hard or idle timeout passed (no packets here: idle counts from the last change). */
  expire(): number {
    if (!this.mayExpire) return 0;
    const now = this.now();
    let timed = 0;
    let removed = 0;
    this.pendingRemoved = [];
    for (let id = 0; id < this.tables.length; id++) {
      const t = this.tables[id];
      if (!t) continue;
      for (const [key, s] of t) {
        const hard = storedHardTimeout(s);
        const idle = storedIdleTimeout(s);
        if (!hard && !idle) continue;
        timed++;
        const since = storedModified(s);
        const reason = hard && now > since + hard * 1000 ? OFPRR_HARD_TIMEOUT
          : idle && now > since + idle * 1000 ? OFPRR_IDLE_TIMEOUT : -1;
        if (reason < 0) continue;
        t.delete(key);
        this.noteRemoved(s, id, reason);
        removed++;
      }
    }
    this.mayExpire = timed > removed;
    this.notifyRemoved();
    return removed;
  }

  /** Forgets every flow (as a restarted ovs-vswitchd would). */
  clear(): void {
    this.tables = [];
  }

  // -------------------------------------------------------------------------------------------

  private start(mod: FlowMod): OfErrorCode | undefined {
    switch (mod.command) {
      case OFPFC_ADD:
        return this.add(mod);
      case OFPFC_MODIFY:
      case OFPFC_MODIFY_STRICT:
        return this.modify(mod);
      case OFPFC_DELETE:
      case OFPFC_DELETE_STRICT:
        this.remove(mod);
        return undefined;
    }
  }

  private add(mod: FlowMod): OfErrorCode | undefined {
    const actionsError = checkActions(mod.instructions);
    if (actionsError) return actionsError;
    const key = keyOf(mod);
    const table = this.tables[mod.table];
    // check_overlap concerns other flows: an identical one is simply replaced.
    if (mod.flags & OFPFF_CHECK_OVERLAP && table && !table.has(key) && this.overlaps(table, mod.priority, mod.match)) return OFPFMFC_OVERLAP;
    const now = this.now();
    // Every flag is kept, check_overlap and reset_counts too: OVS 3.1 prints them in dumps.
    this.setFlow(mod.table, key, storeFlow(mod, now, now));
    if (mod.idleTimeout || mod.hardTimeout) this.mayExpire = true;
    return undefined;
  }

  private modify(mod: FlowMod): OfErrorCode | undefined {
    const selected = mod.command === OFPFC_MODIFY_STRICT
      ? this.collectStrict(mod, OFPP_NONE, OFPG_ANY)
      : this.collectLoose({ ...mod, outPort: OFPP_NONE, outGroup: OFPG_ANY });
    if (selected.length === 0) return undefined; // OpenFlow 1.3: a modify never adds
    const actionsError = checkActions(mod.instructions);
    if (actionsError) return actionsError;
    const now = this.now();
    for (const s of selected) {
      // Cookie, timeouts, flags and age stay (OVS's replace_rule_start for modify); only the instructions change.
      const old = storedAsFlow(s.flow, s.table);
      this.setFlow(s.table, s.key, storeFlow({ ...old, instructions: mod.instructions }, storedCreated(s.flow), now));
    }
    return undefined;
  }

  private remove(mod: FlowMod): void {
    const selected = mod.command === OFPFC_DELETE_STRICT ? this.collectStrict(mod, mod.outPort, mod.outGroup) : this.collectLoose(mod);
    for (const s of selected) {
      this.undo?.push([s.table, s.key, s.flow]);
      this.tables[s.table]!.delete(s.key);
      this.noteRemoved(s.flow, s.table, OFPRR_DELETE);
    }
  }

  private noteRemoved(s: StoredFlow, table: number, reason: number): void {
    const sendRem = (storedFlags(s) & OFPFF_SEND_FLOW_REM) !== 0;
    const deleted = reason === OFPRR_DELETE && this.deletedListeners.length > 0;
    if (!sendRem && !deleted) return;
    const r = { flow: decodeStored(s, this.now(), table), reason };
    if (sendRem) this.pendingRemoved.push(r);
    if (deleted) this.pendingDeleted.push(r);
  }

  private dropPending(): void {
    this.pendingRemoved = [];
    this.pendingDeleted = [];
  }

  private notifyRemoved(): void {
    const [removed, deleted] = [this.pendingRemoved, this.pendingDeleted];
    this.dropPending();
    for (const r of removed) for (const l of this.removedListeners) l(r);
    for (const r of deleted) for (const l of this.deletedListeners) l(r);
  }

  /** Puts a flow in (new or replacing), noting what it replaced when a batch may have to be undone. */
  private setFlow(id: number, key: string, flow: StoredFlow): void {
    let t = this.tables[id];
    if (!t) this.tables[id] = t = new Map();
    this.undo?.push([id, key, t.get(key)]);
    t.set(key, flow);
  }

  /** Tables a request names: one, or every visible one for 0xff. */
  private *tableIds(table: number): Generator<number> {
    if (table !== OFPTT_ALL) {
      yield table;
      return;
    }
    for (let id = 0; id < Math.min(this.tables.length, TABLE_INTERNAL); id++) yield id;
  }

  private collectStrict(mod: FlowMod, outPort: number, outGroup: number): Selected[] {
    const key = keyOf(mod);
    const out: Selected[] = [];
    for (const id of this.tableIds(mod.table)) {
      const flow = this.tables[id]?.get(key);
      if (flow !== undefined && cookieMatches(flow, mod.cookie, mod.cookieMask) && outputsTo(flow, outPort, outGroup)) {
        out.push({ table: id, key, flow });
      }
    }
    return out;
  }

  /** Flows at least as specific as the request's match (any priority), in the request's table(s). */
  private collectLoose(sel: FlowSelection): Selected[] {
    const out: Selected[] = [];
    const anyMatch = sel.match.size === 0;
    for (const id of this.tableIds(sel.table)) {
      const t = this.tables[id];
      if (!t) continue;
      for (const [key, flow] of t) {
        if (!cookieMatches(flow, sel.cookie, sel.cookieMask)) continue;
        if (!anyMatch && !looseMatches(storedMatch(flow), sel.match)) continue;
        if (!outputsTo(flow, sel.outPort, sel.outGroup)) continue;
        out.push({ table: id, key, flow });
      }
    }
    return out;
  }

  /** Whether another flow of the same priority could match a packet this match matches. */
  private overlaps(t: Table, priority: number, match: Match): boolean {
    for (const s of t.values()) {
      if (storedPriority(s) === priority && mayOverlap(storedMatch(s), match)) return true;
    }
    return false;
  }
}

/** Whether some matched bits are ones only fields with a protocol prerequisite view (the field table says which). */
function needsPrereqs(m: Match): boolean {
  for (const [slot, e] of m) if ((e.mask & prereqBits(slot)) !== 0n) return true;
  return false;
}

function fullSelection(sel: Partial<FlowSelection>): FlowSelection {
  return {
    table: sel.table ?? OFPTT_ALL, outPort: sel.outPort ?? OFPP_NONE, outGroup: sel.outGroup ?? OFPG_ANY,
    cookie: sel.cookie ?? 0n, cookieMask: sel.cookieMask ?? 0n, match: sel.match ?? new Map(),
  };
}

function cookieMatches(s: StoredFlow, cookie: bigint, mask: bigint): boolean {
  return mask === 0n || ((storedCookie(s) ^ cookie) & mask) === 0n;
}

/**
 * OVS's loose match (cls_rule_is_loose_match): for every field of the request, the flow matches it
 * at least as precisely (its mask covers the request's) and with the same value under the
 * request's mask. Fields the request does not name are free.
 */
export function looseMatches(flow: Match, request: Match): boolean {
  for (const [slot, want] of request) {
    const have = flow.get(slot);
    if (!have || (have.mask & want.mask) !== want.mask || ((have.value ^ want.value) & want.mask) !== 0n) return false;
  }
  return true;
}

/** Whether one packet could match both (classifier_rule_overlaps): no field they share disagrees. */
export function mayOverlap(a: Match, b: Match): boolean {
  for (const [slot, x] of a) {
    const y = b.get(slot);
    if (y && ((x.value ^ y.value) & x.mask & y.mask) !== 0n) return false;
  }
  return true;
}

/** out_port / out_group filters (ofproto_rule_has_out_port): an output action in apply or write actions. */
function outputsTo(s: StoredFlow, outPort: number, outGroup: number): boolean {
  if (outPort === OFPP_NONE && outGroup === OFPG_ANY) return true;
  const { instructions } = storedBody(s);
  const actions = [...instructions.apply, ...(instructions.write ?? [])];
  if (outPort !== OFPP_NONE && !actions.some((a) => a.type === 'output' && a.port === outPort)) return false;
  if (outGroup !== OFPG_ANY && !actions.some((a) => a.type === 'group' && a.groupId === outGroup)) return false;
  return true;
}

/** ofproto_check_ofpacts: this switch has no groups and no meters. */
function checkActions(ins: Instructions): OfErrorCode | undefined {
  if (ins.meter !== undefined) return OFPMMFC_INVALID_METER;
  for (const a of ins.apply) if (a.type === 'group') return OFPBAC_BAD_OUT_GROUP;
  for (const a of ins.write ?? []) if (a.type === 'group') return OFPBAC_BAD_OUT_GROUP;
  return undefined;
}
