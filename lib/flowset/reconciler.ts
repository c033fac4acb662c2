// Keeps one bridge's flows equal to the desired set, with the minimal change applied atomically.
//
// On attach it dumps the bridge once; afterwards it tracks what it applied. A change is one bundle
// (ADD for new or changed flows, DELETE_STRICT for stale ones), confirmed by the switch, so the
// dataplane never sees a half-applied pipeline and a restart against an unchanged switch sends
// nothing. Only flows carrying our cookie are ours: foreign flows stay (unless `removeForeign`), and
// flows our learn actions created (table 20, with a hard timeout) are never deleted.
//
// Large generated sets (the firewall's member flows) come as flow families (./family.ts): tracked
// by key, never as flow objects, and a changed family is asked what changed; only after a dump
// (attach, audit), when the switch's flows are all we know, are their flows compared one by one.
//
// An audit re-dumps the bridge and rebuilds what it tracks from what the switch holds, then
// reconciles against the desired set: whatever changed behind our back (a flow of ours deleted,
// altered, or added under our cookie by hand) is repaired in one bundle like any other change.
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { Flow, flowIdentity, flowIdentityUncached, matchOfIdentity } from '../../codecs/openflow/flow.js';
import type { Match } from '../../codecs/openflow/match.js';
import { Instructions, instructionsOfWire, readInstructionsWire } from '../../codecs/openflow/instructions.js';
import { familyChanges, FlowFamily } from './family.js';
import { decodeFlowStatsEntries, FlowModMessage, FlowStatsWith, OFPFC_ADD, OFPFC_DELETE_STRICT } from '../../codecs/openflow/messages.js';
import { sameSettings, toFlowMod, WireFlow } from './flowset.js';
import type { OfConnection } from '../switch/connection.js';
import { BundleError } from '../switch/errors.js';
import { streamFlowReplies } from '../switch/flow-ops.js';

export interface ReconcilerOptions {
  /** Our cookie on this bridge (0: the classic profile, which marks nothing; then all flows are ours). */
  readonly cookie: bigint;
  /** Also delete flows with another cookie. */
  readonly removeForeign?: boolean;
  /** The table our learn actions write into (its learned flows are left alone). */
  readonly learnTable?: number;
  /** Progress of a large change: called as flow-mods go out (sent of total). */
  readonly onProgress?: (sent: number, total: number) => void;
  /** After a change is committed: the flows added (new or changed) and deleted, for the log. */
  readonly onApplied?: (adds: Iterable<Flow>, deletes: Iterable<Flow>) => void;
}

/** Changes smaller than this report no progress. */
const PROGRESS_MIN = 5000;

/** Whose a flow on the switch is: ours (reconciled), created by our learn action, or someone else's. */
export type FlowOwner = 'ours' | 'learned' | 'foreign';

/**
 * A strict delete checks the flow's cookie under this mask: all bits but the lowest. Under a mask of
 * all ones OVS 3.1 does not look the flow up in its classifier but walks every flow with that cookie
 * (ofproto.c collect_rules_strict, the cookie index): all of a bridge's flows carry ours, so 1000
 * deletes among 200k flows took 9.1 s of ovs-vswitchd's time, against 0.12 s with this mask
 * (measured with ovs-ofctl bundles); at the firewall's 1M flows a rule removed cost ~45 s.
 */
const STRICT_COOKIE_MASK = 0xfffffffffffffffen;

export function flowOwner(f: Pick<Flow, 'table' | 'priority' | 'cookie' | 'idleTimeout' | 'hardTimeout'>, o: Pick<ReconcilerOptions, 'cookie' | 'removeForeign' | 'learnTable'>): FlowOwner {
  // Learned flows carry the cookie their learn action names (ours, in the neutron profile).
  if (f.table === (o.learnTable ?? 20) && f.hardTimeout > 0 && f.idleTimeout === 0 && f.priority === 1) return 'learned';
  return o.removeForeign || o.cookie === 0n || f.cookie === o.cookie ? 'ours' : 'foreign';
}

/** What an audit found on the switch and repaired. */
export interface AuditResult extends ReconcileResult {
  /** Our flows the dump found (learned ones not counted), before the repair. */
  readonly observed: number;
  readonly at: Date;
}

/** The flows an audit is about to repair: missing and changed as desired, extra as found. */
export interface Drift {
  readonly missing: readonly Flow[];
  readonly changed: ReadonlyArray<readonly [found: Flow, desired: Flow]>;
  readonly extra: readonly Flow[];
}

export interface ReconcileResult {
  readonly added: number;
  readonly modified: number;
  readonly deleted: number;
  /** Flow-mods sent (0 when the bridge already held the desired flows). */
  readonly flowMods: number;
  readonly durationMs: number;
  /** Of which the bundle: flow-mods encoded and sent, the switch's commit and confirmation (0 when none). */
  readonly bundleMs: number;
}

export class ReconcileError extends Error {
  constructor(
    message: string,
    /** The flows the switch refused, as text. */
    readonly refused: readonly string[],
  ) {
    super(message);
    this.name = 'ReconcileError';
  }
}

/** What a bridge is to hold: plain flows, and flow families (disjoint from them and each other by identity). */
export interface DesiredFlows {
  readonly flows: readonly Flow[];
  readonly families: readonly FlowFamily[];
}

/** A change to apply, as the diff found it. */
interface Plan {
  /** Plain flows to add or replace, and to delete, by identity (`actual` follows once applied). */
  readonly adds: Array<[string, Flow]>;
  readonly deletes: Array<[string, Flow]>;
  /** Family flows to add or replace, and to delete. */
  readonly familyUpserts: Flow[];
  readonly familyDeletes: Flow[];
  /** Families added whole: their flows are generated while the bundle goes out. */
  readonly wholeFamilies: FlowFamily[];
  /** Flows replaced (plain and family). */
  modified: number;
  /** The desired plain flows, and whether they are the very objects last applied. */
  readonly flows: readonly Flow[];
  plainSame: boolean;
  /** Found by object: the flows new to the index and the slots of those gone (undefined: rebuild it). */
  byObject?: { readonly fresh: readonly Flow[]; readonly gone: readonly number[] };
  /** The families after the change, by key, with their flow counts (whole families' counted as sent). */
  readonly families: Map<string, FlowFamily>;
  readonly counts: Map<string, number>;
  /** After a dump: the identities of dumped flows the families account for (leave `actual` once applied). */
  claimed?: Set<string>;
  /** For an audit's description: family flows missing and changed (found, desired). */
  readonly familyMissing?: Flow[];
  readonly familyChanged?: Array<readonly [Flow, Flow]>;
}

/**
 * The plain flows last applied, by object: each in a slot (slots of flows gone are reused), with the
 * diff's marks. Valid while one object stands for each identity and `actual` holds exactly these.
 */
interface ByObject {
  /** The list last applied (the same list again: nothing to compare). */
  list: readonly Flow[];
  readonly index: Map<Flow, number>;
  readonly slots: Array<Flow | undefined>;
  readonly free: number[];
  seen: Uint32Array;
  epoch: number;
  live: number;
}

/** Flows compared between two yields to the event loop (echo requests must be answered meanwhile). */
const YIELD_EVERY = 20_000;
const yieldLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A flow a dump found, as the reconciler keeps it: its settings, its instructions as the switch sent
 * them (bytes: compared as bytes with the desired flow's, decoded only when they differ or the flow
 * is deleted or logged), and its match read back from its identity when asked for (a delete, a log
 * line). ~0.2 KB a flow, where the decoded flow stats took ~2.5 KB.
 */
class FoundFlow implements WireFlow {
  private decoded: Instructions | undefined;

  constructor(
    private readonly key: string,
    readonly table: number,
    readonly priority: number,
    readonly cookie: bigint,
    readonly idleTimeout: number,
    readonly hardTimeout: number,
    readonly flags: number,
    readonly importance: number,
    readonly instructionsWire: string,
  ) {}

  get match(): Match {
    return matchOfIdentity(this.key);
  }

  get instructions(): Instructions {
    return this.decode();
  }

  /** The instructions decoded (once; throws DecodeError where the codec refuses the bytes). */
  decode(): Instructions {
    return (this.decoded ??= instructionsOfWire(this.instructionsWire));
  }
}

/** The flow, its instructions decoded now if it is a FoundFlow: bytes the codec refuses fail the diff, before anything is sent. */
function decodedNow(f: Flow): Flow {
  if (f instanceof FoundFlow) f.decode();
  return f;
}

/** A flow of a dump, its instructions as bytes (readInstructionsWire). */
type DumpedFlow = FlowStatsWith<string>;

/**
 * Keeps the flows of one dump small: one FoundFlow per flow (or the flow decoded, if it has fields
 * unknown to us).
 */
function foundFlows(): (f: DumpedFlow, key: string) => Flow {
  const cookies = new Map<bigint, bigint>();
  return (f, key) => {
    if (f.unknownOxm) return { ...f, instructions: instructionsOfWire(f.instructions) };
    let cookie = cookies.get(f.cookie);
    if (cookie === undefined) cookies.set(f.cookie, (cookie = f.cookie));
    return new FoundFlow(key, f.table, f.priority, cookie, f.idleTimeout, f.hardTimeout, f.flags, f.importance, f.instructions);
  };
}

function isAddFlowMod(f: Flow): f is FlowModMessage {
  const m = f as Partial<FlowModMessage>;
  return m.type === 'flow_mod' && m.command === OFPFC_ADD && m.cookieMask === 0n;
}

export class FlowReconciler {
  /** What the bridge holds of ours (identity -> flow) but families' flows, as of the last dump or applied bundle. */
  private actual = new Map<string, Flow>();
  /**
   * The families installed, by key, and their flow counts; undefined after a dump, when `actual`
   * holds every flow of ours found, families' too.
   */
  private installed: Map<string, FlowFamily> | undefined;
  private counts = new Map<string, number>();
  /**
   * The plain flows last applied, by object, while they are exactly what `actual` holds (one object
   * per identity): the next diff finds what changed by object, not by identity (a pipeline hands
   * back the very objects it built before for whatever an event leaves alone).
   */
  private last: ByObject | undefined;
  private running: Promise<unknown> = Promise.resolve();
  flowModsSent = 0;
  /** Our flows found by the last dump (attach or audit), and when. */
  observed = 0;
  observedAt = new Date();

  private constructor(
    readonly conn: OfConnection,
    private readonly opts: ReconcilerOptions,
  ) {}

  /** Attaches to a session: one dump of the bridge. */
  static async attach(conn: OfConnection, opts: ReconcilerOptions): Promise<FlowReconciler> {
    const r = new FlowReconciler(conn, opts);
    await r.track();
    return r;
  }

  /**
   * Tracks what the switch holds of ours, from a fresh dump, read reply by reply as it arrives and
   * kept small (FoundFlow): a bridge of 1M flows, decoded whole, took ~2.5 GB.
   */
  private async track(): Promise<void> {
    // With a cookie, the switch sends only the flows under it (learned ones included: they carry it).
    const filter = this.opts.cookie !== 0n && !this.opts.removeForeign ? { cookie: this.opts.cookie, cookieMask: 0xffffffffffffffffn } : {};
    const actual = new Map<string, Flow>();
    const keep = foundFlows();
    // Read from the reply's bytes, the instructions kept as bytes (compared so with the desired
    // flows', decoded only where they differ). A reply not well-formed is decoded as any message.
    await streamFlowReplies(this.conn, filter, (reply) => {
      for (const f of reply.flows) if (flowOwner(f, this.opts) === 'ours') actual.set(flowIdentityUncached(f), f);
    }, (bytes) => {
      const flows = decodeFlowStatsEntries(bytes, readInstructionsWire);
      if (!flows) return false;
      for (const f of flows) {
        if (flowOwner(f, this.opts) !== 'ours') continue;
        const k = flowIdentityUncached(f);
        actual.set(k, keep(f, k));
      }
      return true;
    });
    this.actual = actual;
    this.installed = undefined;
    this.counts = new Map();
    this.last = undefined;
    this.observed = actual.size;
    this.observedAt = new Date();
  }

  /**
   * Tracks `f` under its identity `k`, the flow's own (shared) key string: set() alone would keep
   * the key string a dump made when the identity was there already.
   */
  private trackAs(k: string, f: Flow): void {
    this.actual.delete(k);
    this.actual.set(k, f);
  }

  /** How many of our flows the bridge holds (as tracked). */
  get size(): number {
    let n = this.actual.size;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /**
   * Makes the bridge hold `desired` (plus foreign and learned flows). Serialised per bridge. With
   * `beforeCommit`, the bundle is sent and checked by the switch meanwhile, and committed only once
   * it resolves: if it rejects, nothing is applied and its error is thrown (a host's OVSDB set-up
   * that the flows go with, see HostAgent).
   */
  reconcile(desired: readonly Flow[] | DesiredFlows, beforeCommit?: PromiseLike<unknown>): Promise<ReconcileResult> {
    return this.serial(async () => {
      const t0 = performance.now();
      return this.apply(await this.diff(desiredOf(desired)), t0, beforeCommit);
    });
  }

  /** Runs `fn` after every earlier reconcile or audit of this bridge has settled. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.running.then(fn);
    this.running = next.catch(() => undefined);
    return next;
  }

  /**
   * Re-dumps the bridge and repairs whatever differs from `desired` (the set last converged to).
   * Serialised with reconcile(): no flow-mod of ours is in flight while the dump runs. `onDrift`
   * (for a debug log) is shown the flows before they are repaired.
   */
  audit(desired: readonly Flow[] | DesiredFlows, onDrift?: (d: Drift) => void): Promise<AuditResult> {
    return this.serial(async (): Promise<AuditResult> => {
      const t0 = performance.now();
      await this.track();
      const d = await this.diff(desiredOf(desired), !!onDrift);
      const found = { observed: this.observed, at: this.observedAt };
      if (onDrift && (d.adds.length || d.deletes.length || d.familyUpserts.length || d.wholeFamilies.length)) {
        onDrift({
          missing: [
            ...d.adds.filter(([k]) => !this.actual.has(k)).map(([, f]) => f), ...d.familyMissing!,
            ...d.wholeFamilies.flatMap((fam) => [...fam.flows()]),
          ],
          changed: [...d.adds.filter(([k]) => this.actual.has(k)).map(([k, f]) => [this.actual.get(k)!, f] as const), ...d.familyChanged!],
          extra: d.deletes.map(([, f]) => f),
        });
      }
      return { ...await this.apply(d, t0), ...found };
    });
  }

  private async apply(plan: Plan, t0: number, beforeCommit?: PromiseLike<unknown>): Promise<ReconcileResult> {
    const { adds, deletes, familyUpserts, familyDeletes, wholeFamilies } = plan;
    const cookieMask = this.opts.cookie ? STRICT_COOKIE_MASK : 0n;
    const del = (f: Flow): FlowModMessage => ({ ...toFlowMod(f, OFPFC_DELETE_STRICT), cookieMask });
    // Pipeline flows already are ADD flow-mods: sent as they are, not copied.
    const add = (f: Flow): FlowModMessage => (isAddFlowMod(f) ? f : toFlowMod(f, OFPFC_ADD));
    const wholeCounts = new Map<string, number>();
    // Generated again if the switch refuses one (to name it): the same flow-mods in the same order.
    const mods = function* (): Generator<FlowModMessage> {
      for (const [, f] of deletes) yield del(f);
      for (const f of familyDeletes) yield del(f);
      for (const [, f] of adds) yield add(f);
      for (const f of familyUpserts) yield add(f);
      for (const fam of wholeFamilies) {
        let n = 0;
        for (const f of fam.flows()) {
          n++;
          yield add(f);
        }
        wholeCounts.set(fam.key, n);
      }
    };
    const known = deletes.length + familyDeletes.length + adds.length + familyUpserts.length;
    let sent = 0;
    let bundleMs = 0;
    if (known > 0 || wholeFamilies.length > 0) {
      const t1 = performance.now();
      try {
        const onProgress = this.opts.onProgress;
        let total = known;
        if (onProgress) for (const fam of wholeFamilies) total += fam.count();
        const progress = onProgress && total >= PROGRESS_MIN ? onProgress : undefined;
        const step = Math.ceil(total / 10);
        await this.conn.bundle((function* () {
          for (const m of mods()) {
            if (progress && sent % step === 0) progress(sent, total);
            sent++;
            yield m;
          }
          progress?.(sent, total);
        })(), undefined, beforeCommit);
      } catch (err) {
        if (err instanceof BundleError) {
          const at = new Map(err.failures.map(({ index, reason }) => [index, reason]));
          const refused: string[] = [];
          let i = 0;
          for (const m of at.size ? mods() : []) {
            const reason = at.get(i++);
            if (reason !== undefined) refused.push(`${reason}: ${formatFlow(m)}`);
            if (refused.length === at.size) break;
          }
          for (const [index, reason] of at) if (index >= i) refused.push(`${reason}: message ${index + 1}`);
          throw new ReconcileError(`${this.conn.peer}: the switch refused the change (nothing applied): ${refused.join('; ')}`, refused);
        }
        throw err;
      }
      bundleMs = performance.now() - t1;
      this.flowModsSent += sent;
      for (const [k] of deletes) this.actual.delete(k);
      for (const [k, f] of adds) this.trackAs(k, f);
      const applied = this.opts.onApplied;
      if (applied) {
        applied((function* () {
          for (const [, f] of adds) yield f;
          yield* familyUpserts;
          for (const fam of wholeFamilies) yield* fam.flows();
        })(), (function* () {
          for (const [, f] of deletes) yield f;
          yield* familyDeletes;
        })());
      }
    }
    // The dumped flows the families account for are theirs from now on.
    if (plan.claimed) for (const k of plan.claimed) this.actual.delete(k);
    for (const [k, n] of wholeCounts) plan.counts.set(k, n);
    this.remember(plan);
    this.installed = plan.families;
    this.counts = plan.counts;
    let wholeAdded = 0;
    for (const n of wholeCounts.values()) wholeAdded += n;
    const modified = plan.modified;
    return {
      added: adds.length + familyUpserts.length + wholeAdded - modified, modified, deleted: deletes.length + familyDeletes.length,
      flowMods: sent, durationMs: performance.now() - t0, bundleMs,
    };
  }

  /**
   * What to add (new or changed) and delete to go from what the bridge holds to `desired`. Apart
   * from the await in apply(): the index of the desired flows is let go before the bundle's
   * round trips, not kept (and promoted) across them.
   */
  private async diff(desired: DesiredFlows, describe = false): Promise<Plan> {
    const families = new Map<string, FlowFamily>();
    for (const fam of desired.families) {
      if (families.has(fam.key)) throw new Error(`two flow families named ${fam.key}`);
      families.set(fam.key, fam);
    }
    const plan: Plan = {
      adds: [], deletes: [], familyUpserts: [], familyDeletes: [], wholeFamilies: [], modified: 0, families, counts: new Map(), flows: desired.flows, plainSame: false,
      ...(describe ? { familyMissing: [], familyChanged: [] } : {}),
    };
    if (this.installed) this.diffFamilies(this.installed, plan);
    else plan.claimed = await this.claimFamilyFlows(plan);
    const claimed = plan.claimed;
    if (this.installed && this.last) {
      if (this.diffPlainByObject(this.last, plan)) return plan;
      this.last = undefined;
    }
    const want = new Map<string, Flow>();
    for (const f of desired.flows) want.set(flowIdentity(f), f);
    let plainModified = 0;
    for (const [k, f] of want) {
      const have = this.actual.get(k);
      if (!have) plan.adds.push([k, f]);
      else if (have !== f) {
        if (!sameSettings(have, f)) {
          plan.adds.push([k, f]);
          plainModified++;
        } else {
          // The same flow: track the pipeline's (shared, memoised) object and let the decoded
          // copy from the dump go — at 1000 hosts those copies are most of the memory.
          this.trackAs(k, f);
        }
      }
    }
    // Scanned only when a tracked key can be missing from `want`: `want` holds the tracked keys it
    // kept plus the new ones (adds minus modified), so the counts tell (families' flows aside).
    plan.modified += plainModified;
    if (claimed || this.actual.size + plan.adds.length - plainModified !== want.size) {
      for (const [k, f] of this.actual) if (!want.has(k) && !claimed?.has(k)) plan.deletes.push([k, decodedNow(f)]);
    }
    return plan;
  }

  /**
   * The plain flows against those last applied, by object: only the flows not among them are looked
   * up by identity, and the last ones missing now are deleted unless a new flow took their identity.
   * False (nothing planned) when two desired objects share an identity: then the diff by identity.
   */
  private diffPlainByObject(last: ByObject, plan: Plan): boolean {
    if (plan.flows === last.list) {
      plan.plainSame = true;
      return true;
    }
    if (++last.epoch === 0xffffffff) {
      last.seen.fill(0);
      last.epoch = 1;
    }
    const { index, seen, epoch } = last;
    const fresh: Flow[] = [];
    let kept = 0;
    for (const f of plan.flows) {
      const i = index.get(f);
      if (i === undefined) fresh.push(f);
      else if (seen[i] !== epoch) {
        seen[i] = epoch;
        kept++;
      }
    }
    if (fresh.length === 0 && kept === last.live) {
      plan.plainSame = true;
      return true;
    }
    // Two desired objects of one identity: the last one listed wins, which only the diff by identity
    // knows (and the index could not stand for `actual` any more).
    const freshIds = new Map<string, Flow>();
    for (const f of fresh) {
      const k = flowIdentity(f);
      if (freshIds.has(k)) return false;
      freshIds.set(k, f);
      const have = this.actual.get(k);
      const i = have === undefined || have === f ? undefined : index.get(have);
      if (i !== undefined && seen[i] === epoch) return false;
    }
    for (const [k, f] of freshIds) {
      const have = this.actual.get(k);
      if (!have) plan.adds.push([k, f]);
      else if (!sameSettings(have, f)) {
        plan.adds.push([k, f]);
        plan.modified++;
      } else this.trackAs(k, f);
    }
    const gone: number[] = [];
    if (kept < last.live) {
      const { slots } = last;
      for (let i = 0; i < slots.length; i++) {
        const f = slots[i];
        if (f === undefined || seen[i] === epoch) continue;
        gone.push(i);
        const k = flowIdentity(f);
        if (!freshIds.has(k)) plan.deletes.push([k, f]);
      }
    }
    plan.byObject = { fresh, gone };
    return true;
  }

  /** After a change applied (or none needed): the plain flows the next diff compares by object. */
  private remember(plan: Plan): void {
    const last = this.last;
    if (plan.plainSame) {
      if (last) last.list = plan.flows;
      return;
    }
    if (last && plan.byObject) {
      last.list = plan.flows;
      // Only what changed: the gone out of their slots, the fresh into free ones.
      for (const i of plan.byObject.gone) {
        last.index.delete(last.slots[i]!);
        last.slots[i] = undefined;
        last.free.push(i);
        last.live--;
      }
      for (const f of plan.byObject.fresh) {
        const i = last.free.pop() ?? last.slots.length;
        last.slots[i] = f;
        last.index.set(f, i);
        last.live++;
      }
      if (last.seen.length < last.slots.length) {
        const seen = new Uint32Array(Math.max(last.slots.length, 2 * last.seen.length));
        seen.set(last.seen);
        last.seen = seen;
      }
      return;
    }
    const index = new Map<Flow, number>();
    plan.flows.forEach((f, i) => index.set(f, i));
    // One object per identity, and exactly what `actual` holds: else the next diff goes by identity.
    const exact = index.size === plan.flows.length && this.actual.size === index.size && plan.flows.every((f) => this.actual.get(flowIdentity(f)) === f);
    this.last = exact ? { list: plan.flows, index, slots: [...plan.flows], free: [], seen: new Uint32Array(plan.flows.length), epoch: 0, live: plan.flows.length } : undefined;
  }

  /** Tracked families against the desired ones: each changed family says what changed. */
  private diffFamilies(installed: ReadonlyMap<string, FlowFamily>, plan: Plan): void {
    for (const [key, fam] of plan.families) {
      const prev = installed.get(key);
      if (!prev) {
        plan.wholeFamilies.push(fam);
        continue;
      }
      const count = this.counts.get(key) ?? 0;
      if (prev === fam) {
        plan.counts.set(key, count);
        continue;
      }
      const ch = fam.changesFrom(prev) ?? familyChanges(prev, fam);
      for (const f of ch.added) plan.familyUpserts.push(f);
      for (const f of ch.changed) plan.familyUpserts.push(f);
      for (const f of ch.deleted) plan.familyDeletes.push(f);
      plan.modified += ch.changed.length;
      plan.counts.set(key, count + ch.added.length - ch.deleted.length);
    }
    for (const [key, prev] of installed) if (!plan.families.has(key)) for (const f of prev.flows()) plan.familyDeletes.push(f);
  }

  /**
   * After a dump, the families' flows against what was found, one by one (yielding as it goes):
   * missing or changed ones are upserts; those found are claimed (they are the families' from now on).
   * Against a bridge holding nothing of ours, every family is added whole, nothing compared.
   */
  private async claimFamilyFlows(plan: Plan): Promise<Set<string>> {
    const claimed = new Set<string>();
    if (this.actual.size === 0) {
      for (const fam of plan.families.values()) plan.wholeFamilies.push(fam);
      return claimed;
    }
    let n = 0;
    for (const [key, fam] of plan.families) {
      let count = 0;
      for (const f of fam.flows()) {
        count++;
        if (++n % YIELD_EVERY === 0) await yieldLoop();
        const k = flowIdentityUncached(f);
        const have = this.actual.get(k);
        if (!have) {
          plan.familyUpserts.push(f);
          plan.familyMissing?.push(f);
          continue;
        }
        claimed.add(k);
        if (!sameSettings(have, f)) {
          plan.familyUpserts.push(f);
          plan.modified++;
          plan.familyChanged?.push([have, f]);
        }
      }
      plan.counts.set(key, count);
    }
    return claimed;
  }
}

function desiredOf(d: readonly Flow[] | DesiredFlows): DesiredFlows {
  return isFlowList(d) ? { flows: d, families: [] } : d;
}

function isFlowList(d: readonly Flow[] | DesiredFlows): d is readonly Flow[] {
  return Array.isArray(d);
}
