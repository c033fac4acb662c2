// FLOW_MOD encode/decode throughput on one core (one thread, no I/O).
// Prints msgs/s for encodeMessage and decodeMessage of a 112-byte FLOW_MOD and (informational)
// parseFlow+encodeMessage of the flow text. Reference measured in the same run: a plain
// Buffer.allocUnsafe(112)+copy loop, the floor cost of producing a 112-byte buffer per message.
//
// The machine may be shared, so the ~2 s of measurement per case is cut into rounds and the rounds
// of all cases are interleaved: a slow spell hits every case alike. The figure is the best round
// (the least disturbed); the median and worst rounds are printed beside it.
import { cpus } from 'node:os';
import { parseFlow } from '../codecs/ofctl/parse-flow.js';
import { decodeMessage, encodeMessage, OfMessage } from '../codecs/openflow/messages.js';

const FLOW = 'table=4,priority=1,tun_id=0x3e9 actions=mod_vlan_vid:1,resubmit(,10)';
const EXPECTED_LEN = 112;
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
  const fm = parseFlow(FLOW);
  const msg: OfMessage = { ...fm, xid: 1 };
  const bytes = encodeMessage(msg);
  if (bytes.length !== EXPECTED_LEN) throw new Error(`FLOW_MOD is ${bytes.length} bytes, expected ${EXPECTED_LEN}`);
  const back = decodeMessage(bytes);
  if (!back.ok || back.msg.type !== 'flow_mod') throw new Error(`decode failed: ${back.ok ? back.msg.type : back.error.message}`);
  if (!encodeMessage(back.msg).equals(bytes)) throw new Error('decode+encode does not round-trip');

  console.log(`FLOW_MOD codec bench: node ${process.version}, ${cpus()[0]?.model ?? '?'}, nproc=${cpus().length}, 1 thread`);
  console.log(`flow: ${FLOW}  (${bytes.length}-byte FLOW_MOD)`);
  console.log(`warm-up ${WARMUP_MS} ms per case, then ${ROUNDS} interleaved rounds of ${MEASURE_MS / ROUNDS} ms per case; figure = best round\n`);

  const cases: Case[] = [
    {
      name: 'reference: Buffer.allocUnsafe(112)+copy', rates: [], fn: () => {
        const b = Buffer.allocUnsafe(EXPECTED_LEN);
        bytes.copy(b);
        sink += b[5]!;
      },
    },
    { name: 'encodeMessage(flow_mod)', target: 500_000, rates: [], fn: () => { sink += encodeMessage(msg).length; } },
    { name: 'decodeMessage(112 bytes)', target: 400_000, rates: [], fn: () => { sink += decodeMessage(bytes).ok ? 1 : 0; } },
    {
      name: 'parseFlow+encodeMessage (text)', rates: [], fn: () => {
        sink += encodeMessage({ ...parseFlow(FLOW), xid: 1 }).length;
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
