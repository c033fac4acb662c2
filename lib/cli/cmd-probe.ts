// ofctl-ts probe SWITCH — check that the switch answers: an echo request, and its reply.
// Example: ofctl-ts probe br-int
// As `ovs-ofctl -O OpenFlow13 probe` (ofctl_probe()): nothing printed and exit 0 when the echo
// reply comes back empty, as sent; a reply that is not is "reply does not match request". A target
// that cannot be reached fails as every command's does; a silent one is ended by -t.
import { withTarget } from './common.js';
import { switchArgument } from './query.js';

/** No option changes what it does (-t is the command line's, for every command). */
export type ProbeOptions = object;

export async function probeCommand(args: readonly string[], _opts: ProbeOptions, _out: (s: string | Buffer) => void): Promise<number> {
  return withTarget(switchArgument(args, 'probe', 1), async (conn) => {
    const [reply] = await conn.request({ type: 'echo_request', data: Buffer.alloc(0) });
    if (reply?.type !== 'echo_reply' || reply.data.length) throw new Error('reply does not match request');
    return 0;
  });
}
