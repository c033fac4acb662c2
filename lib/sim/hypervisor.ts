// A simulated hypervisor for scale benches: a simulated ovsdb-server (the real Open_vSwitch schema)
// and, in ovs-vswitchd's role, what the controller waits for after each OVSDB transaction: a
// datapath id per bridge, an ofport per interface (ofport_request honoured, LOCAL = 65534),
// cur_cfg caught up with next_cfg, and one simulated OpenFlow switch per bridge that has a
// controller, connecting to it as ovs-vswitchd does.
import type { Logger } from 'pino';
import { fromSet, Json, optionalInt, uuidOf } from '../../codecs/ovsdb/protocol.js';
import { OvsdbDatabase, RowView } from './ovsdb-db.js';
import type { DbSchema } from './ovsdb-schema.js';
import { OvsdbSimServer } from './ovsdb-server.js';
import { SimSwitch, SimSwitchOptions } from './sim-switch.js';

const OFPP_LOCAL = 65534;

export interface SimHypervisorOptions {
  readonly name: string;
  /** The real vswitch schema, parsed once and shared by all hypervisors (loadSchemaFile()). */
  readonly schema: DbSchema;
  /** Where the simulated ovsdb-server listens: `unix:PATH` or `tcp:IP:PORT` (0: any free port). */
  readonly ovsdb: string;
  /** Datapath ids of this hypervisor's bridges: dpidBase, dpidBase+1, … in order of creation. */
  readonly dpidBase: bigint;
  /** Passed to every simulated switch (backoff, probes, logger). */
  readonly switchOptions?: Omit<SimSwitchOptions, 'datapathId' | 'controller' | 'name' | 'ports'>;
  readonly logger?: Logger;
}

interface BridgeSwitch {
  readonly target: string;
  readonly sw: SimSwitch;
}

export class SimHypervisor {
  readonly db: OvsdbDatabase;
  /** The OVSDB address the controller uses (known once started). */
  ovsdbTarget = '';
  /** Bridge name → its simulated switch. */
  readonly switches = new Map<string, BridgeSwitch>();
  private readonly server: OvsdbSimServer;
  private nextDpid: bigint;
  private passScheduled = false;
  private stopped = false;
  /** Called for every switch this hypervisor creates (a bench subscribes to its events). */
  onSwitch: ((bridge: string, sw: SimSwitch) => void) | undefined;

  private constructor(readonly o: SimHypervisorOptions) {
    this.db = new OvsdbDatabase(o.schema);
    this.server = new OvsdbSimServer(this.db, { tcpInactivityProbeMs: 0 });
    this.nextDpid = o.dpidBase;
    // `ovs-vsctl init`: the root row exists before anyone connects.
    this.db.transact([{ op: 'insert', table: 'Open_vSwitch', row: {} }]);
    this.db.onCommit(() => this.schedulePass());
  }

  static async start(o: SimHypervisorOptions): Promise<SimHypervisor> {
    const h = new SimHypervisor(o);
    h.ovsdbTarget = await h.server.listen(o.ovsdb);
    return h;
  }

  get name(): string {
    return this.o.name;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.switches.values()].map((b) => b.sw.stop()));
    this.switches.clear();
    await this.server.close();
  }

  /** ovs-vswitchd reacts to a commit a moment later, once for a burst of commits. */
  private schedulePass(): void {
    if (this.passScheduled || this.stopped) return;
    this.passScheduled = true;
    setImmediate(() => {
      this.passScheduled = false;
      if (!this.stopped) this.vswitchdPass();
    });
  }

  private vswitchdPass(): void {
    const ops: Json[] = [];
    const bridges = this.db.rows('Bridge');
    for (const br of bridges) {
      if (str(br.get('datapath_id')) === undefined) {
        ops.push({ op: 'update', table: 'Bridge', where: [['_uuid', '==', ['uuid', br.uuid]]], row: { datapath_id: (this.nextDpid++).toString(16).padStart(16, '0') } });
      }
      ops.push(...this.assignOfports(br));
    }
    const root = this.db.rows('Open_vSwitch')[0];
    if (root && root.get('cur_cfg') !== root.get('next_cfg')) {
      ops.push({ op: 'update', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', root.uuid]]], row: { cur_cfg: root.get('next_cfg') } });
    }
    if (ops.length > 0) {
      const res = this.db.transact(ops);
      const err = res.find((r) => r !== null && typeof r === 'object' && !Array.isArray(r) && 'error' in r);
      if (err) this.o.logger?.error({ hypervisor: this.name, err }, 'simulated vswitchd write failed');
      return; // the commit schedules another pass, which starts the switches with the final rows
    }
    this.syncSwitches(bridges);
  }

  /** Ofports for a bridge's interfaces that have none: LOCAL for the bridge's own, else the request or the lowest free. */
  private assignOfports(br: RowView): Json[] {
    const ifaces: RowView[] = [];
    for (const p of fromSet(br.get('ports'))) {
      const port = this.db.row('Port', uuidOf(p)!);
      for (const i of fromSet(port?.get('interfaces'))) {
        const iface = this.db.row('Interface', uuidOf(i)!);
        if (iface) ifaces.push(iface);
      }
    }
    const taken = new Set(ifaces.map((i) => optionalInt(i.get('ofport'))).filter((n): n is number => n !== undefined));
    const ops: Json[] = [];
    let next = 1;
    for (const iface of ifaces) {
      if (optionalInt(iface.get('ofport')) !== undefined) continue;
      const req = optionalInt(iface.get('ofport_request'));
      let ofport: number;
      if (iface.get('name') === br.get('name')) ofport = OFPP_LOCAL;
      else if (req !== undefined && !taken.has(req)) ofport = req;
      else {
        while (taken.has(next)) next++;
        ofport = next;
      }
      taken.add(ofport);
      ops.push({ op: 'update', table: 'Interface', where: [['_uuid', '==', ['uuid', iface.uuid]]], row: { ofport } });
    }
    return ops;
  }

  /** One simulated switch per bridge with a controller; gone with the bridge or its controller. */
  private syncSwitches(bridges: readonly RowView[]): void {
    const wanted = new Map<string, { target: string; dpid: bigint }>();
    for (const br of bridges) {
      const ctl = fromSet(br.get('controller')).map((c) => this.db.row('Controller', uuidOf(c)!)).find((c) => c !== undefined);
      const target = ctl ? str(ctl.get('target')) : undefined;
      const dpid = str(br.get('datapath_id'));
      if (target && dpid) wanted.set(String(br.get('name')), { target, dpid: BigInt(`0x${dpid}`) });
    }
    for (const [name, b] of this.switches) {
      if (wanted.get(name)?.target === b.target) continue;
      void b.sw.stop();
      this.switches.delete(name);
    }
    for (const [name, w] of wanted) {
      if (this.switches.has(name)) continue;
      const sw = new SimSwitch({
        ...this.o.switchOptions, datapathId: w.dpid, controller: w.target, name,
        ...(this.o.logger ? { logger: this.o.logger } : {}),
      });
      this.switches.set(name, { target: w.target, sw });
      this.onSwitch?.(name, sw);
      sw.start();
    }
  }
}

function str(v: Json | undefined): string | undefined {
  if (typeof v === 'string') return v;
  const s = fromSet(v);
  return s.length === 1 && typeof s[0] === 'string' ? s[0] : undefined;
}
