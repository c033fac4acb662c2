// A bridge name as a TARGET: its OpenFlow management socket in $OVS_RUNDIR, as ovs-ofctl resolves
// it. Kept apart from target.ts (which loads TLS and the session) so that lib/cli/early-dump.ts
// can use it before the CLI loads.
import { join } from 'node:path';

/** The mgmt socket of a bridge name, or undefined when `text` is not a bridge name. */
export function bridgeMgmtSocket(text: string, env: NodeJS.ProcessEnv): string | undefined {
  return /^[A-Za-z0-9_.-]+$/.test(text) ? join(env.OVS_RUNDIR ?? '/var/run/openvswitch', `${text}.mgmt`) : undefined;
}
