// How far V8 lets the old generation grow past what the last full GC left alive. V8 picks that
// factor from the maximum heap size, i.e. from the machine's memory: on a host with a few GB free
// it allows up to 4× the live size before collecting again. A controller runs for months with a
// stable live set (~140 MB at 1000 hosts) and promotes a little garbage per event (a host's
// replaced OVSDB rows and flows); under churn its heap then grew to 2.5× live (RSS 490 MB). A
// bound proportional to the live set keeps that overhead at a fraction of it at any scale (unlike
// --max-old-space-size, a hard limit that would abort a larger deployment), for one incremental,
// mostly concurrent full GC per ~70 MB of promoted garbage.
import { setFlagsFromString } from 'node:v8';

/** The old generation may grow to live × (1 + this / 100) before the next full GC. */
export const HEAP_GROWING_PERCENT = 50;

/** The flag as V8 spells it (dashes or underscores) on the command line or in NODE_OPTIONS. */
const FLAG = /--heap[-_]growing[-_]percent/;

/**
 * Sets V8's heap growing factor for this process, unless it was given on the command line or in
 * NODE_OPTIONS (then that choice stands). 0 leaves V8's own heuristic. V8 reads the flag each time
 * it recomputes its limits (after every full GC), so setting it at run time takes effect.
 */
export function boundHeapGrowth(percent: number = HEAP_GROWING_PERCENT): boolean {
  if (!(percent > 0)) return false;
  if (process.execArgv.some((a) => FLAG.test(a)) || FLAG.test(process.env.NODE_OPTIONS ?? '')) return false;
  setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
  return true;
}
