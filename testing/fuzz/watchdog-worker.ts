// The watchdog's thread (see watchdog.ts): it polls the heartbeat; a beat that does not move for
// limitMs is a hang, reported on stderr before the whole process is killed.
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const { beat, limitMs, seed, campaigns } = workerData as { beat: Int32Array; limitMs: number; seed: number; campaigns: string[] };
let last = Atomics.load(beat, 0);
let since = Date.now();
setInterval(() => {
  const now = Atomics.load(beat, 0);
  if (now !== last) {
    last = now;
    since = Date.now();
    return;
  }
  if (Date.now() - since < limitMs) return;
  const campaign = campaigns[Atomics.load(beat, 1)] ?? '?';
  writeSync(2, `\nHANG: ${campaign} input #${Atomics.load(beat, 2)} (seed 0x${seed.toString(16)}) did not finish within ${limitMs} ms\n`);
  process.kill(process.pid, 'SIGKILL');
}, Math.max(10, Math.floor(limitMs / 10)));
