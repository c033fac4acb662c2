// ofctl-ts dump-ports SWITCH [PORT] — the counters of every port, or of PORT (a number, LOCAL, or a port's name).
// Example: ofctl-ts dump-ports br-int tap0
// As `ovs-ofctl -O OpenFlow13 dump-ports`: the OFPST_PORT reply parts as ofp-print prints them; a
// port that does not exist prints "0 ports", a name that is no port's fails.
import { OFPP_NONE } from '../../codecs/openflow/ports.js';
import { dumpTransaction, onSwitch, portArgument, QueryOptions } from './query.js';

export async function dumpPortsCommand(args: readonly string[], opts: QueryOptions, out: (s: string | Buffer) => void): Promise<number> {
  return onSwitch(args, 'dump-ports', 2, opts, async (conn, sw) => {
    const portNo = args[1] === undefined ? OFPP_NONE : await portArgument(conn, sw, args[1], opts);
    await dumpTransaction(conn, { type: 'port_stats_request', flags: 0, portNo }, 'port_stats_reply', out);
  });
}
