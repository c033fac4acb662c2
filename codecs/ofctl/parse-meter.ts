// A meter as ovs-ofctl 3.1 takes it (lib/ofp-meter.c parse_ofp_meter_mod_str):
// `meter=N|all|controller|slowpath,kbps|pktps[,burst][,stats],bands=type=drop rate=R [burst_size=B]`,
// dscp_remark bands with `prec_level=P`. Words are split as strtok() splits them there: a name ends
// at `=`, `,` or white space, its value at `,` or white space.
import { fail, inColumn } from './syntax.js';
import { strToSmallUint, strToU32 } from './c-ints.js';
import {
  MeterBand, OFPMBT_DROP, OFPMBT_DSCP_REMARK, OFPMC_ADD, OFPMC_DELETE, OFPMC_MODIFY, OFPMF_BURST, OFPMF_KBPS, OFPMF_PKTPS,
  OFPMF_STATS, StatsMessage,
} from '../openflow/stats.js';

export type MeterMod = Extract<StatsMessage, { type: 'meter_mod' }>;

export const OFPM_MAX = 0xffff0000;
export const OFPM_SLOWPATH = 0xfffffffd;
export const OFPM_CONTROLLER = 0xfffffffe;
export const OFPM_ALL = 0xffffffff;

const FLAGS: Readonly<Record<string, number>> = { kbps: OFPMF_KBPS, pktps: OFPMF_PKTPS, burst: OFPMF_BURST, stats: OFPMF_STATS };
const BAND_TYPES: Readonly<Record<string, number>> = { drop: OFPMBT_DROP, dscp_remark: OFPMBT_DSCP_REMARK };

const NAME_END = '=, \t\r\n';
const VALUE_END = ', \t\r\n';

/** strtok_r over `text` (which starts at `base` in the whole): each token with its offset. */
class Tokens {
  private pos = 0;
  constructor(private readonly text: string, private readonly base: number) {}
  next(delims: string): { word: string; at: number } | undefined {
    while (this.pos < this.text.length && delims.includes(this.text[this.pos]!)) this.pos++;
    if (this.pos >= this.text.length) return undefined;
    const start = this.pos;
    while (this.pos < this.text.length && !delims.includes(this.text[this.pos]!)) this.pos++;
    const word = this.text.slice(start, this.pos);
    if (this.pos < this.text.length) this.pos++; // the delimiter strtok overwrites
    return { word, at: this.base + start };
  }
}

/**
 * A meter mod from its text. `command` is OFPMC_ADD or OFPMC_MODIFY (meter, flags and bands),
 * OFPMC_DELETE or 'request' (the meter id only: del-meters, dump-meters, meter-stats).
 * Throws FlowSyntaxError (with the column) for what ovs-ofctl refuses, with its message.
 */
export function parseMeterMod(text: string, command: number | 'request'): MeterMod {
  const full = command === OFPMC_ADD || command === OFPMC_MODIFY;
  let head = text;
  let bandText = '';
  let bandAt = 0;
  if (full) {
    // The bands start after the `=` that follows the first `band` anywhere in the text.
    const band = text.indexOf('band');
    const eq = band < 0 ? -1 : text.indexOf('=', band + 1);
    if (eq < 0) fail('must specify bands', text.length);
    head = text.slice(0, band);
    bandText = text.slice(eq + 1);
    bandAt = eq + 1;
  }
  let meterId = 0;
  let flags = 0;
  const words = new Tokens(head, 0);
  for (let name = words.next(NAME_END); name; name = words.next(NAME_END)) {
    if (full && Object.hasOwn(FLAGS, name.word)) {
      flags |= FLAGS[name.word]!;
      continue;
    }
    const value = words.next(VALUE_END) ?? fail(`field ${name.word} missing value`, name.at);
    if (name.word !== 'meter') fail(`unknown keyword ${name.word}`, name.at);
    meterId = parseMeterId(value.word, value.at);
  }
  if (!meterId) fail("must specify 'meter'", 0);
  if (full && !flags) fail("meter must specify either 'kbps' or 'pktps'", 0);
  const mod = (bands: readonly MeterBand[]): MeterMod => ({
    type: 'meter_mod', command: command === 'request' ? OFPMC_DELETE : command, flags, meterId, bands,
  });
  if (!full) return mod([]);

  const bands: Array<{ type: number; rate: number; burstSize: number; precLevel: number; at: number }> = [];
  const bandWords = new Tokens(bandText, bandAt);
  for (let name = bandWords.next(NAME_END); name; name = bandWords.next(NAME_END)) {
    const value = bandWords.next(VALUE_END) ?? fail(`field ${name.word} missing value`, name.at);
    const band = bands[bands.length - 1];
    if (name.word === 'type') {
      const type = (Object.hasOwn(BAND_TYPES, value.word) ? BAND_TYPES[value.word] : undefined)
        ?? fail(`field type unknown value ${value.word}`, value.at);
      bands.push({ type, rate: 0, burstSize: 0, precLevel: 0, at: name.at });
    } else if (!band) {
      fail("band must start with the 'type' keyword", name.at);
    } else if (name.word === 'rate') {
      band.rate = inColumn(value.at, () => strToU32(value.word));
    } else if (name.word === 'burst_size') {
      band.burstSize = inColumn(value.at, () => strToU32(value.word));
    } else if (name.word === 'prec_level') {
      band.precLevel = inColumn(value.at, () => strToSmallUint(value.word, 'prec_level', 0xff));
    } else {
      fail(`unknown keyword ${name.word}`, name.at);
    }
  }
  if (!bands.length) fail('meter must have bands', bandAt);
  for (const b of bands) {
    if (b.type === OFPMBT_DSCP_REMARK && !b.precLevel) fail("'dscp_remark' band must have 'prec_level'", b.at);
    if (b.type !== OFPMBT_DSCP_REMARK && b.precLevel) fail("Only 'dscp_remark' band may have 'prec_level'", b.at);
    if (!b.rate) fail("band must have 'rate'", b.at);
    if (flags & OFPMF_BURST && !b.burstSize) fail("band must have 'burst_size' when 'burst' flag is set", b.at);
    if (!(flags & OFPMF_BURST) && b.burstSize) fail("band may have 'burst_size' only when 'burst' flag is set", b.at);
  }
  return mod(bands.map((b) => ({
    type: b.type, rate: b.rate, burstSize: b.burstSize, ...(b.type === OFPMBT_DSCP_REMARK ? { precLevel: b.precLevel } : {}),
  })));
}

function parseMeterId(s: string, at: number): number {
  if (s === 'all') return OFPM_ALL;
  if (s === 'controller') return OFPM_CONTROLLER;
  if (s === 'slowpath') return OFPM_SLOWPATH;
  const id = inColumn(at, () => strToU32(s));
  if (id > OFPM_MAX || !id) fail('invalid value for meter', at);
  return id;
}
