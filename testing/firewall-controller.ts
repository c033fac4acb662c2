// One sandboxed host `a` (its own ovsdb-server + ovs-vswitchd) under a controller with Neutron's
// OVS firewall in br-int, for the security-group controller tests: every reconcile result is
// recorded, and the controller can be restarted on the same switch.
import { expect } from 'chai';
import { Controller } from '../lib/controller/controller.js';
import type { ReconcileResult } from '../lib/flowset/reconciler.js';
import { TopologyStore } from '../lib/topology/store.js';
import { pipelineOptions } from '../pipelines/options.js';
import { OvsSandbox } from './sandbox.js';
import { eventually, freePort } from './wait.js';

export interface Reconciled {
  readonly host: string;
  readonly bridge: string;
  readonly result: ReconcileResult;
}

export class FirewallHost {
  readonly pipeline = pipelineOptions({ firewall: 'openvswitch', controllerId: 'sg-test' });
  readonly store = new TopologyStore();
  /** Every reconcile (and audit) result since the last `clear()`. */
  readonly results: Reconciled[] = [];
  ctl!: Controller;

  private constructor(readonly box: OvsSandbox, private readonly port: number) {}

  /** A sandbox and a controller for `lines` (host `a` is added with the sandbox's OVSDB address). */
  static async start(lines: readonly string[]): Promise<FirewallHost> {
    const h = new FirewallHost(await OvsSandbox.start({}), await freePort());
    h.apply(`{"type":"host","name":"a","tunnelIp":"10.250.0.1","ovsdb":"unix:${h.box.dbSock}"}`, ...lines);
    await h.startController();
    return h;
  }

  /** Topology lines, each of which must be accepted. */
  apply(...lines: string[]): void {
    for (const l of lines) {
      const r = this.store.applyLine(l);
      expect(r.ok, `${l}: ${JSON.stringify(r)}`).to.equal(true);
    }
  }

  async startController(): Promise<void> {
    this.ctl = new Controller(this.store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port: this.port }, pipeline: this.pipeline,
      setup: { controllerTarget: `tcp:127.0.0.1:${this.port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
      onReconciled: (host, bridge, result) => this.results.push({ host, bridge, result }),
    });
    await this.ctl.start();
    await eventually(() => {
      const a = this.ctl.status().hosts[0];
      return !!a?.bridges['br-int']!.connected && !!a.bridges['br-tun']!.connected;
    }, 'both bridges of host a to connect');
    await this.ctl.idle();
  }

  async restartController(): Promise<void> {
    await this.ctl.stop();
    this.clear();
    await this.startController();
  }

  clear(): void {
    this.results.length = 0;
  }

  /** The br-int results that changed something since the last `clear()`. */
  brIntChanges(): ReconcileResult[] {
    return this.results.filter((r) => r.bridge === 'br-int' && r.result.flowMods > 0).map((r) => r.result);
  }

  /** br-int's flows as ovs-ofctl dumps them, sorted. */
  brInt(): Promise<string[]> {
    return this.box.dumpFlowsSorted('br-int');
  }

  /** Plugs a VM as Nova does and waits until the controller converged on it. */
  async plug(tap: string, ifaceId: string, mac: string): Promise<void> {
    await this.box.plugVm(tap, ifaceId, mac);
    await eventually(() => !!this.ctl.agents.get('a')!.state?.localPorts.some((p) => p.id === ifaceId), `${ifaceId} to be plugged`);
    await this.ctl.idle();
  }

  async stop(): Promise<void> {
    await this.ctl?.stop();
    await this.box.stop();
  }
}
