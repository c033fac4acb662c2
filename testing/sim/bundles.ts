// OpenFlow bundles of one session, as OVS 3.1 implements ONF EXT-230 for OpenFlow 1.3
// (ofproto/bundles.c, do_bundle_commit): messages are checked when added, the commit applies them
// all or none (whatever the ATOMIC flag says), and a bundle is gone after its commit either way.
// Replies carry flags 0, as OVS's do.
import type { FlowMod, MessageOf, OfMessage } from '../../codecs/openflow/messages.js';
import {
  OFPBCT_CLOSE_REPLY, OFPBCT_CLOSE_REQUEST, OFPBCT_COMMIT_REPLY, OFPBCT_COMMIT_REQUEST, OFPBCT_DISCARD_REPLY,
  OFPBCT_DISCARD_REQUEST, OFPBCT_OPEN_REPLY, OFPBCT_OPEN_REQUEST,
} from '../../codecs/openflow/messages.js';
import type { FlowTable } from './flow-table.js';
import {
  errorMessage, OfErrorCode, OFPBFC_BAD_FLAGS, OFPBFC_BAD_ID, OFPBFC_BAD_TYPE, OFPBFC_BUNDLE_CLOSED, OFPBFC_MSG_BAD_XID,
  OFPBFC_MSG_FAILED, OFPBFC_MSG_UNSUP, OFPBFC_TIMEOUT,
} from './of-errors.js';

interface Entry {
  readonly mod: FlowMod;
  /** The BUNDLE_ADD message as received: a failure at commit is reported about it, with its xid. */
  readonly raw: Buffer;
  readonly xid: number;
}

interface Bundle {
  readonly flags: number;
  closed: boolean;
  readonly entries: Entry[];
}

export interface CommitOutcome {
  readonly bundleId: number;
  readonly ok: boolean;
  readonly flowMods: number;
}

export interface BundleResult {
  readonly replies: OfMessage[];
  /** Set when a COMMIT was attempted. */
  readonly commit?: CommitOutcome;
}

export class SessionBundles {
  private readonly bundles = new Map<number, Bundle>();

  constructor(private readonly table: FlowTable) {}

  get open(): number {
    return this.bundles.size;
  }

  control(m: MessageOf<'bundle_control'>, raw: Buffer): BundleResult {
    const fail = (e: OfErrorCode): BundleResult => ({ replies: [errorMessage(e, m.xid, raw)] });
    const reply = (ctrlType: number): OfMessage => ({
      type: 'bundle_control', xid: m.xid, bundleId: m.bundleId, ctrlType, flags: 0, properties: Buffer.alloc(0),
    });
    const b = this.bundles.get(m.bundleId);
    switch (m.ctrlType) {
      case OFPBCT_OPEN_REQUEST:
        if (b) {
          this.bundles.delete(m.bundleId);
          return fail(OFPBFC_BAD_ID);
        }
        this.bundles.set(m.bundleId, { flags: m.flags, closed: false, entries: [] });
        return { replies: [reply(OFPBCT_OPEN_REPLY)] };
      case OFPBCT_CLOSE_REQUEST:
        if (!b) return fail(OFPBFC_BAD_ID);
        if (b.closed || b.flags !== m.flags) {
          this.bundles.delete(m.bundleId);
          return fail(b.closed ? OFPBFC_BUNDLE_CLOSED : OFPBFC_BAD_FLAGS);
        }
        b.closed = true;
        return { replies: [reply(OFPBCT_CLOSE_REPLY)] };
      case OFPBCT_COMMIT_REQUEST:
        if (!b) return fail(OFPBFC_BAD_ID);
        this.bundles.delete(m.bundleId);
        if (b.flags !== m.flags) return fail(OFPBFC_BAD_FLAGS);
        return this.commit(m, raw, b, reply(OFPBCT_COMMIT_REPLY));
      case OFPBCT_DISCARD_REQUEST:
        if (!b) return fail(OFPBFC_BAD_ID);
        this.bundles.delete(m.bundleId);
        return { replies: [reply(OFPBCT_DISCARD_REPLY)] };
      default:
        return fail(OFPBFC_BAD_TYPE);
    }
  }

  /** BUNDLE_ADD: the inner message is checked now, as OVS does; an error names the add's xid. */
  add(m: MessageOf<'bundle_add'>, raw: Buffer): OfMessage[] {
    const fail = (e: OfErrorCode): OfMessage[] => [errorMessage(e, m.xid, raw)];
    const inner = m.message;
    if (inner.type !== 'flow_mod') return fail(OFPBFC_MSG_UNSUP);
    if (inner.xid !== m.xid) return fail(OFPBFC_MSG_BAD_XID);
    const checked = this.table.check(inner);
    if (checked) return fail(checked);
    const b = this.bundles.get(m.bundleId);
    // OVS 3.1 creates a bundle for an add without OPEN, but it expires at once (seen: OFPBFC_TIMEOUT).
    if (!b) return fail(OFPBFC_TIMEOUT);
    if (b.closed || b.flags !== m.flags) {
      this.bundles.delete(m.bundleId);
      return fail(b.closed ? OFPBFC_BUNDLE_CLOSED : OFPBFC_BAD_FLAGS);
    }
    b.entries.push({ mod: inner, raw, xid: m.xid });
    return [];
  }

  /** Forgets every bundle (the session ended). */
  clear(): void {
    this.bundles.clear();
  }

  private commit(m: MessageOf<'bundle_control'>, raw: Buffer, b: Bundle, ok: OfMessage): BundleResult {
    const failed = this.table.applyAll(b.entries.map((e) => e.mod));
    const outcome = { bundleId: m.bundleId, ok: !failed, flowMods: b.entries.length };
    if (!failed) return { replies: [ok], commit: outcome };
    const culprit = b.entries[failed.index]!;
    return {
      replies: [errorMessage(failed.error, culprit.xid, culprit.raw), errorMessage(OFPBFC_MSG_FAILED, m.xid, raw)],
      commit: outcome,
    };
  }
}
