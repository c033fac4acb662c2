// --names / --no-names: port names in flow text, as ovs-ofctl 3.1 takes and prints them.
// ovs-ofctl accepts names unless --no-names, and shows them with --names or, with neither, when
// stdout is a terminal (should_accept_names/should_show_names). It fetches the port descriptions
// (and table features) on connections of their own before every such command, name or not; we
// fetch the port descriptions only when a name is met in the text, or when names are shown.
import { portNamesOf } from '../../codecs/ofctl/port-names.js';
import { PortNames, setPortNames } from '../../codecs/openflow/ports.js';
import type { OfConnection } from '../switch/connection.js';
import { withTarget } from './common.js';

/** The --names option: true --names, false --no-names, undefined neither (stdout's kind decides). */
export type NamesOption = boolean | undefined;

/** Names are printed with --names, or without either option when stdout is a terminal. */
export function showNames(names: NamesOption): boolean {
  return names ?? process.stdout.isTTY === true;
}

/** The switch's port names, from one port-description request on `conn`. */
export async function fetchPortNames(conn: OfConnection): Promise<PortNames> {
  const pairs: Array<[number, string]> = [];
  for (const m of await conn.request({ type: 'port_desc_request', flags: 0 })) {
    if (m.type === 'port_desc_reply') for (const p of m.ports) pairs.push([p.portNo, p.name]);
  }
  return portNamesOf(pairs);
}

/** Thrown by the not-yet-fetched names when flow text names a port: the caller fetches them and starts again. */
export class PortNamesNeeded extends Error {}

/** Names accepted but not fetched yet: any name asks for them; ports print as numbers. */
const UNFETCHED: PortNames = {
  number() {
    throw new PortNamesNeeded('port names are needed');
  },
  text: () => undefined,
  shown: false,
};

/**
 * Fetches the names of `target`'s ports: flow text is parsed with them from now on, and printed
 * with them if `show`.
 */
export async function usePortNamesOf(target: string, show = true): Promise<void> {
  const names = await withTarget(target, fetchPortNames);
  setPortNames(show ? names : { number: (text) => names.number(text), text: () => undefined, shown: false });
}

/**
 * Runs `fn` with the port names of `target` (undefined: none) in its flow text. Shown names are
 * fetched first. Otherwise, unless --no-names, names are accepted: `fn` runs without them, and if
 * its text names a port they are fetched and `fn` runs again, so `fn` must change nothing before
 * its text is parsed (a bundle that a parse error interrupts is discarded).
 */
export async function withPortNames<T>(target: string | undefined, names: NamesOption, fn: () => Promise<T>): Promise<T> {
  if (names === false || target === undefined) {
    setPortNames(undefined);
    return fn();
  }
  if (showNames(names)) {
    await usePortNamesOf(target);
    return fn();
  }
  setPortNames(UNFETCHED);
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof PortNamesNeeded)) throw err;
  }
  await usePortNamesOf(target, false);
  return fn();
}
