// controller: send the packet to the controller with a reason, a controller id, userdata, pause
// or a meter (NXAST_CONTROLLER; NXAST_CONTROLLER2's properties for userdata, pause and meter_id).
// Text as OVS's format_CONTROLLER(): controller(reason=R,max_len=N,id=N,userdata=HEX,pause,meter_id=N);
// CONTROLLER:N when only max_len is set. The controller keyword writes an output to CONTROLLER
// when it says no more than max_len, as OVS's parse_CONTROLLER() does.
import type { Reader, Writer } from '../openflow/bytes.js';
import { OFPP_CONTROLLER } from '../openflow/ports.js';
import { splitKeyValues } from '../ofctl/lexer.js';
import { fail, intArg } from '../ofctl/syntax.js';
import type { Output } from './output.js';
import { ActionRecord, nxHeader } from './record.js';

export interface Controller {
  readonly type: 'controller';
  readonly maxLen: number;
  readonly controllerId: number;
  /** OFPR_*: 1 (action) by default. */
  readonly reason: number;
  /** Empty: none. */
  readonly userdata: Buffer;
  readonly pause: boolean;
  /** NO_METER: none. */
  readonly meterId: number;
  /** Came as NXAST_CONTROLLER2: OVS writes it back in that form even when NXAST_CONTROLLER would do. */
  readonly v2: boolean;
}

const NXAST_CONTROLLER = 20, NXAST_CONTROLLER2 = 37;
const OFPR_ACTION = 1;
const NO_METER = 0xffffffff;
/** NXAC2PT_*: the CONTROLLER2 property types. */
const P_MAX_LEN = 0, P_CONTROLLER_ID = 1, P_REASON = 2, P_USERDATA = 3, P_PAUSE = 4, P_METER_ID = 5;
/** ofputil_packet_in_reason_to_string(); OVS's two internal reasons (6, 7) print as nothing. */
const REASONS = ['no_match', 'action', 'invalid_ttl', 'action_set', 'group', 'packet_out', '', ''];

const needsV2 = (a: Controller): boolean => a.v2 || a.userdata.length > 0 || a.pause || a.meterId !== NO_METER;

/** One CONTROLLER2 property: type, length without padding, value, zeros to 8 bytes. */
function putProp(w: Writer, type: number, value: Buffer): void {
  const len = 4 + value.length;
  w.u16(type).u16(len).bytes(value).zeros((8 - (len % 8)) % 8);
}

/** ofpprop_put_u16(): OVS pads 16-bit values to 32 bits (length 8). */
const u16Prop = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff, 0, 0]);

function decodeV2(r: Reader, at: number): Controller {
  const pad = r.bytes(6);
  if (pad.some((b) => b !== 0)) r.fail('controller2 action padding is not zero (NXBRC_MUST_BE_ZERO)', at);
  let maxLen = 0xffff, controllerId = 0, reason = OFPR_ACTION, userdata = Buffer.alloc(0), pause = false, meterId = NO_METER;
  while (r.remaining > 0) {
    const pAt = r.pos;
    if (r.remaining < 4) r.fail('controller2 property truncated', pAt);
    const type = r.u16();
    const len = r.u16();
    if (len < 4 || len - 4 > r.remaining) r.fail(`controller2 property length ${len}`, pAt);
    const body = r.sub(len - 4);
    r.skip(Math.min(r.remaining, (8 - (len % 8)) % 8));
    const need = (n: number, exact: boolean): void => {
      if (exact ? body.remaining !== n : body.remaining < n) r.fail(`controller2 property ${type} of length ${len}`, pAt);
    };
    switch (type) {
      case P_MAX_LEN: need(2, false); maxLen = body.u16(); break;
      case P_CONTROLLER_ID: need(2, false); controllerId = body.u16(); break;
      case P_REASON: need(1, false); reason = body.u8(); break;
      case P_USERDATA: userdata = Buffer.from(body.bytes(body.remaining)); break;
      case P_PAUSE: pause = true; break;
      case P_METER_ID: need(4, true); meterId = body.u32(); break;
      default: r.fail(`unknown controller2 property ${type} (OFPBPC_BAD_TYPE)`, pAt);
    }
  }
  return { type: 'controller', maxLen, controllerId, reason, userdata, pause, meterId, v2: true };
}

/** The controller keyword: an output to CONTROLLER, or this action when it says more than max_len. */
function parseController(value: string, valueAt: number): Output | Controller {
  let maxLen = 0xffff, controllerId = 0, reason = OFPR_ACTION, pause = false, meterId = NO_METER;
  let userdata: Buffer | undefined;
  if (/^\d+$/.test(value)) {
    maxLen = intArg(value, valueAt, 0xffff, 'max_len');
  } else {
    for (const kv of splitKeyValues(value, valueAt)) {
      switch (kv.key) {
        case 'reason': {
          const r = REASONS.indexOf(kv.value);
          if (r < 0 || kv.value === '') fail(`unknown reason "${kv.value}"`, kv.valueAt);
          reason = r;
          break;
        }
        case 'max_len': maxLen = intArg(kv.value, kv.valueAt, 0xffff, 'max_len'); break;
        case 'id': controllerId = intArg(kv.value, kv.valueAt, 0xffff, 'id'); break;
        case 'userdata': {
          const hex = kv.value.replace(/\./g, '');
          if (!/^([0-9a-f]{2})*$/i.test(hex)) fail(`${kv.value}: bad hex digit in \`controller' action \`userdata'`, kv.valueAt);
          userdata = Buffer.from(hex, 'hex');
          break;
        }
        case 'pause': pause = true; break;
        case 'meter_id': meterId = intArg(kv.value, kv.valueAt, 0xffffffff, 'meter_id'); break;
        default: fail(`unknown key "${kv.key}" parsing controller action`, kv.keyAt);
      }
    }
  }
  if (reason === OFPR_ACTION && controllerId === 0 && !userdata && !pause && meterId === NO_METER) {
    return { type: 'output', port: OFPP_CONTROLLER, maxLen };
  }
  return { type: 'controller', maxLen, controllerId, reason, userdata: userdata ?? Buffer.alloc(0), pause, meterId, v2: false };
}

export const controller: ActionRecord<Controller> = {
  wire: [{ nx: NXAST_CONTROLLER }, { nx: NXAST_CONTROLLER2 }],
  encode: (w, a) => {
    if (!needsV2(a)) {
      nxHeader(w, 16, NXAST_CONTROLLER);
      w.u16(a.maxLen).u16(a.controllerId).u8(a.reason).u8(0);
      return;
    }
    // encode_CONTROLLER(): only the properties that differ from the defaults, in this order.
    const start = w.pos;
    nxHeader(w, 0, NXAST_CONTROLLER2);
    w.zeros(6);
    if (a.maxLen !== 0xffff) putProp(w, P_MAX_LEN, u16Prop(a.maxLen));
    if (a.controllerId !== 0) putProp(w, P_CONTROLLER_ID, u16Prop(a.controllerId));
    if (a.reason !== OFPR_ACTION) putProp(w, P_REASON, Buffer.from([a.reason]));
    if (a.userdata.length) putProp(w, P_USERDATA, a.userdata);
    if (a.pause) putProp(w, P_PAUSE, Buffer.alloc(0));
    if (a.meterId !== NO_METER) putProp(w, P_METER_ID, Buffer.from([a.meterId >>> 24, (a.meterId >> 16) & 0xff, (a.meterId >> 8) & 0xff, a.meterId & 0xff]));
    w.patch16(start + 2, w.pos - start);
  },
  decode: (r, id, _len, at) => {
    if (id === NXAST_CONTROLLER2) return decodeV2(r, at);
    const maxLen = r.u16();
    const controllerId = r.u16();
    const reason = r.u8();
    return { type: 'controller', maxLen, controllerId, reason, userdata: Buffer.alloc(0), pause: false, meterId: NO_METER, v2: false };
  },
  print: (a) => {
    if (a.reason === OFPR_ACTION && a.controllerId === 0 && !a.userdata.length && !a.pause && a.meterId === NO_METER) {
      return `CONTROLLER:${a.maxLen}`;
    }
    const parts: string[] = [];
    if (a.reason !== OFPR_ACTION) parts.push(`reason=${REASONS[a.reason] ?? a.reason}`);
    if (a.maxLen !== 0xffff) parts.push(`max_len=${a.maxLen}`);
    if (a.controllerId !== 0) parts.push(`id=${a.controllerId}`);
    if (a.userdata.length) parts.push(`userdata=${[...a.userdata].map((b) => b.toString(16).padStart(2, '0')).join('.')}`);
    if (a.pause) parts.push('pause');
    if (a.meterId !== NO_METER) parts.push(`meter_id=${a.meterId}`);
    return `controller(${parts.join(',')})`;
  },
  parse: {
    controller: ({ value, valueAt }, _ctx, out) => {
      out.push(parseController(value, valueAt));
    },
  },
};
