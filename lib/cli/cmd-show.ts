// ofctl-ts show SWITCH — the switch's features, its ports and its configuration.
// Example: ofctl-ts show br-int
// As `ovs-ofctl -O OpenFlow13 show`: the FEATURES reply, then (OpenFlow 1.3 features carry no
// ports) the port description reply, then the GET_CONFIG reply, each as ofp-print prints it.
import { withTarget } from './common.js';
import { dumpTransaction, switchArgument } from './query.js';

/** No option changes what it does. */
export type ShowOptions = object;

export async function showCommand(args: readonly string[], _opts: ShowOptions, out: (s: string | Buffer) => void): Promise<number> {
  return withTarget(switchArgument(args, 'show', 1), async (conn) => {
    await dumpTransaction(conn, { type: 'features_request' }, 'features_reply', out);
    await dumpTransaction(conn, { type: 'port_desc_request', flags: 0 }, 'port_desc_reply', out);
    await dumpTransaction(conn, { type: 'get_config_request' }, 'get_config_reply', out);
    return 0;
  });
}
