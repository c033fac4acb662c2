// The controller's bound on V8's old-generation growth: a process promoting garbage steadily (as
// the controller under churn does) keeps its heap near its live set, and a flag given on the
// command line is left alone.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../../lib/controller/heap-growth.js', import.meta.url));

// 40 MB live; then chunks that live long enough to be promoted, each dropped later (garbage in the
// old generation); prints the largest old generation seen over its live size after a full GC.
const CHURN = `
import { getHeapSpaceStatistics } from 'node:v8';
import { boundHeapGrowth } from ${JSON.stringify(MODULE)};
const old = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_used_size;
const bound = boundHeapGrowth(Number(process.env.PERCENT));
const live = Array.from({ length: 400_000 }, (_, i) => ({ i, s: 'x' + i }));
// A full GC now: V8 sets its next limit from this live size (the first limit is V8's initial one).
globalThis.gc();
const ring = new Array(100);
let peak = 0;
for (let k = 0; k < 4000; k++) {
  ring[k % ring.length] = Array.from({ length: 600 }, (_, i) => ({ k, i }));
  for (let j = 0; j < 40; j++) Array.from({ length: 200 }, (_, i) => ({ j, i }));
  if (k % 25 === 0) peak = Math.max(peak, old());
}
globalThis.gc();
console.log(JSON.stringify({ bound, ratio: peak / old(), live: live.length }));
`;

function churn(percent: number, nodeArgs: string[] = []): { bound: boolean; ratio: number } {
  const out = execFileSync(process.execPath, ['--expose-gc', ...nodeArgs, '--input-type=module', '-e', CHURN], { env: { ...process.env, PERCENT: String(percent) }, encoding: 'utf8' });
  return JSON.parse(out) as { bound: boolean; ratio: number };
}

describe('heap growth bound', function () {
  this.timeout(60_000);
  it('keeps a heap that promotes garbage steadily well below V8\'s own 4-5x of its live set', () => {
    const r = churn(50);
    expect(r.bound).to.equal(true);
    // 1.5x, plus what this (very fast) allocator adds while a concurrent marking runs: ~2.3x.
    expect(r.ratio).to.be.below(3);
  });

  it('leaves a --heap-growing-percent given on the command line alone', () => {
    const r = churn(50, ['--heap-growing-percent=300']);
    expect(r.bound).to.equal(false);
    // V8 was told 4x: the same churn then keeps far more garbage (what the bound above prevents).
    expect(r.ratio).to.be.above(3.5);
  });
});
