// OpenFlow 1.3 instructions. OVS keeps them in one fixed order (meter, apply, clear, write,
// write_metadata, goto_table) and so does this model: one optional slot per instruction kind.
import { Reader, Writer } from './bytes.js';
import { refuse } from './errors.js';
import { Action, ApplyExtras, decodeActions, encodeActions } from '../actions/index.js';

export interface Instructions {
  readonly meter?: number;
  /** Apply-actions; empty means no APPLY_ACTIONS instruction. */
  readonly apply: readonly Action[];
  readonly clear?: boolean;
  readonly write?: readonly Action[];
  readonly writeMetadata?: { readonly value: bigint; readonly mask: bigint };
  readonly gotoTable?: number;
}

const OFPIT_GOTO_TABLE = 1;
const OFPIT_WRITE_METADATA = 2;
const OFPIT_WRITE_ACTIONS = 3;
const OFPIT_APPLY_ACTIONS = 4;
const OFPIT_CLEAR_ACTIONS = 5;
const OFPIT_METER = 6;

export const NO_INSTRUCTIONS: Instructions = { apply: [] };

function actionsInstruction(w: Writer, type: number, actions: readonly Action[]): void {
  const start = w.pos;
  w.u16(type).u16(0).zeros(4);
  encodeActions(w, actions);
  w.patch16(start + 2, w.pos - start);
}

export function encodeInstructions(w: Writer, ins: Instructions): void {
  if (ins.meter !== undefined) w.u16(OFPIT_METER).u16(8).u32(ins.meter);
  if (ins.apply.length > 0) actionsInstruction(w, OFPIT_APPLY_ACTIONS, ins.apply);
  if (ins.clear) w.u16(OFPIT_CLEAR_ACTIONS).u16(8).zeros(4);
  // An empty write_actions is printed (write_actions(drop)) but, as OVS does, not written back.
  if (ins.write?.length) actionsInstruction(w, OFPIT_WRITE_ACTIONS, ins.write);
  if (ins.writeMetadata) w.u16(OFPIT_WRITE_METADATA).u16(24).zeros(4).u64(ins.writeMetadata.value).u64(ins.writeMetadata.mask);
  if (ins.gotoTable !== undefined) w.u16(OFPIT_GOTO_TABLE).u16(8).u8(ins.gotoTable).zeros(3);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function decodeInstructions(r: Reader): Instructions {
  // Hot path of every dump. The apply list is read into a local and the object built once it is
  // known: a placeholder `apply: []` replaced later changes the field's type, and V8 then throws
  // away the optimised code of every caller.
  let apply: Action[] | undefined;
  let rest: Mutable<Omit<Instructions, 'apply'>> | undefined;
  let seen = 0;
  while (r.remaining > 0) {
    const at = r.pos;
    const type = r.u16();
    const len = r.u16();
    if (len < 8 || len % 8 !== 0) r.fail(`instruction length ${len} is not a positive multiple of 8`, at);
    if (len - 4 > r.remaining) r.fail(`instruction length ${len} runs past the flow`, at);
    const body = r.sub(len - 4);
    if (type <= OFPIT_METER) {
      if (seen & (1 << type)) r.fail(`duplicate instruction type ${type}`, at);
      seen |= 1 << type;
    }
    if (type === OFPIT_APPLY_ACTIONS) {
      body.skip(4);
      const extras: ApplyExtras = {};
      apply = decodeActions(body, false, extras);
      if (extras.writeMetadata) {
        // OVS reads an NX write_metadata action here as the write_metadata instruction.
        if (seen & (1 << OFPIT_WRITE_METADATA)) r.fail(`duplicate instruction type ${OFPIT_WRITE_METADATA}`, at);
        seen |= 1 << OFPIT_WRITE_METADATA;
        (rest ??= {}).writeMetadata = extras.writeMetadata;
      }
      continue;
    }
    rest ??= {};
    switch (type) {
      case OFPIT_GOTO_TABLE:
        rest.gotoTable = body.u8();
        break;
      case OFPIT_WRITE_METADATA:
        body.skip(4);
        rest.writeMetadata = { value: body.u64(), mask: body.u64() };
        break;
      case OFPIT_WRITE_ACTIONS:
        body.skip(4);
        rest.write = decodeActions(body);
        break;
      case OFPIT_CLEAR_ACTIONS:
        rest.clear = true;
        break;
      case OFPIT_METER:
        rest.meter = body.u32();
        break;
      default:
        // OVS reads no instruction beyond OpenFlow 1.3's six (ofpacts_pull_openflow11_instructions).
        refuse(`instruction type ${type}`, at, type === 0xffff ? 'OFPBIC_BAD_EXPERIMENTER' : 'OFPBIC_UNKNOWN_INST');
    }
  }
  const ins: Mutable<Instructions> = { apply: apply ?? [] };
  if (rest) {
    // Always in the same order, so flows with the same instructions share one object shape.
    if (rest.meter !== undefined) ins.meter = rest.meter;
    if (rest.clear) ins.clear = true;
    if (rest.write) ins.write = rest.write;
    if (rest.writeMetadata) ins.writeMetadata = rest.writeMetadata;
    if (rest.gotoTable !== undefined) ins.gotoTable = rest.gotoTable;
  }
  return ins;
}

/** Instructions' encoding (latin1; null: they cannot be encoded), once per object. */
const wires = new WeakMap<Instructions, string | null>();
const wireScratch = new Writer(256);

/** The instructions' wire bytes (latin1), encoded once per object (undefined: not encodable). */
export function instructionsWire(ins: Instructions): string | undefined {
  let w = wires.get(ins);
  if (w === undefined) {
    wireScratch.pos = 0;
    try {
      encodeInstructions(wireScratch, ins);
      w = wireScratch.buf.toString('latin1', 0, wireScratch.pos);
    } catch {
      w = null;
    }
    wires.set(ins, w);
  }
  return w ?? undefined;
}

/** Instructions from their wire bytes (latin1, as instructionsWire gives them). Throws DecodeError. */
export function instructionsOfWire(wire: string): Instructions {
  return decodeInstructions(new Reader(Buffer.from(wire, 'latin1'), 0, wire.length));
}

/**
 * Reads instructions (to r's end) as their wire bytes, undecoded, the framing checked: for a reader
 * that compares them as bytes and decodes only those it must (instructionsOfWire).
 */
export function readInstructionsWire(r: Reader): string {
  const from = r.pos;
  while (r.remaining > 0) {
    const at = r.pos;
    r.u16();
    const len = r.u16();
    if (len < 8 || len % 8 !== 0) r.fail(`instruction length ${len} is not a positive multiple of 8`, at);
    r.skip(len - 4);
  }
  return r.buf.toString('latin1', from, r.end);
}
