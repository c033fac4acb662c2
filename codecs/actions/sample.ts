// sample: send a sampled copy of the packet to IPFIX collectors (NXAST_SAMPLE; SAMPLE2 adds the
// sampling port, SAMPLE3 the direction). Text as OVS's format_SAMPLE():
// sample(probability=N,collector_set_id=N,obs_domain_id=N,obs_point_id=N[,sampling_port=P][,ingress|egress]).
// Written in the shortest form that holds it, as OVS's encode_SAMPLE(), or in the form it came in.
import type { Reader, Writer } from '../openflow/bytes.js';
import { formatPort, namedPort, OFPP_NONE } from '../openflow/ports.js';
import { splitKeyValues } from '../ofctl/lexer.js';
import { fail, intArg } from '../ofctl/syntax.js';
import { ActionRecord, nxHeader } from './record.js';

export interface Sample {
  readonly type: 'sample';
  readonly probability: number;
  readonly collectorSetId: number;
  readonly obsDomainId: number;
  readonly obsPointId: number;
  /** OFPP_NONE: none. */
  readonly samplingPort: number;
  /** 0 default, 1 ingress, 2 egress. */
  readonly direction: number;
  /** The wire form: NXAST_SAMPLE, SAMPLE2 or SAMPLE3. */
  readonly subtype: number;
}

const NXAST_SAMPLE = 29, NXAST_SAMPLE2 = 38, NXAST_SAMPLE3 = 41;
const DIRECTIONS = ['', 'ingress', 'egress'] as const;

/** The shortest form that carries these members (encode_SAMPLE()). */
function shortestForm(samplingPort: number, direction: number): number {
  return direction ? NXAST_SAMPLE3 : samplingPort !== OFPP_NONE ? NXAST_SAMPLE2 : NXAST_SAMPLE;
}

export const sample: ActionRecord<Sample> = {
  wire: [{ nx: NXAST_SAMPLE }, { nx: NXAST_SAMPLE2 }, { nx: NXAST_SAMPLE3 }],
  encode: (w: Writer, a) => {
    nxHeader(w, a.subtype === NXAST_SAMPLE ? 24 : 32, a.subtype);
    w.u16(a.probability).u32(a.collectorSetId).u32(a.obsDomainId).u32(a.obsPointId);
    if (a.subtype === NXAST_SAMPLE) return;
    w.u16(a.samplingPort);
    if (a.subtype === NXAST_SAMPLE3) w.u8(a.direction).zeros(5);
    else w.zeros(6);
  },
  decode: (r: Reader, subtype, _len, at) => {
    const probability = r.u16();
    if (probability === 0) r.fail('sample probability 0', at);
    const collectorSetId = r.u32();
    const obsDomainId = r.u32();
    const obsPointId = r.u32();
    const samplingPort = subtype === NXAST_SAMPLE ? OFPP_NONE : r.u16();
    const direction = subtype === NXAST_SAMPLE3 ? r.u8() : 0;
    if (direction > 2) r.fail(`sample direction ${direction}`, at);
    return { type: 'sample', probability, collectorSetId, obsDomainId, obsPointId, samplingPort, direction, subtype };
  },
  print: (a) => `sample(probability=${a.probability},collector_set_id=${a.collectorSetId},obs_domain_id=${a.obsDomainId},`
    + `obs_point_id=${a.obsPointId}${a.samplingPort !== OFPP_NONE ? `,sampling_port=${formatPort(a.samplingPort)}` : ''}`
    + `${a.direction ? `,${DIRECTIONS[a.direction]}` : ''})`,
  parse: {
    sample: ({ value, valueAt }, _ctx, out) => {
      let probability = 0, collectorSetId = 0, obsDomainId = 0, obsPointId = 0, samplingPort = OFPP_NONE, direction = 0;
      for (const kv of splitKeyValues(value, valueAt)) {
        switch (kv.key) {
          case 'probability':
            probability = intArg(kv.value, kv.valueAt, 0xffff, 'probability');
            if (probability === 0) fail(`invalid probability value "${kv.value}"`, kv.valueAt);
            break;
          case 'collector_set_id': collectorSetId = intArg(kv.value, kv.valueAt, 0xffffffff, 'collector_set_id'); break;
          case 'obs_domain_id': obsDomainId = intArg(kv.value, kv.valueAt, 0xffffffff, 'obs_domain_id'); break;
          case 'obs_point_id': obsPointId = intArg(kv.value, kv.valueAt, 0xffffffff, 'obs_point_id'); break;
          case 'sampling_port': {
            const p = namedPort(kv.value) ?? (/^\d+$/.test(kv.value) && Number(kv.value) <= 0xffff ? Number(kv.value) : undefined);
            if (p === undefined) fail(`${kv.value}: unknown port`, kv.valueAt);
            samplingPort = p!;
            break;
          }
          case 'ingress': direction = 1; break;
          case 'egress': direction = 2; break;
          default: fail(`invalid key "${kv.key}" in "sample" argument`, kv.keyAt);
        }
      }
      if (probability === 0) fail('non-zero "probability" must be specified on sample', valueAt);
      out.push({
        type: 'sample', probability, collectorSetId, obsDomainId, obsPointId, samplingPort, direction,
        subtype: shortestForm(samplingPort, direction),
      });
    },
  },
};
