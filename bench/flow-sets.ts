// The flow sets the flow-tool benches run on (issue 14, point 3), each as an ovs-ofctl add-flows file
// and a twin with every flow's cookie changed (for replace-flows and diff-flows):
// (a) br-tun and br-int as `ofctl-ts render` gives them for the big l2pop + ARP-responder host
//     (testing/l2pop-host.ts), each loaded into a bridge of its own name;
// (b) 100k distinct flows cycling through every flow of the codec corpus (fixtures/codec/flows.txt:
//     every field and action we support), priorities remapped per cycle so no two coincide.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addCorpusBridge } from '../testing/corpus-bridge.js';
import type { OvsSandbox } from '../testing/sandbox.js';
import { l2popHost, NETWORKS, REMOTE_HOSTS } from '../testing/l2pop-host.js';
import { OFCTL_TS, ROOT } from './common.js';

export interface FlowSet {
  /** What the set is, for the report. */
  readonly name: string;
  /** The bridge it is loaded into. */
  readonly bridge: string;
  readonly file: string;
  /** The same flows with every cookie changed. */
  readonly changedFile: string;
  readonly flows: number;
  /** The host whose bridges the set is one of (their figures are also summed). */
  readonly host?: string;
  /** Creates the bridge and what its flows refer to (the corpus's meter 1, group 1 and TLV map). */
  prepare(box: OvsSandbox): Promise<void>;
}

export const CORPUS_FLOWS = 100_000;
const CORPUS = join(ROOT, 'fixtures', 'codec', 'flows.txt');
const DEFAULT_PRIORITY = 32768;

/** Writes the flow sets' files into dir. Which sets: 'l2pop' (br-tun, br-int), 'corpus', or both. */
export function flowSets(dir: string, which: ReadonlyArray<'l2pop' | 'corpus'> = ['l2pop', 'corpus']): FlowSet[] {
  const sets: FlowSet[] = [];
  if (which.includes('l2pop')) sets.push(...l2popSets(dir));
  if (which.includes('corpus')) sets.push(corpusSet(dir));
  return sets;
}

function l2popSets(dir: string): FlowSet[] {
  const topology = join(dir, 'l2pop-host.jsonl');
  writeFileSync(topology, `${l2popHost({ ofports: true }).lines.join('\n')}\n`);
  return (['br-tun', 'br-int'] as const).map((bridge) => {
    const render = (controllerId: string): string => execFileSync(process.execPath, [OFCTL_TS, 'render', '--topology', topology, '--host', 'local',
      '--bridge', bridge, '--l2pop', '--arp-responder', '--controller-id', controllerId], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const text = render('ofctl-ts');
    // Another controller id derives other cookies for the very same flows.
    const changed = render('ofctl-ts-bench-changed');
    checkCookiesChanged(bridge, text, changed);
    const file = join(dir, `${bridge}.flows`);
    const changedFile = join(dir, `${bridge}.changed.flows`);
    writeFileSync(file, text);
    writeFileSync(changedFile, changed);
    return {
      name: `${bridge} of the ${NETWORKS}-network x ${REMOTE_HOSTS}-remote-host l2pop + ARP-responder host`,
      bridge, file, changedFile, flows: lines(text).length, host: 'the l2pop host',
      prepare: (box: OvsSandbox) => box.addBridge(bridge),
    };
  });
}

function corpusSet(dir: string): FlowSet {
  const corpus = lines(readFileSync(CORPUS, 'utf8')).filter((l) => !l.startsWith('#'));
  // Each corpus flow is a distinct (table, priority, match); cycle k maps priority p to
  // k * R + rank(p) (R distinct priorities), which keeps the order of priorities within a cycle
  // and gives every cycle its own range, so all copies coexist in the tables the corpus names.
  const parts = corpus.map(splitFlow);
  const priorities = [...new Set(parts.map((p) => p.priority))].sort((a, b) => a - b);
  const rank = new Map(priorities.map((p, i) => [p, i]));
  const cycles = Math.ceil(CORPUS_FLOWS / corpus.length);
  if (cycles * priorities.length > 65536) throw new Error(`${CORPUS}: ${priorities.length} distinct priorities leave too few for ${cycles} cycles`);
  const out: string[] = [];
  const changed: string[] = [];
  for (let k = 0; out.length < CORPUS_FLOWS; k++) {
    for (const p of parts) {
      if (out.length === CORPUS_FLOWS) break;
      const match = `priority=${k * priorities.length + rank.get(p.priority)!},${p.rest}`;
      out.push(`${p.cookie === undefined ? '' : `cookie=${p.cookie},`}${match}${p.actions}`);
      // Every cookie changed, by a value of its own per cycle.
      changed.push(`cookie=0x${(BigInt(p.cookie ?? 0) ^ (0x5eed0000n + BigInt(k + 1))).toString(16)},${match}${p.actions}`);
    }
  }
  const file = join(dir, 'corpus.flows');
  const changedFile = join(dir, 'corpus.changed.flows');
  writeFileSync(file, `${out.join('\n')}\n`);
  writeFileSync(changedFile, `${changed.join('\n')}\n`);
  return {
    name: `${CORPUS_FLOWS / 1000}k flows cycling through the ${corpus.length} flows of the codec corpus`,
    bridge: 'br-corpus', file, changedFile, flows: out.length,
    prepare: async (box: OvsSandbox) => {
      await addCorpusBridge(box, 'br-corpus');
    },
  };
}

/** A corpus line cut into its cookie, its priority (OVS's default when absent), the rest of the match and ` actions=…`. */
function splitFlow(line: string): { cookie?: string; priority: number; rest: string; actions: string } {
  const at = line.indexOf('actions=');
  if (at < 0) throw new Error(`${CORPUS}: no actions in: ${line}`);
  let match = line.slice(0, at);
  const actions = line.slice(at);
  let cookie: string | undefined;
  let priority = DEFAULT_PRIORITY;
  match = match.replace(/(^|,)\s*cookie=([^,\s]+)/, (_, __, v: string) => { cookie = v; return ''; });
  match = match.replace(/(^|,)\s*priority=(\d+)/, (_, __, v: string) => { priority = Number(v); return ''; });
  // What remains keeps its separator before `actions=` (or is empty: `priority=N,` is one).
  return { ...(cookie === undefined ? {} : { cookie }), priority, rest: match.replace(/^[,\s]+/, ''), actions };
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** The twin holds the same flows and no line of the original: every cookie changed. */
function checkCookiesChanged(what: string, a: string, b: string): void {
  // (the learn action's cookie, derived from the same id, changes with it)
  const strip = (t: string): string[] => lines(t).map((l) => l.replace(/cookie=0x[0-9a-f]+/g, 'cookie=*')).sort();
  const sa = strip(a);
  const sb = strip(b);
  if (sa.length !== sb.length || sa.some((l, i) => l !== sb[i])) throw new Error(`${what}: the render with another controller id is not the same flows`);
  const old = new Set(lines(a));
  const same = lines(b).filter((l) => old.has(l));
  if (same.length > 0) throw new Error(`${what}: ${same.length} flows keep their cookie under another controller id, e.g. ${same[0]}`);
}
