// FLOW_MOD encode/decode throughput on one core (one thread, no I/O), over every flow of the codec
// corpus (fixtures/codec/corpus.jsonl: every field and action we support, the bytes OVS made), one
// message after the other. Prints msgs/s for encodeMessage, decodeMessage and (informational)
// parseFlow+encodeMessage of the flow texts. Reference measured in the same run: copying each
// message's bytes into a fresh buffer, the floor cost of producing it.
//
// The machine may be shared, so the ~2 s of measurement per case is cut into rounds and the rounds
// of all cases are interleaved: a slow spell hits every case alike. The figure is the best round
// (the least disturbed); the median and worst rounds are printed beside it.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseFlow } from '../codecs/ofctl/parse-flow.js';
import { decodeMessage, encodeMessage, OfMessage } from '../codecs/openflow/messages.js';
import { ROOT } from './common.js';

const CORPUS = join(ROOT, 'fixtures', 'codec', 'corpus.jsonl');
const WARMUP_MS = 500;
const MEASURE_MS = 2000;
const ROUNDS = 8;

let sink = 0; // defeats dead-code elimination

/** Runs fn in batches for ~ms milliseconds; returns operations per second. */
function measure(fn: () => void, ms: number): number {
  const batch = 1000;
  let ops = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(Math.round(ms * 1e6));
  let now = t0;
  while (now < until) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    now = process.hrtime.bigint();
  }
  return ops / (Number(now - t0) / 1e9);
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`;
}

interface Case {
  readonly name: string;
  readonly fn: () => void;
  readonly target?: number;
  readonly rates: number[];
}

function main(): void {
  const corpus = readFileSync(CORPUS, 'utf8').split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { readonly input: string; readonly flowMod: string });
  // Each flow as its text, our message, and OVS's bytes (xid 0, as the corpus stores them); the
  // bench checks first that ours encode to OVS's bytes.
  const texts = corpus.map((e) => e.input);
  const msgs: OfMessage[] = texts.map((t) => ({ ...parseFlow(t), xid: 0 }));
  const wire = corpus.map((e) => Buffer.from(e.flowMod, 'hex'));
  msgs.forEach((m, i) => {
    if (!encodeMessage(m).equals(wire[i]!)) throw new Error(`${texts[i]}: our FLOW_MOD is not OVS's`);
  });
  const n = msgs.length;
  const bytes = wire.reduce((a, b) => a + b.length, 0);
  let i = 0;
  const next = (): number => (i = i + 1 === n ? 0 : i + 1);

  console.log(`FLOW_MOD codec bench: node ${process.version}, ${cpus()[0]?.model ?? '?'}, nproc=${cpus().length}, 1 thread`);
  console.log(`flows: the ${n} of the codec corpus, cycled (${(bytes / n).toFixed(0)} bytes per FLOW_MOD on average)`);
  console.log(`warm-up ${WARMUP_MS} ms per case, then ${ROUNDS} interleaved rounds of ${MEASURE_MS / ROUNDS} ms per case; figure = best round\n`);

  const cases: Case[] = [
    {
      name: 'reference: Buffer.allocUnsafe+copy', rates: [], fn: () => {
        const w = wire[next()]!;
        const b = Buffer.allocUnsafe(w.length);
        w.copy(b);
        sink += b[5]!;
      },
    },
    { name: 'encodeMessage(flow_mod)', target: 500_000, rates: [], fn: () => { sink += encodeMessage(msgs[next()]!).length; } },
    { name: 'decodeMessage(flow_mod)', target: 400_000, rates: [], fn: () => { sink += decodeMessage(wire[next()]!).ok ? 1 : 0; } },
    {
      name: 'parseFlow+encodeMessage (text)', rates: [], fn: () => {
        sink += encodeMessage({ ...parseFlow(texts[next()]!), xid: 0 }).length;
      },
    },
  ];
  for (const c of cases) measure(c.fn, WARMUP_MS);
  for (let r = 0; r < ROUNDS; r++) for (const c of cases) c.rates.push(measure(c.fn, MEASURE_MS / ROUNDS));

  const best = new Map<Case, number>();
  for (const c of cases) {
    const rates = [...c.rates].sort((a, b) => a - b);
    const rate = rates[rates.length - 1]!;
    best.set(c, rate);
    const med = (rates[(ROUNDS - 1) >> 1]! + rates[ROUNDS >> 1]!) / 2;
    const t = c.target === undefined ? '(informational)'
      : `${rate >= c.target ? 'OK' : 'MISSED'} (target >= ${fmt(c.target)}/s)`;
    console.log(`${c.name.padEnd(40)} ${fmt(rate).padStart(7)} msgs/s ${(1e9 / rate).toFixed(0).padStart(5)} ns/msg  `
      + `(median ${fmt(med).padStart(6)}/s, worst ${fmt(rates[0]!).padStart(6)}/s)  ${t}`);
  }
  const ref = best.get(cases[0]!)!;
  console.log(`\nper message: encode = ${(ref / best.get(cases[1]!)!).toFixed(1)}x the reference, `
    + `decode = ${(ref / best.get(cases[2]!)!).toFixed(1)}x`);
  if (sink === -1) console.log(sink);
}

main();
