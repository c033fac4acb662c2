// A bridge name as a TARGET: its OpenFlow management socket in $OVS_RUNDIR, as ovs-ofctl resolves
// it. Kept apart from target.ts (which loads TLS and the session) so that lib/cli/early-dump.ts
// can use it before the CLI loads.
import { statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The socket a name without a scheme names, as ovs-ofctl's open_vconn__() looks: the name itself
 * when a socket is there (`/var/run/openvswitch/br-int.mgmt`), else the mgmt socket of a bridge of
 * that name; undefined when `text` is neither.
 */
export function bridgeMgmtSocket(text: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!text.includes(':') && isSocket(text)) return text;
  return /^[A-Za-z0-9_.-]+$/.test(text) ? join(env.OVS_RUNDIR ?? '/var/run/openvswitch', `${text}.mgmt`) : undefined;
}

function isSocket(path: string): boolean {
  try {
    // No error made for a missing file, the usual case (a bridge name): its stack costs ~1 ms cold.
    return statSync(path, { throwIfNoEntry: false })?.isSocket() ?? false;
  } catch {
    return false;
  }
}
