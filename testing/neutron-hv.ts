// A hypervisor for Neutron tests: a sandboxed OVS and an ofctl-ts controller speaking for it on
// Neutron's agent RPC (as `controller --neutron-rpc` wires them: neutronSource, the controller's
// hooks, bind), which a test can stop and start again on the same OVS.
import { expect } from 'chai';
import { Controller } from '../lib/controller/controller.js';
import { createLogger } from '../lib/log.js';
import { neutronSource, NeutronSource } from '../lib/neutron/source.js';
import { HostEvent, parseEventLine } from '../lib/topology/events.js';
import { TopologyStore } from '../lib/topology/store.js';
import type { HostState } from '../lib/state/host-state.js';
import { renderText } from '../pipelines/index.js';
import { PipelineOptions, pipelineOptions } from '../pipelines/options.js';
import type { Port } from './neutron-api.js';
import { OvsSandbox } from './sandbox.js';
import { eventually, freePort } from './wait.js';

export const NEUTRON_PIPELINE: PipelineOptions = pipelineOptions({ l2pop: true, arpResponder: true, firewall: 'openvswitch', controllerId: 'neutron-e2e' });

export class Hypervisor {
  store!: TopologyStore;
  source!: NeutronSource;
  ctl!: Controller;

  private constructor(readonly name: string, readonly tunnelIp: string, readonly ovs: OvsSandbox, private readonly amqpUrl: string) {}

  static async start(name: string, tunnelIp: string, amqpUrl: string): Promise<Hypervisor> {
    const hv = new Hypervisor(name, tunnelIp, await OvsSandbox.start({}), amqpUrl);
    await hv.startController();
    return hv;
  }

  /**
   * A controller for this host, as a fresh process would start (empty topology but the host);
   * resolves once both bridges are connected (`waitForBridges` false: once it has started).
   */
  async startController(waitForBridges = true): Promise<void> {
    const line = JSON.stringify({ type: 'host', name: this.name, tunnelIp: this.tunnelIp, ovsdb: `unix:${this.ovs.dbSock}` });
    this.store = new TopologyStore();
    const log = createLogger(`neutron-${this.name}`, process.env.OFCTL_TS_LOG ?? 'warn');
    const source = await neutronSource(this.store, {
      url: this.amqpUrl, hosts: [parseEventLine(line) as HostEvent], hostLines: [line], hostsFile: `${this.name}.hosts`,
      reportIntervalS: 5, callTimeoutS: 30, arpResponder: true, firewall: 'openvswitch', datapathType: 'netdev', log,
    });
    if (!source) throw new Error('neutronSource gave up without being asked to');
    this.source = source;
    const port = await freePort();
    this.ctl = new Controller(this.store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline: NEUTRON_PIPELINE, log,
      setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
      ...this.source.controllerHooks,
    });
    this.source.bind(this.ctl);
    await this.ctl.start();
    if (waitForBridges) await eventually(() => ['br-int', 'br-tun'].every((b) => this.ctl.status().hosts[0]?.bridges[b]?.connected), `${this.name}'s bridges to connect`);
  }

  async stopController(): Promise<void> {
    await this.source?.stop();
    await this.ctl?.stop();
  }

  async stop(): Promise<void> {
    await this.stopController();
    await this.ovs.stop();
  }

  /** Plugs a VM interface into br-int as Nova's os-vif does (iface-id, attached-mac). */
  async plug(tap: string, p: Port): Promise<void> {
    await this.ovs.vsctl('add-port', 'br-int', tap, '--', 'set', 'Interface', tap, 'type=internal',
      `external_ids:iface-id=${p.id}`, `external_ids:attached-mac=${p.mac_address}`, 'external_ids:iface-status=active', `external_ids:vm-uuid=vm-${tap}`);
  }

  /**
   * Each bridge's flows are exactly what the pipelines render for the host's state. Neutron's casts
   * may still be coming (a port_update after ACTIVE, l2pop's answers): a look (the state, then both
   * bridges dumped) counts only when the state is still the same after the dumps, and looks are
   * taken until one agrees or 10 s have passed; the last settled look is then compared. (Comparing
   * with the state read before the dumps alone raced with a cast landing during them: l2pop's
   * fdb_add programmed a new tunnel between the state's read and br-tun's dump, 1 run in ~15 under
   * a CPU hog.)
   */
  async flowsAreRendered(): Promise<void> {
    const bridges = ['br-int', 'br-tun'] as const;
    const look = async (): Promise<{ state: HostState; dumps: string[][] } | undefined> => {
      await this.ctl.idle();
      const state = this.ctl.agents.get(this.name)!.state!;
      const dumps = [];
      for (const b of bridges) dumps.push(await this.ovs.dumpFlowsSorted(b));
      return this.ctl.agents.get(this.name)!.state === state ? { state, dumps } : undefined;
    };
    const agrees = (l: { state: HostState; dumps: string[][] }): boolean =>
      bridges.every((b, i) => JSON.stringify(l.dumps[i]) === JSON.stringify(renderText(l.state, b, NEUTRON_PIPELINE)));
    let settled: { state: HostState; dumps: string[][] } | undefined;
    await eventually(async () => {
      settled = (await look()) ?? settled;
      return settled !== undefined && agrees(settled);
    }, `${this.name}'s flows to be the rendered ones`, 10_000, undefined, 100).catch(() => undefined);
    expect(settled, `${this.name}: the state moved on during every look for 10 s`).to.not.equal(undefined);
    bridges.forEach((b, i) => expect(settled!.dumps[i], `${this.name} ${b}`).to.deep.equal(renderText(settled!.state, b, NEUTRON_PIPELINE)));
  }
}
