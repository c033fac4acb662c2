// OpenFlow port numbers. OVS keeps ports as 16-bit OpenFlow 1.0 numbers internally and maps the
// reserved range 0xfff8..0xffff to 0xfffffff8..0xffffffff on the OpenFlow 1.1+ wire.

export const OFPP_MAX = 0xff00;
/** No output port in the action set yet (actset_output=UNSET). */
const OFPP_UNSET = 0xfff7;
export const OFPP_IN_PORT = 0xfff8;
const OFPP_TABLE = 0xfff9;
export const OFPP_NORMAL = 0xfffa;
const OFPP_FLOOD = 0xfffb;
const OFPP_ALL = 0xfffc;
export const OFPP_CONTROLLER = 0xfffd;
export const OFPP_LOCAL = 0xfffe;
export const OFPP_NONE = 0xffff; // OF1.0 "none" == OF1.1+ ANY

const OFPP11_OFFSET = 0xffff0000;

/** Reserved port names as ovs-ofctl prints and parses them. */
export const PORT_NAMES: ReadonlyMap<number, string> = new Map([
  [OFPP_UNSET, 'UNSET'],
  [OFPP_IN_PORT, 'IN_PORT'],
  [OFPP_TABLE, 'TABLE'],
  [OFPP_NORMAL, 'NORMAL'],
  [OFPP_FLOOD, 'FLOOD'],
  [OFPP_ALL, 'ALL'],
  [OFPP_CONTROLLER, 'CONTROLLER'],
  [OFPP_LOCAL, 'LOCAL'],
  [OFPP_NONE, 'ANY'],
]);

const PORT_BY_NAME = new Map<string, number>([...PORT_NAMES].map(([n, s]) => [s, n]));
PORT_BY_NAME.set('NONE', OFPP_NONE);

export function portByName(name: string): number | undefined {
  return PORT_BY_NAME.get(name.toUpperCase());
}

/**
 * A switch's port names, as ovs-ofctl's ofputil_port_map holds them (lib/cli/port-names.ts fetches
 * one, codecs/ofctl/port-names.ts builds it).
 */
export interface PortNames {
  /** The port a name written in flow text stands for (`eth0` or `"eth0"`); undefined: none. */
  number(text: string): number | undefined;
  /** A port's name as ovs-ofctl prints it (quoted where needed); undefined: it has none. */
  text(port: number): string | undefined;
  /** Ports print by these names (--names), not only parse by them. */
  readonly shown: boolean;
}

/** The names flow text is parsed and printed with; none (ports as numbers) unless a command sets them. */
let portNames: PortNames | undefined;

/**
 * Sets the port names that flow text is parsed and printed with from now on (undefined: numbers
 * only). The flow tool sets them once per command (--names); nothing else does.
 */
export function setPortNames(names: PortNames | undefined): void {
  portNames = names;
}

/** Ports print by name now: the byte printers, which write port numbers, leave such text to the decoder. */
export function portNamesShown(): boolean {
  return portNames?.shown === true;
}

/**
 * A port written as a word where ovs-ofctl's ofputil_port_from_string() reads one: a reserved name
 * (any case) or, when port names are set, a port's name. A decimal word is a number, never a name
 * (a port named "7" is written "7" in quotes), as in OVS.
 */
export function namedPort(text: string): number | undefined {
  const reserved = PORT_BY_NAME.get(text.toUpperCase());
  if (reserved !== undefined || portNames === undefined || /^\d+$/.test(text)) return reserved;
  return portNames.number(text);
}

const OFPP11_MAX = 0xffffff00;

/**
 * OF1.1+ 32-bit port to OVS's 16-bit form (ofputil_port_from_ofp11): 0xffffff00.. maps to 0xff00...
 * Ports in 0xff00..0xfffffeff have no 16-bit form (OVS refuses them); they are kept as they are.
 */
export function portFromOf11(p: number): number {
  if (p < OFPP_MAX) return p;
  if (p >= OFPP11_MAX) return p - OFPP11_OFFSET;
  return p;
}

export function portToOf11(p: number): number {
  return p >= OFPP_MAX && p <= 0xffff ? (p + OFPP11_OFFSET) >>> 0 : p;
}

/** ovs-ofctl's port text: a reserved name, the port's name when names are set, or the decimal number. */
export function formatPort(p: number): string {
  return PORT_NAMES.get(p) ?? portNames?.text(p) ?? String(p);
}
