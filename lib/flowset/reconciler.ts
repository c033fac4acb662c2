// Keeps one bridge's flows equal to the desired set, with the minimal change applied atomically.
//
// On attach it dumps the bridge once; afterwards it tracks what it applied. A change is one bundle
// (ADD for new or changed flows, DELETE_STRICT for stale ones), confirmed by the switch, so the
// dataplane never sees a half-applied pipeline and a restart against an unchanged switch sends
// nothing. Only flows carrying our cookie are ours: foreign flows stay (unless `removeForeign`), and
// flows our learn actions created (table 20, with a hard timeout) are never deleted.
//
// An audit re-dumps the bridge and rebuilds what it tracks from what the switch holds, then
// reconciles against the desired set: whatever changed behind our back (a flow of ours deleted,
// altered, or added under our cookie by hand) is repaired in one bundle like any other change.
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { Flow, flowIdentity } from '../../codecs/openflow/flow.js';
import { FlowModMessage, OFPFC_ADD, OFPFC_DELETE_STRICT } from '../../codecs/openflow/messages.js';
import { sameSettings, toFlowMod } from './flowset.js';
import type { OfConnection } from '../switch/connection.js';
import { BundleError } from '../switch/errors.js';
import { applyFlowMods, dumpFlows } from '../switch/flow-ops.js';

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
  readonly onApplied?: (adds: readonly Flow[], deletes: readonly Flow[]) => void;
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

export function flowOwner(f: Flow, o: Pick<ReconcilerOptions, 'cookie' | 'removeForeign' | 'learnTable'>): FlowOwner {
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

function isAddFlowMod(f: Flow): f is FlowModMessage {
  const m = f as Partial<FlowModMessage>;
  return m.type === 'flow_mod' && m.command === OFPFC_ADD && m.cookieMask === 0n;
}

export class FlowReconciler {
  /** What the bridge holds of ours (identity -> flow), as of the last dump or applied bundle. */
  private actual = new Map<string, Flow>();
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

  /** Tracks what the switch holds of ours, from a fresh dump. */
  private async track(): Promise<void> {
    // With a cookie, the switch sends only the flows under it (learned ones included: they carry it).
    const filter = this.opts.cookie !== 0n && !this.opts.removeForeign ? { cookie: this.opts.cookie, cookieMask: 0xffffffffffffffffn } : {};
    const actual = new Map<string, Flow>();
    for (const f of await dumpFlows(this.conn, filter)) if (flowOwner(f, this.opts) === 'ours') actual.set(flowIdentity(f), f);
    this.actual = actual;
    this.observed = actual.size;
    this.observedAt = new Date();
  }

  /** How many of our flows the bridge holds (as tracked). */
  get size(): number {
    return this.actual.size;
  }

  /** Makes the bridge hold `desired` (plus foreign and learned flows). Serialised per bridge. */
  reconcile(desired: readonly Flow[]): Promise<ReconcileResult> {
    return this.serial(() => {
      const t0 = performance.now();
      return this.apply(this.diff(desired), t0);
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
  audit(desired: readonly Flow[], onDrift?: (d: Drift) => void): Promise<AuditResult> {
    return this.serial(async (): Promise<AuditResult> => {
      const t0 = performance.now();
      await this.track();
      const d = this.diff(desired);
      const found = { observed: this.observed, at: this.observedAt };
      if (onDrift && (d.adds.length || d.deletes.length)) {
        onDrift({
          missing: d.adds.filter(([k]) => !this.actual.has(k)).map(([, f]) => f),
          changed: d.adds.filter(([k]) => this.actual.has(k)).map(([k, f]) => [this.actual.get(k)!, f] as const),
          extra: d.deletes.map(([, f]) => f),
        });
      }
      return { ...await this.apply(d, t0), ...found };
    });
  }

  private async apply({ adds, deletes, modified }: ReturnType<FlowReconciler['diff']>, t0: number): Promise<ReconcileResult> {
    const mods: FlowModMessage[] = [
      ...deletes.map(([, f]) => ({ ...toFlowMod(f, OFPFC_DELETE_STRICT), cookieMask: this.opts.cookie ? STRICT_COOKIE_MASK : 0n })),
      // Pipeline flows already are ADD flow-mods: sent as they are, not copied.
      ...adds.map(([, f]) => (isAddFlowMod(f) ? f : toFlowMod(f, OFPFC_ADD))),
    ];
    if (mods.length) {
      try {
        const onProgress = this.opts.onProgress;
        if (onProgress && mods.length >= PROGRESS_MIN) {
          const total = mods.length;
          const step = Math.ceil(total / 10);
          await applyFlowMods(this.conn, (function* () {
            for (let i = 0; i < total; i++) {
              if (i % step === 0) onProgress(i, total);
              yield mods[i]!;
            }
            onProgress(total, total);
          })(), true);
        } else {
          await applyFlowMods(this.conn, mods, true);
        }
      } catch (err) {
        if (err instanceof BundleError) {
          const refused = err.failures.map(({ index, reason }) => `${reason}: ${mods[index] ? formatFlow(mods[index]!) : `message ${index + 1}`}`);
          throw new ReconcileError(`${this.conn.peer}: the switch refused the change (nothing applied): ${refused.join('; ')}`, refused);
        }
        throw err;
      }
      this.flowModsSent += mods.length;
      for (const [k] of deletes) this.actual.delete(k);
      for (const [k, f] of adds) this.actual.set(k, f);
      this.opts.onApplied?.(adds.map(([, f]) => f), deletes.map(([, f]) => f));
    }
    return {
      added: adds.length - modified, modified, deleted: deletes.length, flowMods: mods.length, durationMs: performance.now() - t0,
    };
  }

  /**
   * What to add (new or changed) and delete to go from what the bridge holds to `desired`. Apart
   * from the await in apply(): the index of the desired flows is let go before the bundle's
   * round trips, not kept (and promoted) across them.
   */
  private diff(desired: readonly Flow[]): { adds: Array<[string, Flow]>; deletes: Array<[string, Flow]>; modified: number } {
    const want = new Map<string, Flow>();
    for (const f of desired) want.set(flowIdentity(f), f);
    const adds: Array<[string, Flow]> = [];
    let modified = 0;
    for (const [k, f] of want) {
      const have = this.actual.get(k);
      if (!have) adds.push([k, f]);
      else if (have !== f) {
        if (!sameSettings(have, f)) {
          adds.push([k, f]);
          modified++;
        } else {
          // The same flow: track the pipeline's (shared, memoised) object and let the decoded
          // copy from the dump go — at 1000 hosts those copies are most of the memory.
          this.actual.set(k, f);
        }
      }
    }
    const deletes: Array<[string, Flow]> = [];
    // Scanned only when a tracked key can be missing from `want`: `want` holds the tracked keys it
    // kept plus the new ones (adds minus modified), so the counts tell.
    if (this.actual.size + adds.length - modified !== want.size) {
      for (const [k, f] of this.actual) if (!want.has(k)) deletes.push([k, f]);
    }
    return { adds, deletes, modified };
  }
}
