// Small helpers shared by tests, benches and the demo that drive real OVS processes.
import { readFileSync } from 'node:fs';
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
 * A free port below the kernel's ephemeral range, for a listener started while this process opens
 * thousands of connections: the scale bench's 6000 simulated sessions connecting to one replica
 * took the port freePort had chosen for the next before it listened ("address already in use").
 * None is handed out twice. The benches use it; the tests keep freePort (the OS's choice).
 */
export async function freePortBelowEphemeral(): Promise<number> {
  const low = ephemeralLow();
  for (let i = 0; low > FIXED_LOW + 1000 && i < 100; i++) {
    const port = FIXED_LOW + Math.floor(Math.random() * (low - FIXED_LOW));
    if (!handedOut.has(port) && (await bindable(port))) return handOut(port);
  }
  for (;;) {
    const port = await freePort();
    if (!handedOut.has(port)) return handOut(port);
  }
}

const FIXED_LOW = 10_000;
const handedOut = new Set<number>();
const handOut = (port: number): number => (handedOut.add(port), port);

/** The first port of the kernel's ephemeral range (Linux), or 0 if it cannot be read. */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 0;
  } catch {
    return 0;
  }
}

/** Whether `port` on 127.0.0.1 could be bound (and was closed again). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
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
