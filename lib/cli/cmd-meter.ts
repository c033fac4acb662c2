// The meter commands of ovs-ofctl (-O OpenFlow13): add-meter, mod-meter, del-meters (del-meter),
// dump-meters (dump-meter), meter-stats, meter-features. Each takes what ovs-ofctl takes, prints
// what it prints and exits as it exits; a text error names its column.
import { OFPM_ALL, parseMeterMod, type MeterMod } from '../../codecs/ofctl/parse-meter.js';
import { OFPMC_ADD, OFPMC_DELETE, OFPMC_MODIFY } from '../../codecs/openflow/stats.js';
import { withTimeout } from './common.js';
import { dumpTransaction, transactEach } from './ofctl-transact.js';

/** The meter commands read -t/--timeout only (a meter names no port). */
export interface MeterOptions {
  /** -t/--timeout SECS (lib/cli/common.ts withTimeout). */
  readonly timeoutS?: number;
}

type Out = (s: string | Buffer) => void;
const stderr = (s: string): void => void process.stderr.write(s);

/** The meter id of an optional METER argument (`meter=N`; none: all meters). */
const meterId = (text: string | undefined): number => (text === undefined ? OFPM_ALL : parseMeterMod(text, 'request').meterId);

/** The METER_MOD del-meters sends for its optional METER argument. */
export function delMeterMod(text: string | undefined): MeterMod {
  return { type: 'meter_mod', command: OFPMC_DELETE, flags: 0, meterId: meterId(text), bands: [] };
}

/**
 * add-meter SWITCH METER — add meter METER.
 * Example: ofctl-ts add-meter br-int 'meter=1,kbps,burst,bands=type=drop,rate=1000,burst_size=100'
 */
export async function addMeterCommand(args: readonly string[], opts: MeterOptions, _out: Out): Promise<number> {
  return withTimeout('add-meter', opts.timeoutS, () => transactEach(args[0]!, [parseMeterMod(args[1]!, OFPMC_ADD)], stderr));
}

/**
 * mod-meter SWITCH METER — replace the flags and bands of meter METER.
 * Example: ofctl-ts mod-meter br-int 'meter=1,pktps,bands=type=drop,rate=500'
 */
export async function modMeterCommand(args: readonly string[], opts: MeterOptions, _out: Out): Promise<number> {
  return withTimeout('mod-meter', opts.timeoutS, () => transactEach(args[0]!, [parseMeterMod(args[1]!, OFPMC_MODIFY)], stderr));
}

/**
 * del-meters SWITCH [METER] — delete meter `meter=N` (and the flows that use it), or all meters.
 * Example: ofctl-ts del-meters br-int meter=1
 */
export async function delMetersCommand(args: readonly string[], opts: MeterOptions, _out: Out): Promise<number> {
  return withTimeout('del-meters', opts.timeoutS, () => transactEach(args[0]!, [delMeterMod(args[1])], stderr));
}

/**
 * dump-meters SWITCH [METER] — print the configuration of meter `meter=N`, or of all meters.
 * Example: ofctl-ts dump-meters br-int
 */
export async function dumpMetersCommand(args: readonly string[], opts: MeterOptions, out: Out): Promise<number> {
  return withTimeout('dump-meters', opts.timeoutS, () => dumpTransaction(args[0]!, { type: 'meter_config_request', flags: 0, meterId: meterId(args[1]) }, out));
}

/**
 * meter-stats SWITCH [METER] — print the counters of meter `meter=N`, or of all meters.
 * Example: ofctl-ts meter-stats br-int meter=1
 */
export async function meterStatsCommand(args: readonly string[], opts: MeterOptions, out: Out): Promise<number> {
  return withTimeout('meter-stats', opts.timeoutS, () => dumpTransaction(args[0]!, { type: 'meter_stats_request', flags: 0, meterId: meterId(args[1]) }, out));
}

/**
 * meter-features SWITCH — print the meter limits, band types and capabilities of the switch.
 * Example: ofctl-ts meter-features br-int
 */
export async function meterFeaturesCommand(args: readonly string[], opts: MeterOptions, out: Out): Promise<number> {
  return withTimeout('meter-features', opts.timeoutS, () => dumpTransaction(args[0]!, { type: 'meter_features_request', flags: 0 }, out));
}

/** ovs-ofctl's argument counts (SWITCH included), for the command table; del-meter and dump-meter are its aliases. */
export const METER_COMMAND_ARITY: Readonly<Record<string, readonly [min: number, max: number]>> = {
  'add-meter': [2, 2], 'mod-meter': [2, 2], 'del-meters': [1, 2], 'del-meter': [1, 2], 'dump-meters': [1, 2],
  'dump-meter': [1, 2], 'meter-stats': [1, 2], 'meter-features': [1, 1],
};
