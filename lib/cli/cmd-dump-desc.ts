// ofctl-ts dump-desc SWITCH — the switch's description (manufacturer, hardware, software, serial, datapath).
// Example: ofctl-ts dump-desc br-int
// As `ovs-ofctl -O OpenFlow13 dump-desc`: the OFPST_DESC reply as ofp-print prints it.
import { withTarget } from './common.js';
import { dumpTransaction, switchArgument } from './query.js';

/** No option changes what it does. */
export type DumpDescOptions = object;

export async function dumpDescCommand(args: readonly string[], _opts: DumpDescOptions, out: (s: string | Buffer) => void): Promise<number> {
  return withTarget(switchArgument(args, 'dump-desc', 1), async (conn) => {
    await dumpTransaction(conn, { type: 'desc_request', flags: 0 }, 'desc_reply', out);
    return 0;
  });
}
