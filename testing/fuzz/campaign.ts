// Runs fuzz inputs through a target and keeps the score: outcomes by verdict and strategy, kinds of
// refusals, crashes (with the input, to reproduce), inputs over the time budget, the slowest input,
// and memory (heap and RSS sampled as it goes). Shared by bench/fuzz.ts and the CI test.
import { Outcome, reasonKind, Verdict } from './targets.js';

export interface Finding {
  readonly campaign: string;
  readonly index: number;
  readonly strategy: string;
  readonly detail: string;
  /** The input, printable (hex or text), cut to a readable length. */
  readonly input: string;
  readonly ms: number;
}

export interface Slowest {
  readonly index: number;
  readonly strategy: string;
  readonly size: number;
  readonly ms: number;
}

type Counts = Record<Verdict, number>;
const zero = (): Counts => ({ ok: 0, rejected: 0, crash: 0 });

export class Tally {
  total = 0;
  readonly verdicts: Counts = zero();
  readonly byStrategy = new Map<string, Counts>();
  /** What was accepted (message types…), by count. */
  readonly accepted = new Map<string, number>();
  /** Kinds of refusal (reasons with numbers masked), by count. */
  readonly refusals = new Map<string, number>();
  readonly crashes: Finding[] = [];
  /** Crashes by kind (detail with numbers and quoted text masked). */
  readonly crashKinds = new Map<string, number>();
  readonly overBudget: Finding[] = [];
  slowest: Slowest = { index: -1, strategy: '', size: 0, ms: 0 };
  ms = 0;

  constructor(
    readonly name: string,
    /** An input taking longer than this is a hang (a failure). */
    readonly budgetMs: number,
  ) {}

  record(index: number, strategy: string, size: number, o: Outcome, ms: number, show: () => string): void {
    this.total++;
    this.verdicts[o.verdict]++;
    let s = this.byStrategy.get(strategy);
    if (!s) this.byStrategy.set(strategy, (s = zero()));
    s[o.verdict]++;
    if (o.verdict === 'ok') this.accepted.set(o.label, (this.accepted.get(o.label) ?? 0) + 1);
    else if (o.verdict === 'rejected') this.refusals.set(o.label, (this.refusals.get(o.label) ?? 0) + 1);
    if (ms > this.slowest.ms) this.slowest = { index, strategy, size, ms };
    const finding = (detail: string): Finding => ({ campaign: this.name, index, strategy, detail, input: show(), ms });
    if (o.verdict === 'crash') {
      const kind = reasonKind(o.detail ?? o.label);
      const seen = this.crashKinds.get(kind) ?? 0;
      this.crashKinds.set(kind, seen + 1);
      if (seen === 0 || this.crashes.length < 100) this.crashes.push(finding(o.detail ?? o.label));
    }
    if (ms > this.budgetMs && this.overBudget.length < 1000) this.overBudget.push(finding(`took ${ms.toFixed(1)} ms (budget ${this.budgetMs} ms)`));
  }

  get failed(): boolean {
    return this.crashes.length > 0 || this.overBudget.length > 0;
  }
}

/** Process memory, sampled: the first, last and largest values seen. */
export class MemoryWatch {
  readonly before = process.memoryUsage();
  maxRss = this.before.rss;
  maxHeap = this.before.heapUsed;
  after = this.before;

  sample(): void {
    const m = process.memoryUsage();
    if (m.rss > this.maxRss) this.maxRss = m.rss;
    if (m.heapUsed > this.maxHeap) this.maxHeap = m.heapUsed;
    this.after = m;
  }
}

export interface RunOptions {
  /** Called before each input (the hang watchdog's heartbeat). */
  readonly beat?: (index: number) => void;
  readonly memory?: MemoryWatch;
  /** Inputs between memory samples. */
  readonly sampleEvery?: number;
}

/** Runs inputs [from, from + count) of a synchronous target, timing each. */
export function runInputs<I>(
  tally: Tally, from: number, count: number, make: (index: number) => I,
  target: (input: I) => Outcome, describe: (input: I) => { strategy: string; size: number; show: () => string },
  opts: RunOptions = {},
): void {
  const every = opts.sampleEvery ?? 2000;
  const t0 = process.hrtime.bigint();
  for (let i = from; i < from + count; i++) {
    opts.beat?.(i);
    const input = make(i);
    let start = process.hrtime.bigint();
    const outcome = target(input);
    let ms = Number(process.hrtime.bigint() - start) / 1e6;
    // A GC pause or a busy neighbour can stall any one input: a hang is slow three times in a row.
    for (let retry = 0; retry < 2 && ms > tally.budgetMs; retry++) {
      start = process.hrtime.bigint();
      target(input);
      ms = Math.min(ms, Number(process.hrtime.bigint() - start) / 1e6);
    }
    const d = describe(input);
    tally.record(i, d.strategy, d.size, outcome, ms, d.show);
    if (opts.memory && (i - from) % every === 0) opts.memory.sample();
  }
  tally.ms += Number(process.hrtime.bigint() - t0) / 1e6;
  opts.memory?.sample();
}

/** A buffer as hex, cut to `max` bytes with the full length noted. */
export function hexOf(b: Buffer, max = 256): string {
  return b.length <= max ? b.toString('hex') : `${b.subarray(0, max).toString('hex')}… (${b.length} bytes)`;
}

/** Text, JSON-quoted (so control characters show), cut to `max` characters. */
export function textOf(s: string, max = 300): string {
  return s.length <= max ? JSON.stringify(s) : `${JSON.stringify(s.slice(0, max))}… (${s.length} chars)`;
}

const mb = (n: number): string => `${(n / 1048576).toFixed(0)} MB`;

function top(m: ReadonlyMap<string, number>, n: number): string {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${k} ${v}`).join(', ');
}

/** The summary lines of one campaign. */
export function summarize(t: Tally): string[] {
  const rate = t.ms > 0 ? `${Math.round((t.total / t.ms) * 1000).toLocaleString('en')}/s` : '-';
  const lines = [
    `${t.name}: ${t.total.toLocaleString('en')} inputs in ${(t.ms / 1000).toFixed(1)} s (${rate}): `
      + `${t.verdicts.ok.toLocaleString('en')} accepted, ${t.verdicts.rejected.toLocaleString('en')} rejected `
      + `(${t.refusals.size} kinds of refusal), ${t.verdicts.crash} crashes, ${t.overBudget.length} over ${t.budgetMs} ms`,
    `  slowest: #${t.slowest.index} (${t.slowest.strategy}, ${t.slowest.size} bytes) ${t.slowest.ms.toFixed(2)} ms`,
    `  by strategy: ${[...t.byStrategy].map(([s, c]) => `${s} ${c.ok}/${c.rejected}/${c.crash}`).join(', ')} (accepted/rejected/crashed)`,
    `  accepted: ${top(t.accepted, 12)}`,
    `  top refusals: ${top(t.refusals, 6)}`,
  ];
  if (t.crashKinds.size) lines.push(`  crash kinds: ${top(t.crashKinds, 20)}`);
  // One example of each kind of crash, then the hangs.
  const shown = new Set<string>();
  for (const f of t.crashes) {
    const kind = reasonKind(f.detail);
    if (shown.has(kind)) continue;
    shown.add(kind);
    lines.push(`  FAIL #${f.index} (${f.strategy}): ${f.detail}`, `    input: ${f.input}`);
  }
  for (const f of t.overBudget.slice(0, 20)) lines.push(`  HANG #${f.index} (${f.strategy}): ${f.detail}`, `    input: ${f.input}`);
  return lines;
}

export function summarizeMemory(m: MemoryWatch): string {
  return `memory: heap ${mb(m.before.heapUsed)} before, ${mb(m.after.heapUsed)} after, max ${mb(m.maxHeap)}; `
    + `RSS ${mb(m.before.rss)} before, ${mb(m.after.rss)} after, max ${mb(m.maxRss)}`;
}
