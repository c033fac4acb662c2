// The fuzz campaign at scale (issue 6): generated and mutated inputs through every decoder, with a
// per-input time budget (slower is a hang), a watchdog for inputs that never return, and memory
// sampled throughout. Exits non-zero on any crash, hang or broken session.
//
//   node dist/bench/fuzz.js [--of N] [--flows N] [--ovsdb N] [--sessions N] [--seed S] [--budget-ms MS]
//   node dist/bench/fuzz.js --only openflow:123     # one input again: print it and what it does
//   node --expose-gc dist/bench/fuzz.js             # memory "after" measured after a full GC
//
// Campaigns: openflow (decodeMessage, then what happens to a decoded message: printed, re-encoded),
// flow text (parseFlow, encode, print), ovsdb (JsonFramer at any chunking, decodeRpc, the client's
// applyDatumDiff), ovsdb client (a real OvsdbClient fed the update notifications over a socket),
// openflow sessions (OfConnection fed fuzzed streams; a bystander session must carry on).
import { cpus } from 'node:os';
import { Finding, hexOf, MemoryWatch, runInputs, summarize, summarizeMemory, Tally, textOf } from '../testing/fuzz/campaign.js';
import { FlowTextInputs } from '../testing/fuzz/gen-flow-text.js';
import { OpenFlowInputs } from '../testing/fuzz/gen-openflow.js';
import { OvsdbInput, OvsdbInputs } from '../testing/fuzz/gen-ovsdb.js';
import { endMatches, SessionFuzzer, sessionStream } from '../testing/fuzz/of-sessions.js';
import { OvsdbClientUnderFuzz } from '../testing/fuzz/ovsdb-peer.js';
import { FUZZ_SEED } from '../testing/fuzz/rng.js';
import { fuzzFlowText, fuzzOpenFlow, fuzzOvsdb } from '../testing/fuzz/targets.js';
import { Watchdog } from '../testing/fuzz/watchdog.js';

interface Options {
  of: number;
  flows: number;
  ovsdb: number;
  sessions: number;
  seed: number;
  budgetMs: number;
  only: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { of: 1_000_000, flows: 100_000, ovsdb: 100_000, sessions: 2000, seed: FUZZ_SEED, budgetMs: 100, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    const num = (): number => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number`);
      i++;
      return n;
    };
    if (flag === '--of') o.of = num();
    else if (flag === '--flows') o.flows = num();
    else if (flag === '--ovsdb') o.ovsdb = num();
    else if (flag === '--sessions') o.sessions = num();
    else if (flag === '--seed') o.seed = num() >>> 0;
    else if (flag === '--budget-ms') o.budgetMs = num();
    else if (flag === '--only' && value) {
      o.only = value;
      i++;
    } else throw new Error(`unknown argument ${flag} (see the comment at the top of bench/fuzz.ts)`);
  }
  return o;
}

const streamOf = (x: OvsdbInput): Buffer => Buffer.concat(x.chunks as Buffer[]);
const showOvsdb = (x: OvsdbInput): string => `${textOf(streamOf(x).toString('latin1'))} in reads of ${x.chunks.map((c) => c.length).join('+')} bytes`;

/** --only CAMPAIGN:INDEX: one input, printed with its outcome. */
function reproduce(o: Options): void {
  const [campaign, idx] = o.only!.split(':');
  const i = Number(idx);
  if (campaign === 'openflow') {
    const x = new OpenFlowInputs(o.seed).input(i);
    console.log(`openflow #${i} (${x.strategy}, ${x.bytes.length} bytes): ${x.bytes.toString('hex')}\n`, fuzzOpenFlow(x.bytes));
  } else if (campaign === 'flows') {
    const x = new FlowTextInputs(o.seed).input(i);
    console.log(`flow text #${i} (${x.strategy}, mode ${x.mode}): ${JSON.stringify(x.text)}\n`, fuzzFlowText(x));
  } else if (campaign === 'ovsdb') {
    const x = new OvsdbInputs(o.seed).input(i);
    const out = fuzzOvsdb(x);
    console.log(`ovsdb #${i} (${x.strategy}): ${JSON.stringify(streamOf(x).toString('latin1'))}\n`, { ...out, notifications: out.notifications.length });
  } else if (campaign === 'session') {
    const s = sessionStream(new OpenFlowInputs(o.seed), o.seed, i);
    console.log(`session #${i}: ${s.bytes.toString('hex')} cut at ${s.cuts.join(',')}`);
  } else {
    throw new Error('--only takes openflow:N, flows:N, ovsdb:N or session:N');
  }
}

/** The OVSDB campaign: each block of inputs through the decoders, then its notifications to the client. */
async function ovsdbCampaigns(o: Options, watchdog: Watchdog, mem: MemoryWatch): Promise<[Tally, Tally]> {
  const inputs = new OvsdbInputs(o.seed);
  const decode = new Tally('ovsdb', o.budgetMs);
  const client = new Tally('ovsdb client', o.budgetMs * 10);
  const harness = await OvsdbClientUnderFuzz.start();
  const BLOCK = 1000;
  const BATCH = 50;
  let delivered = 0;
  try {
    for (let from = 0; from < o.ovsdb; from += BLOCK) {
      // The complete update notifications of each input, for the client afterwards.
      const framed = new Map<number, readonly string[]>();
      let current = 0;
      runInputs(decode, from, Math.min(BLOCK, o.ovsdb - from), (i) => inputs.input((current = i)), (x) => {
        const out = fuzzOvsdb(x);
        framed.set(current, out.notifications);
        return out;
      }, (x) => ({ strategy: x.strategy, size: x.chunks.reduce((n, c) => n + c.length, 0), show: () => showOvsdb(x) }),
      { beat: (i) => watchdog.tick('ovsdb', i), memory: mem });
      const notes = [...framed].flatMap(([index, texts]) => texts.map((text) => ({ index, text })));
      const t0 = process.hrtime.bigint();
      for (let b = 0; b < notes.length; b += BATCH) {
        const batch = notes.slice(b, b + BATCH);
        watchdog.tick('ovsdb client', delivered);
        const start = process.hrtime.bigint();
        const d = await harness.deliver(batch.map((n) => n.text));
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        delivered += batch.length;
        if (d.crashes.length === 0 && d.answered && d.viewError === undefined) {
          for (const n of batch) client.record(n.index, 'notification', n.text.length, { verdict: 'ok', label: 'handled' }, ms / batch.length, () => '');
          continue;
        }
        // Something crashed: deliver the batch one by one to name the notifications that did it.
        if (d.viewError !== undefined) await harness.reset();
        for (const n of batch) {
          const one = await harness.deliver([n.text]);
          const detail = one.crashes.length ? `uncaught ${one.crashes.map(String).join('; ').slice(0, 300)}`
            : one.viewError !== undefined ? `vswitchView threw ${String(one.viewError).slice(0, 300)}`
              : one.answered ? '' : 'client stopped answering';
          if (one.viewError !== undefined) await harness.reset();
          client.record(n.index, 'notification', n.text.length, detail ? { verdict: 'crash', label: 'client', detail } : { verdict: 'ok', label: 'handled' },
            0, () => textOf(n.text, 600));
        }
      }
      client.ms += Number(process.hrtime.bigint() - t0) / 1e6;
      mem.sample();
    }
  } finally {
    await harness.close();
  }
  return [decode, client];
}

async function sessionCampaign(o: Options, ofInputs: OpenFlowInputs, watchdog: Watchdog, mem: MemoryWatch): Promise<{ tally: Tally; bystander: boolean }> {
  const tally = new Tally('openflow sessions', 5000);
  const fuzzer = new SessionFuzzer(ofInputs, o.seed);
  await fuzzer.start();
  let bystander = true;
  const t0 = process.hrtime.bigint();
  try {
    for (let i = 0; i < o.sessions; i++) {
      watchdog.tick('openflow sessions', i);
      const start = process.hrtime.bigint();
      const r = await fuzzer.run(i);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const fine = r.crashes.length === 0 && endMatches(r.expected, r.got);
      const detail = r.crashes.length ? `uncaught ${r.crashes.map(String).join('; ')}` : `expected ${r.expected}, got ${r.got}`;
      tally.record(i, r.expected, r.bytes.length, fine ? { verdict: 'ok', label: r.expected } : { verdict: 'crash', label: 'session', detail }, ms, () => hexOf(r.bytes));
      if (i % 500 === 499) {
        bystander &&= await fuzzer.bystanderAlive();
        mem.sample();
      }
    }
    bystander &&= await fuzzer.bystanderAlive();
  } finally {
    tally.ms += Number(process.hrtime.bigint() - t0) / 1e6;
    await fuzzer.stop();
  }
  return { tally, bystander };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.only) return reproduce(o);
  console.log(`fuzz: seed 0x${o.seed.toString(16)}, node ${process.version}, ${cpus()[0]?.model ?? '?'}, nproc=${cpus().length}; `
    + `per-input budget ${o.budgetMs} ms (an input over it is timed twice more; over it all three times is a hang)`);
  const t0 = Date.now();
  const watchdog = new Watchdog(60_000, o.seed);
  const mem = new MemoryWatch();
  const tallies: Tally[] = [];
  let bystander = true;
  try {
    const tPool = Date.now();
    const ofInputs = new OpenFlowInputs(o.seed);
    console.log(`openflow seeds: ${ofInputs.seeds.length} valid messages (generated + OVS's own) in ${Date.now() - tPool} ms`);
    const of = new Tally('openflow', o.budgetMs);
    runInputs(of, 0, o.of, (i) => ofInputs.input(i), (x) => fuzzOpenFlow(x.bytes),
      (x) => ({ strategy: x.strategy, size: x.bytes.length, show: () => hexOf(x.bytes) }),
      { beat: (i) => watchdog.tick('openflow', i), memory: mem });
    tallies.push(of);
    console.log(summarize(of).join('\n'));

    const ftInputs = new FlowTextInputs(o.seed);
    const ft = new Tally('flow text', o.budgetMs);
    runInputs(ft, 0, o.flows, (i) => ftInputs.input(i), fuzzFlowText,
      (x) => ({ strategy: x.strategy, size: x.text.length, show: () => `${textOf(x.text)} (mode ${x.mode})` }),
      { beat: (i) => watchdog.tick('flow text', i), memory: mem });
    tallies.push(ft);
    console.log(summarize(ft).join('\n'));

    const [ovsdb, client] = await ovsdbCampaigns(o, watchdog, mem);
    tallies.push(ovsdb, client);
    console.log(summarize(ovsdb).join('\n'));
    console.log(summarize(client).join('\n'));

    const s = await sessionCampaign(o, ofInputs, watchdog, mem);
    tallies.push(s.tally);
    bystander = s.bystander;
    console.log(summarize(s.tally).join('\n'));
    console.log(`  bystander session: ${bystander ? 'open and answering throughout' : 'LOST'}`);
  } finally {
    await watchdog.stop();
  }
  // With --expose-gc, "after" is what the campaign left alive, not what the GC had yet to collect.
  (globalThis as { gc?: () => void }).gc?.();
  mem.sample();
  console.log(summarizeMemory(mem));
  const failures: Finding[] = tallies.flatMap((t) => [...t.crashes, ...t.overBudget]);
  const total = tallies.reduce((n, t) => n + t.total, 0);
  console.log(`total: ${total.toLocaleString('en')} inputs in ${((Date.now() - t0) / 1000).toFixed(0)} s; `
    + `crashes ${tallies.reduce((n, t) => n + t.crashes.length, 0)}, hangs (over budget) ${tallies.reduce((n, t) => n + t.overBudget.length, 0)}`
    + `${bystander ? '' : ', bystander session lost'}: ${failures.length === 0 && bystander ? 'PASS' : 'FAIL'}`);
  if (failures.length || !bystander) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 2;
});
