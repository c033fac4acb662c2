// A controller running host a of hostAWithRemoteB on a sandboxed ovs-vswitchd, as the controller
// tests that need a converged real host start it.
import { Controller, ControllerOptions } from '../lib/controller/controller.js';
import { TopologyStore } from '../lib/topology/store.js';
import { renderText } from '../pipelines/index.js';
import type { OvsSandbox } from './sandbox.js';
import { hostAWithRemoteB } from './small-topology.js';
import { eventually, freePort } from './wait.js';

/**
 * Starts a controller (listening on a free TCP port, netdev bridges) with hostAWithRemoteB, and
 * resolves once both bridges are connected, vm-a is plugged and tagged, and br-tun holds exactly
 * its rendered flows. `more` adds controller options (audits, callbacks).
 */
export async function startHostA(box: OvsSandbox, pipeline: ControllerOptions['pipeline'],
  more: Partial<ControllerOptions> = {}): Promise<{ readonly ctl: Controller; readonly store: TopologyStore }> {
  const port = await freePort();
  const store = new TopologyStore();
  for (const l of hostAWithRemoteB(box.dbSock)) {
    const r = store.applyLine(l);
    if (!r.ok) throw new Error(`hostAWithRemoteB: ${l}: refused`);
  }
  const ctl = new Controller(store, {
    listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline,
    setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
    ...more,
  });
  await ctl.start();
  await eventually(() => Object.values(ctl.status().hosts[0]?.bridges ?? {}).filter((b) => b.connected).length === 2, 'both bridges to connect');
  await box.vsctl('add-port', 'br-int', 'tap-a', '--', 'set', 'Interface', 'tap-a', 'type=internal', 'external_ids:iface-id=vm-a',
    'external_ids:attached-mac="fa:16:3e:00:00:0a"');
  await eventually(async () => (await box.vsctl('get', 'Port', 'tap-a', 'tag')).trim() === '1', 'tap-a to be tagged');
  await ctl.idle();
  const rendered = (): string => renderText(ctl.agents.get('a')!.state!, 'br-tun', pipeline).join();
  await eventually(async () => (await box.dumpFlowsSorted('br-tun')).join() === rendered(), 'br-tun to converge');
  return { ctl, store };
}
