// A simulated hypervisor for scale benches: a simulated ovsdb-server (the real Open_vSwitch schema)
// and, in ovs-vswitchd's role, what the controller waits for after each OVSDB transaction: a
// datapath id per bridge, an ofport per interface (ofport_request honoured, LOCAL = 65534),
// cur_cfg caught up with next_cfg, and one simulated OpenFlow switch per bridge that has a
// controller, connecting to each of its controllers as ovs-vswitchd does.
import type { Logger } from 'pino';
import { fromSet, Json, optionalInt, uuidOf } from '../../codecs/ovsdb/protocol.js';
import { VSWITCH_TABLES, vswitchView, VswitchView } from '../../lib/ovsdb/vswitch.js';
import { OvsdbDatabase, rowToJson, RowView } from './ovsdb-db.js';
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
  /** The bridge's controller targets, sorted. */
  targets: readonly string[];
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

  /**
   * Nova plugging VM interfaces into br-int, all in one transaction, as `ovs-vsctl --may-exist add-br
   * br-int -- add-port br-int NAME -- set Interface NAME type=internal external_ids:iface-id=ID
   * external_ids:attached-mac=MAC` would (br-int is created if missing); the simulated
   * ovs-vswitchd then numbers them.
   */
  plug(vms: ReadonlyArray<{ readonly name: string; readonly ifaceId: string; readonly mac: string }>): void {
    const ops: Json[] = [];
    const port = (k: string, name: string, iface: Record<string, Json>): Json => {
      ops.push(
        { op: 'insert', table: 'Interface', 'uuid-name': `i${k}`, row: { name, ...iface } },
        { op: 'insert', table: 'Port', 'uuid-name': `p${k}`, row: { name, interfaces: ['named-uuid', `i${k}`] } },
      );
      return ['named-uuid', `p${k}`];
    };
    const ports = vms.map((vm, k) => port(String(k), vm.name, {
      type: 'internal', external_ids: ['map', [['iface-id', vm.ifaceId], ['attached-mac', vm.mac]]],
    }));
    if (this.db.rows('Bridge').some((b) => b.get('name') === 'br-int')) {
      ops.push({ op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-int']], mutations: [['ports', 'insert', ['set', ports]]] });
    } else {
      ports.push(port('local', 'br-int', { type: 'internal' }));
      ops.push(
        { op: 'insert', table: 'Bridge', 'uuid-name': 'br', row: { name: 'br-int', ports: ['set', ports] } },
        { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'br']]]]] },
      );
    }
    this.commit(ops, 'plug');
  }

  /** Nova unplugging VM interfaces (`ovs-vsctl del-port br-int NAME`), in one transaction. */
  unplug(names: readonly string[]): void {
    const uuids = this.db.rows('Port').filter((p) => names.includes(String(p.get('name')))).map((p) => ['uuid', p.uuid]);
    this.commit([{ op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-int']], mutations: [['ports', 'delete', ['set', uuids]]] }], 'unplug');
  }

  /** What the controller's replica of this hypervisor's OVSDB shows (for a bench's expectations). */
  view(): VswitchView {
    return vswitchView(new Map(Object.keys(VSWITCH_TABLES).map((t) => {
      const ts = this.o.schema.tables.get(t)!;
      return [t, new Map([...this.db.tableRows(t)].map(([u, r]) => [u, rowToJson(ts, r)]))];
    })));
  }

  private commit(ops: Json[], what: string): void {
    const err = this.db.transact(ops).find((r) => r !== null && typeof r === 'object' && !Array.isArray(r) && 'error' in r);
    if (err) throw new Error(`${this.name}: ${what} failed: ${JSON.stringify(err)}`);
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

  /**
   * One simulated switch per bridge that has had a controller, connected to every one of its
   * Controller rows (OVS 3.1's connmgr): rows added or removed later open or close their connection
   * and leave the others and the flows alone; zero to some controllers or back flushes the table
   * (SimSwitch.setControllers). A switch lives as long as its bridge, keeping its generation.
   */
  private syncSwitches(bridges: readonly RowView[]): void {
    const wanted = new Map<string, { targets: string[]; dpid: bigint }>();
    for (const br of bridges) {
      const targets = fromSet(br.get('controller')).map((c) => this.db.row('Controller', uuidOf(c)!))
        .map((c) => (c ? str(c.get('target')) : undefined)).filter((t): t is string => t !== undefined).sort();
      const dpid = str(br.get('datapath_id'));
      if (dpid && (targets.length > 0 || this.switches.has(String(br.get('name'))))) wanted.set(String(br.get('name')), { targets, dpid: BigInt(`0x${dpid}`) });
    }
    for (const [name, b] of this.switches) {
      const w = wanted.get(name);
      if (!w) {
        void b.sw.stop();
        this.switches.delete(name);
      } else if (w.targets.join() !== b.targets.join()) {
        b.sw.setControllers(w.targets);
        b.targets = w.targets;
      }
    }
    for (const [name, w] of wanted) {
      if (this.switches.has(name)) continue;
      const sw = new SimSwitch({
        ...this.o.switchOptions, datapathId: w.dpid, controller: w.targets, name,
        ...(this.o.logger ? { logger: this.o.logger } : {}),
      });
      this.switches.set(name, { targets: w.targets, sw });
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
