// ofctl-ts queue-stats SWITCH [PORT [QUEUE]] — the counters of the queues of every port, or of PORT, or of one QUEUE.
// Example: ofctl-ts queue-stats br-int 1 0
// As `ovs-ofctl -O OpenFlow13 queue-stats`: PORT and QUEUE may be "all" or empty for every one;
// QUEUE is read as C's atoi reads it (digits after blanks and a sign, the rest ignored); a queue the
// port lacks is the switch's error, printed, and the exit code is still 0.
import { OFPP_NONE } from '../../codecs/openflow/ports.js';
import { dumpTransaction, onSwitch, portArgument, QueryOptions } from './query.js';

const OFPQ_ALL = 0xffffffff;

/** glibc's atoi: strtol (saturating at the long's range) then truncated to 32 bits. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  let v = BigInt(m[1]!);
  if (v > 0x7fffffffffffffffn) v = 0x7fffffffffffffffn;
  if (v < -0x8000000000000000n) v = -0x8000000000000000n;
  return Number(BigInt.asUintN(32, v));
}

const isAll = (s: string | undefined): boolean => s === undefined || s === '' || s.toLowerCase() === 'all';

export async function queueStatsCommand(args: readonly string[], opts: QueryOptions, out: (s: string | Buffer) => void): Promise<number> {
  return onSwitch(args, 'queue-stats', 3, opts, async (conn, sw) => {
    const portNo = isAll(args[1]) ? OFPP_NONE : await portArgument(conn, sw, args[1]!, opts);
    const queueId = isAll(args[2]) ? OFPQ_ALL : atoi(args[2]!);
    await dumpTransaction(conn, { type: 'queue_stats_request', flags: 0, portNo, queueId }, 'queue_stats_reply', out);
  });
}
