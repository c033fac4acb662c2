// The fuzz campaign's deterministic PRNG. Every input is a pure function of (seed, stream, index),
// so a finding is reproduced from the numbers the summary prints, without replaying the run.

/** The campaign's seed, kept in the repo: figures and findings refer to it. */
export const FUZZ_SEED = 0x5eed0f06;

/** Input streams: each decoder gets its own, so changing one generator leaves the others' inputs alone. */
export const enum Stream {
  OPENFLOW = 1,
  FLOW_TEXT = 2,
  OVSDB = 3,
  OPENFLOW_SESSION = 4,
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** mulberry32: small, fast, and good enough to pick mutations. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 0x100000000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** Picks by weight from [value, weight] pairs. */
  weighted<T>(table: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of table) total += w;
    let x = this.int(total);
    for (const [v, w] of table) {
      if (x < w) return v;
      x -= w;
    }
    return table[table.length - 1]![0];
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** The generator for input `index` of `stream`: independent of every other input. */
export function rngFor(seed: number, stream: Stream, index: number): Rng {
  return new Rng(mix32(mix32(seed ^ Math.imul(stream, 0x9e3779b9)) ^ index));
}
