// `ovs-ofctl monitor BRIDGE watch:!initial`: every flow OVS adds, modifies or deletes on a bridge,
// as it happens. A poll of dump-flows can miss a flow that is absent for a moment; this cannot.
import { ChildProcess, spawn } from 'node:child_process';
import type { OvsSandbox } from './sandbox.js';
import { eventually } from './wait.js';

export interface FlowEvent {
  readonly event: 'ADDED' | 'MODIFIED' | 'DELETED' | 'ABBREV';
  /** table, match and actions: what identifies a flow in the event text (OVS prints no priority there). */
  readonly key: string;
}

/** The same key for a dump-flows line (`cookie=…, table=N, priority=P,match actions=…`). */
export function dumpLineKey(line: string): string {
  const table = /table=(\d+)/.exec(line)?.[1] ?? '0';
  const rest = line.replace(/^\s*cookie=0x[0-9a-f]+, /, '').replace(/^table=\d+, /, '').replace(/^priority=\d+,?/, '').trim();
  return `${table} ${rest}`;
}

export class FlowMonitor {
  private text = '';
  private constructor(private readonly proc: ChildProcess) {
    // ovs-ofctl prints the first reply on stdout and the later updates through its log (stderr).
    for (const s of [proc.stdout!, proc.stderr!]) s.on('data', (d: Buffer) => (this.text += d.toString()));
  }

  static async start(box: OvsSandbox, bridge: string): Promise<FlowMonitor> {
    const proc = spawn('stdbuf', ['-oL', 'ovs-ofctl', '-O', 'OpenFlow13', '--no-names', 'monitor', box.mgmtTarget(bridge), 'watch:!initial'],
      { env: { ...process.env, OVS_RUNDIR: box.dir } });
    const m = new FlowMonitor(proc);
    await eventually(() => m.text.includes('FLOW_MONITOR reply'), `ovs-ofctl monitor ${bridge} to start`);
    return m;
  }

  get events(): FlowEvent[] {
    const out: FlowEvent[] = [];
    for (const l of this.text.split('\n')) {
      // A flow matching everything with no actions prints nothing after its cookie.
      const m = /^\s*event=(\w+)(?: reason=\w+)? table=(\d+) cookie=(?:0x[0-9a-f]+|0) ?(.*)$/.exec(l);
      if (m) out.push({ event: m[1] as FlowEvent['event'], key: `${m[2]} ${m[3]!.trim()}` });
    }
    return out;
  }

  stop(): void {
    this.proc.kill();
  }
}
