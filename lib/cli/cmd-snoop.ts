// ofctl-ts snoop SWITCH — every OpenFlow message the switch exchanges with its controllers, as it happens.
// Example: ofctl-ts snoop br-int
// As `ovs-ofctl -O OpenFlow13 snoop`: connects to the bridge's BRIDGE.snoop socket in OVS_RUNDIR (or
// the TARGET given) and prints each message on stderr as ofp-print prints it, answering nothing,
// until the switch goes away (exit 1) or SIGINT/SIGTERM (exit 130/143). The controllers must speak
// OpenFlow 1.3: the snoop socket copies their messages in their own version.
import { bridgeMgmtSocket } from '../switch/bridge-socket.js';
import { withTarget } from './common.js';
import { monitorConnection, MonitorOptions } from './monitor.js';
import { switchArgument } from './query.js';

export type SnoopOptions = MonitorOptions;

export async function snoopCommand(args: readonly string[], opts: SnoopOptions, _out: (s: string | Buffer) => void): Promise<number> {
  const sw = switchArgument(args, 'snoop', 1);
  const mgmt = bridgeMgmtSocket(sw, process.env);
  const target = mgmt ? `unix:${mgmt.replace(/\.mgmt$/, '.snoop')}` : sw;
  return withTarget(target, (conn) => monitorConnection(conn, opts), { echoRequests: 'unanswered', echoIntervalMs: 0x7fffffff });
}
