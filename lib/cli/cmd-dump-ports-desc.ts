// ofctl-ts dump-ports-desc SWITCH [PORT] — the description of every port (name, address, config, state, speed).
// Example: ofctl-ts dump-ports-desc br-int
// As `ovs-ofctl -O OpenFlow13 dump-ports-desc`: the OFPST_PORT_DESC reply parts as ofp-print prints
// them. An OpenFlow 1.3 request names no port, so PORT is only checked (an unknown name fails) and
// every port is printed, as ovs-ofctl does.
import { dumpTransaction, onSwitch, portArgument, QueryOptions } from './query.js';

export async function dumpPortsDescCommand(args: readonly string[], opts: QueryOptions, out: (s: string | Buffer) => void): Promise<number> {
  // Ports print as `1(p1)` with names shown or not, as in ovs-ofctl: none are fetched for printing.
  return onSwitch(args, 'dump-ports-desc', 2, { ...opts, names: false }, async (conn, sw) => {
    if (args[1] !== undefined) await portArgument(conn, sw, args[1], opts);
    await dumpTransaction(conn, { type: 'port_desc_request', flags: 0 }, 'port_desc_reply', out);
  });
}
