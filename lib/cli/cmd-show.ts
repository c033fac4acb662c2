// ofctl-ts show SWITCH — the switch's features, its ports and its configuration.
// Example: ofctl-ts show br-int
// As `ovs-ofctl -O OpenFlow13 show`: the FEATURES reply, then (OpenFlow 1.3 features carry no
// ports) the port description reply, then the GET_CONFIG reply, each as ofp-print prints it.
import { dumpTransaction, onSwitch, QueryOptions } from './query.js';

/** -t/--timeout only changes what it does (ports print as `1(p1)` with names shown or not, as in ovs-ofctl). */
export type ShowOptions = Pick<QueryOptions, 'timeoutS'>;

export async function showCommand(args: readonly string[], opts: ShowOptions, out: (s: string | Buffer) => void): Promise<number> {
  return onSwitch(args, 'show', 1, { ...opts, names: false }, async (conn) => {
    await dumpTransaction(conn, { type: 'features_request' }, 'features_reply', out);
    await dumpTransaction(conn, { type: 'port_desc_request', flags: 0 }, 'port_desc_reply', out);
    await dumpTransaction(conn, { type: 'get_config_request' }, 'get_config_reply', out);
  });
}
