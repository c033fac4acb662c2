// Flow sets: canonical text and the minimal diff between two sets of flows.
// Flows are keyed by their identity (flowIdentity: table, priority, match); two flows with the same
// identity are equal when their canonical text (cookie, timeouts, flags, actions) is equal.
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { formatMatch } from '../../codecs/ofctl/format-match.js';
import { formatInstructions } from '../../codecs/ofctl/format-actions.js';
import { Flow, flowIdentity } from '../../codecs/openflow/flow.js';
import { instructionsWire } from '../../codecs/openflow/instructions.js';
import { shortestLengths } from '../../codecs/openflow/match.js';
import { decodeMessage, encodeMessage, FlowMod, FlowModMessage, OFP_NO_BUFFER, OFPFC_ADD, OFPG_ANY } from '../../codecs/openflow/messages.js';
import { OFPP_NONE } from '../../codecs/openflow/ports.js';

// Flows are immutable: their text is computed once per object.
const texts = new WeakMap<Flow, string>();

/**
 * The string in one piece. V8 keeps a string built by `+` and templates as a rope (a 32-byte node
 * per concatenation, the pieces kept); a flow's text is ~20 pieces: ~690 bytes kept for ~150
 * characters. Texts live as long as their flow (one per distinct flow: 50k at 1000 hosts, ~35 MB
 * as ropes, ~10 MB flat; identities are flat by construction). A JSON round trip always yields a
 * new flat copy (~1 µs); tricks that flatten in place as a side effect (`Number(s)`) are removed
 * as dead code once optimised.
 */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** What `ovs-ofctl -O OpenFlow13 --no-names dump-flows --no-stats` prints for the flow (no leading space). */
export function canonicalText(f: Flow): string {
  let t = texts.get(f);
  if (t === undefined) texts.set(f, (t = flat(formatFlow(f))));
  return t;
}

/**
 * The flow as the switch will hold it: OpenFlow 1.3 cannot carry everything the text can say
 * (VLAN TCI bits, fields without prerequisites), so encode and decode once, as OVS does.
 */
export function asSwitchHolds(f: FlowMod): Flow {
  const res = decodeMessage(encodeMessage({ ...f, type: 'flow_mod', xid: 0 }));
  if (!res.ok || res.msg.type !== 'flow_mod') throw new Error(`flow does not survive encoding: ${res.ok ? res.msg.type : res.error.message}`);
  const { command: _c, cookieMask: _m, bufferId: _b, outPort: _o, outGroup: _g, type: _t, xid: _x, ...flow } = res.msg;
  return flow;
}

/** A flow-mod for the flow (its members named: a spread of a dumped flow also copied its counters, slowly). */
export function toFlowMod(f: Flow, command: FlowMod['command'] = OFPFC_ADD): FlowModMessage {
  return {
    type: 'flow_mod', command, table: f.table, priority: f.priority, cookie: f.cookie, idleTimeout: f.idleTimeout,
    // A dumped match at the lengths OVS writes without a TLV map, as a file's flow has them.
    hardTimeout: f.hardTimeout, flags: f.flags, importance: f.importance, match: shortestLengths(f.match),
    ...(f.unknownOxm ? { unknownOxm: f.unknownOxm } : {}), instructions: f.instructions,
    cookieMask: 0n, bufferId: OFP_NO_BUFFER, outPort: OFPP_NONE, outGroup: OFPG_ANY,
  };
}

export interface FlowDiff {
  readonly onlyA: Flow[];
  readonly onlyB: Flow[];
  /** Same identity, different cookie/timeouts/flags/actions: [a, b]. */
  readonly changed: Array<readonly [Flow, Flow]>;
}

/** Instructions are shared between flows (parsed once per text, built once per builder): their text once per object. */
const instructionTexts = new WeakMap<object, string>();

function instructionsText(f: Flow): string {
  let t = instructionTexts.get(f.instructions);
  if (t === undefined) instructionTexts.set(f.instructions, (t = formatInstructions(f.instructions)));
  return t;
}

/** A flow read from a switch that keeps its instructions' bytes as the switch sent them (latin1). */
export interface WireFlow extends Flow {
  readonly instructionsWire: string;
}

const wireOf = (f: Flow): string | undefined => (f as Partial<WireFlow>).instructionsWire;

/**
 * A flow read from a switch (a WireFlow) holds the same instructions as another flow when their
 * bytes are equal: the switch holds exactly what sending the other gives it. Bytes that differ can
 * still print the same (OVS may encode an action otherwise than we do): the text judges then.
 */
function sameInstructions(a: Flow, b: Flow): boolean {
  const wa = wireOf(a);
  const wb = wireOf(b);
  if (wa !== undefined || wb !== undefined) {
    const ea = wa ?? instructionsWire(a.instructions);
    if (ea !== undefined && ea === (wb ?? instructionsWire(b.instructions))) return true;
  }
  return a.instructions === b.instructions || instructionsText(a) === instructionsText(b);
}

/**
 * Two flows of the same identity hold the same: cookie, timeouts, flags and actions (what
 * canonicalText prints beside the match, compared without printing the match again).
 */
export function sameSettings(a: Flow, b: Flow): boolean {
  return a === b || (a.cookie === b.cookie && a.idleTimeout === b.idleTimeout && a.hardTimeout === b.hardTimeout && a.flags === b.flags
    && sameInstructions(a, b));
}

function indexFlows(flows: Iterable<Flow>): Map<string, Flow> {
  const m = new Map<string, Flow>();
  for (const f of flows) m.set(flowIdentity(f), f);
  return m;
}

export function diffFlows(a: Iterable<Flow>, b: Iterable<Flow>): FlowDiff {
  const ia = indexFlows(a);
  const ib = indexFlows(b);
  const onlyA: Flow[] = [];
  const onlyB: Flow[] = [];
  const changed: Array<readonly [Flow, Flow]> = [];
  for (const [k, fa] of ia) {
    const fb = ib.get(k);
    if (!fb) onlyA.push(fa);
    else if (!sameSettings(fa, fb)) changed.push([fa, fb]);
  }
  for (const [k, fb] of ib) if (!ia.has(k)) onlyB.push(fb);
  return { onlyA, onlyB, changed };
}

export function isEmptyDiff(d: FlowDiff): boolean {
  return d.onlyA.length === 0 && d.onlyB.length === 0 && d.changed.length === 0;
}

/** What a diff line prints of a flow besides its match and its actions. */
export type DiffHead = Pick<Flow, 'table' | 'cookie' | 'idleTimeout' | 'hardTimeout' | 'importance'>;

/** One flow as `ovs-ofctl diff-flows` prints it (fte_version_format), its match and actions printed by the caller. */
export function diffLine(f: DiffHead, match: string, actions: string): string {
  let s = f.table ? `table=${f.table} ` : '';
  s += match;
  if (f.cookie !== 0n) s += ` cookie=0x${f.cookie.toString(16)}`;
  if (f.idleTimeout) s += ` idle_timeout=${f.idleTimeout}`;
  if (f.hardTimeout) s += ` hard_timeout=${f.hardTimeout}`;
  if (f.importance) s += ` importance=${f.importance}`;
  return `${s} actions=${actions}`;
}

export const matchText = (f: Flow): string => formatMatch(f.match, f.priority, f.unknownOxm);

/** A diff's lines as [sort key, line]: sorted for stable output by table, then by printed match (an order, not an identity). */
export type DiffLines = Array<[string, string]>;

export function sortedDiffLines(lines: DiffLines): string[] {
  return lines.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map(([, l]) => l);
}

/**
 * The diff as `ovs-ofctl diff-flows` prints it: -A / +B lines, sorted for stable output by table,
 * then by printed match (an order, not an identity).
 */
export function formatDiff(d: FlowDiff): string[] {
  const lines: DiffLines = [];
  // Not through the memo: a diff prints each flow once.
  const add = (f: Flow, sign: string, m: string, order = `${f.table} ${m}`): void => {
    lines.push([order, `${sign}${diffLine(f, m, formatInstructions(f.instructions))}`]);
  };
  for (const f of d.onlyA) add(f, '-', matchText(f));
  for (const f of d.onlyB) add(f, '+', matchText(f));
  for (const [fa, fb] of d.changed) {
    const m = matchText(fa);
    const at = `${fa.table} ${m}`;
    add(fa, '-', m, at);
    add(fb, '+', matchText(fb), `${at}\u0001`);
  }
  return sortedDiffLines(lines);
}
