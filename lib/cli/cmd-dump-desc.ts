// ofctl-ts dump-desc SWITCH — the switch's description (manufacturer, hardware, software, serial, datapath).
// Example: ofctl-ts dump-desc br-int
// As `ovs-ofctl -O OpenFlow13 dump-desc`: the OFPST_DESC reply as ofp-print prints it.
import { dumpTransaction, onSwitch, QueryOptions } from './query.js';

/** -t/--timeout only changes what it does. */
export type DumpDescOptions = Pick<QueryOptions, 'timeoutS'>;

export async function dumpDescCommand(args: readonly string[], opts: DumpDescOptions, out: (s: string | Buffer) => void): Promise<number> {
  return onSwitch(args, 'dump-desc', 1, { ...opts, names: false }, async (conn) => {
    await dumpTransaction(conn, { type: 'desc_request', flags: 0 }, 'desc_reply', out);
  });
}
