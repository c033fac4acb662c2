// ovs-ofctl flow text fuzz inputs: the codec corpus' flows (every field and action OVS accepted) and
// the golden pipelines, mutated with the lexer's own punctuation, keywords, huge and odd numbers,
// unicode and deep parentheses, spliced and truncated.
import { readdirSync, readFileSync } from 'node:fs';
import { Rng, rngFor, Stream } from './rng.js';

export type FlowTextStrategy = 'valid' | 'token' | 'delete' | 'replace' | 'splice' | 'truncate' | 'duplicate' | 'deep' | 'random' | 'stacked';

export interface FlowTextInput {
  readonly strategy: FlowTextStrategy;
  readonly text: string;
  readonly mode: 'add' | 'modify' | 'match';
}

const root = new URL('../../../fixtures/', import.meta.url);

/** Flows OVS accepted (the codec corpus) and the rendered golden pipelines. */
export function flowTextSeeds(): string[] {
  const corpus = readFileSync(new URL('codec/corpus.jsonl', root), 'utf8').split('\n').filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { input: string }).input);
  const goldens: string[] = [];
  const dir = new URL('goldens/', root);
  for (const c of readdirSync(dir, { withFileTypes: true })) {
    if (!c.isDirectory()) continue;
    for (const f of readdirSync(new URL(`${c.name}/`, dir))) {
      if (!f.endsWith('.flows')) continue;
      goldens.push(...readFileSync(new URL(`${c.name}/${f}`, dir), 'utf8').split('\n').filter((l) => l.trim()));
    }
  }
  return [...new Set([...corpus, ...goldens])];
}

const TOKENS = [
  ',', '=', ':', '(', ')', '[', ']', '..', '->', '/', ' ', '\t', '"', '\\', '0x', '-', '.', '*',
  'actions=', 'action', 'drop', 'output:', 'resubmit(', 'resubmit(,', 'learn(', 'write_actions(', 'goto_table:',
  'load:', 'move:', 'set_field:', 'mod_vlan_vid:', 'strip_vlan', 'set_tunnel:', 'note:', 'conjunction(', 'ct(',
  'clear_actions', 'write_metadata:', 'meter:', 'push_vlan:', 'dec_ttl', 'output(port=1,max_len=2)',
  'NXM_NX_REG0[]', 'NXM_NX_REG0[0..15]', 'NXM_OF_VLAN_TCI[0..11]', 'OXM_OF_IN_PORT[]', 'NXM_NX_TUN_ID[64..127]', '[99..0]',
  'table=', 'priority=', 'cookie=', 'cookie=0x1/-1', 'in_port=', 'dl_vlan=', 'dl_src=', 'nw_src=', 'ipv6_src=', 'tun_id=',
  'reg0=', 'reg16=', 'ip', 'tcp', 'arp', 'icmp6', 'nd_target=', 'vlan_tci=', 'metadata=', 'out_port=', 'send_flow_rem',
  'idle_timeout=', 'fin_idle_timeout=', 'limit=', 'result_dst=', 'output:NXM_NX_REG1[]', 'LOCAL', 'IN_PORT', 'CONTROLLER',
  '0', '-1', '65536', '4294967296', '18446744073709551616', '0x' + 'f'.repeat(40), '9'.repeat(400), '1e10', '0b1', '0o7',
  '1.2.3.4/33', '::1/129', 'fe80::/64', '00:11:22:33:44:55/ff:ff:ff:ff:ff:ff', '1.2.3.4/255.0.255.0', '01:02',
  '\u0000', '\u00e9', '\u{1f600}', '\ud800', '\u202e', '\uffff', '\r\n',
];

function insertAt(s: string, at: number, t: string): string {
  return s.slice(0, at) + t + s.slice(at);
}

type Mutator = (s: string, rng: Rng, seeds: readonly string[]) => string;

const token: Mutator = (s, rng) => insertAt(s, rng.int(s.length + 1), rng.pick(TOKENS));
const del: Mutator = (s, rng) => {
  const at = rng.int(s.length + 1);
  return s.slice(0, at) + s.slice(at + rng.range(1, 12));
};
const replace: Mutator = (s, rng) => {
  const at = rng.int(s.length);
  return s.slice(0, at) + rng.pick(TOKENS) + s.slice(at + rng.range(1, 4));
};
const splice: Mutator = (s, rng, seeds) => {
  const other = rng.pick(seeds);
  return s.slice(0, rng.int(s.length + 1)) + other.slice(rng.int(other.length + 1));
};
const truncate: Mutator = (s, rng) => s.slice(0, rng.int(s.length + 1));
const duplicate: Mutator = (s, rng) => {
  const a = rng.int(s.length + 1);
  const b = Math.min(s.length, a + rng.range(1, 40));
  return insertAt(s, b, s.slice(a, b).repeat(rng.range(1, 20)));
};
/** Parentheses or brackets nested deep, in a value or around an action list. */
const deep: Mutator = (s, rng) => {
  const n = rng.pick([10, 100, 1000, 10_000, 30_000]);
  const [open, close] = rng.pick([['(', ')'], ['[', ']'], ['learn(', ')'], ['write_actions(', ')']]);
  const inner = rng.chance(0.5) ? close.repeat(n) : '';
  return insertAt(s, rng.int(s.length + 1), open.repeat(n) + inner);
};

const SIMPLE: ReadonlyArray<readonly [Mutator, number]> = [
  [token, 5], [del, 3], [replace, 4], [splice, 2], [truncate, 1], [duplicate, 1],
];

const STRATEGIES: ReadonlyArray<readonly [FlowTextStrategy, number]> = [
  ['valid', 5], ['token', 20], ['delete', 10], ['replace', 15], ['splice', 10], ['truncate', 8], ['duplicate', 5],
  ['deep', 2], ['random', 5], ['stacked', 20],
];

const BY_NAME: Partial<Record<FlowTextStrategy, Mutator>> = {
  token, delete: del, replace, splice, truncate, duplicate, deep,
};

/** Printable ASCII with the lexer's punctuation over-represented. */
function randomText(rng: Rng): string {
  let s = '';
  for (let n = rng.int(120); n > 0; n--) {
    s += rng.chance(0.3) ? rng.pick(TOKENS) : String.fromCharCode(rng.range(0x20, 0x7e));
  }
  return s;
}

const ADD_ONLY = /^(priority|idle_timeout|hard_timeout|importance|send_flow_rem|check_overlap|reset_counts|no_packet_counts|no_byte_counts)\b|^cookie=[^/]*$/;

function asFilter(flow: string): string {
  return flow.replace(/\s*actions=.*$/, '').split(',').filter((kv) => !ADD_ONLY.test(kv.trim())).join(',');
}

export class FlowTextInputs {
  readonly seeds: readonly string[] = flowTextSeeds();

  constructor(readonly seed: number) {}

  input(index: number): FlowTextInput {
    const rng = rngFor(this.seed, Stream.FLOW_TEXT, index);
    const strategy = rng.weighted(STRATEGIES);
    const mode = rng.weighted<FlowTextInput['mode']>([['add', 6], ['modify', 1], ['match', 3]]);
    // Dump and del-flows arguments have no actions, and none of what only an add sets (priority,
    // timeouts, flags, a cookie without a mask): ovs-ofctl refuses those as unknown keywords.
    let text = mode === 'match' ? asFilter(rng.pick(this.seeds)) : rng.pick(this.seeds);
    if (strategy === 'random') text = randomText(rng);
    else if (strategy === 'stacked') for (let n = rng.range(2, 6); n > 0; n--) text = rng.weighted(SIMPLE)(text, rng, this.seeds);
    else if (strategy !== 'valid') text = BY_NAME[strategy]!(text, rng, this.seeds);
    return { strategy, text, mode };
  }
}
