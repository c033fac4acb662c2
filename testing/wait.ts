// Small helpers shared by tests, benches and the demo that drive real OVS processes.
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Polls `cond` until it holds; a condition that throws counts as not yet. `check` runs between
 * polls and may throw to give up early (e.g. a process under test exited).
 */
export async function eventually(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000,
  check?: () => Promise<void>, pollMs = 50): Promise<void> {
  const until = Date.now() + ms;
  while (!(await Promise.resolve().then(cond).catch(() => false))) {
    await check?.();
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
