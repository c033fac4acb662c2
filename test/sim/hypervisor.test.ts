// The simulated hypervisor under the real controller: host setup through the simulated OVSDB
// (bridges, controller, patch and tunnel ports with ofports), switches connecting like
// ovs-vswitchd, and the flows that land equal to the rendered pipelines — the same checks the
// controller's tests make against real OVS, so the scale bench measures the real code paths.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '../../lib/controller/controller.js';
import { SimHypervisor } from '../../testing/sim/hypervisor.js';
import { loadSchemaFile } from '../../testing/sim/ovsdb-schema.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { eventually, freePort } from '../../testing/wait.js';

describe('simulated hypervisors under the real controller', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-sim-'));
  const hvs: SimHypervisor[] = [];
  let ctl: Controller | undefined;
  after(async () => {
    await ctl?.stop();
    await Promise.all(hvs.map((h) => h.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sets up three hosts and converges their flows to the rendered pipelines; changes follow', async () => {
    const schema = loadSchemaFile();
    for (let i = 0; i < 3; i++) {
      hvs.push(await SimHypervisor.start({ name: `h${i}`, schema, ovsdb: `unix:${join(dir, `h${i}.sock`)}`, dpidBase: BigInt(0x100 * (i + 1)),
        switchOptions: { initialBackoffMs: 100, maxBackoffMs: 500 } }));
    }
    const store = new TopologyStore();
    hvs.forEach((h, i) => store.applyLine(JSON.stringify({ type: 'host', name: h.name, tunnelIp: `10.9.0.${i + 1}`, ovsdb: h.ovsdbTarget })));
    store.applyLine('{"type":"network","id":"red","vni":1001}');
    hvs.forEach((h, i) => store.applyLine(JSON.stringify({ type: 'port', id: `vm${i}`, network: 'red', host: h.name, mac: `fa:16:3e:00:00:0${i}`, fixedIps: [`10.1.0.${i + 1}`] })));
    // The VMs run already: their interfaces are on br-int (created by the plug) before the controller starts.
    hvs.forEach((h, i) => h.plug([{ name: `tap-vm${i}`, ifaceId: `vm${i}`, mac: `fa:16:3e:00:00:0${i}` }]));
    const port = await freePort();
    const pipeline = pipelineOptions({ l2pop: true, arpResponder: true, controllerId: 'sim' });
    ctl = new Controller(store, { listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline, setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev' } });
    await ctl.start();
    const c = ctl;
    const converged = (): boolean => hvs.every((h) => {
      const st = c.agents.get(h.name)?.state;
      return !!st && (['br-int', 'br-tun'] as const).every((br) => {
        const sw = h.switches.get(br)?.sw;
        return !!sw && sw.dumpText().sort().join('\n') === renderText(st, br, pipeline).join('\n');
      });
    });
    await eventually(converged, 'the three hosts to converge');
    // Each VM port has its flows on the ofport the simulated ovs-vswitchd gave it.
    const vm0 = hvs[0]!.view().bridges.get('br-int')!.ports.find((p) => p.name === 'tap-vm0')!.interfaces[0]!.ofport!;
    expect(c.agents.get('h0')!.state!.localPorts.map((p) => [p.id, p.ofport])).to.deep.equal([['vm0', vm0]]);
    expect(hvs[0]!.switches.get('br-int')!.sw.dumpText().some((l) => l.includes(`in_port=${vm0},dl_src=fa:16:3e:00:00:00`))).to.equal(true);
    // What OVSDB holds is what a real host would: two tunnel ports with their requested ofports.
    const tunnels = hvs[0]!.db.rows('Interface').filter((r) => r.get('type') === 'vxlan').map((r) => [r.get('name'), r.get('ofport')]).sort();
    expect(tunnels).to.deep.equal([['vxlan-0a090002', 2], ['vxlan-0a090003', 3]]);
    expect(hvs[0]!.switches.get('br-tun')!.sw.dumpText().some((l) => l.includes('dl_dst=fa:16:3e:00:00:02'))).to.equal(true);
    // A port removed on h2: its entries leave h0 and h1.
    store.applyLine('{"type":"remove","kind":"port","id":"vm2"}');
    await eventually(() => !hvs[0]!.switches.get('br-tun')!.sw.dumpText().some((l) => l.includes('fa:16:3e:00:00:02')), 'the entry to leave h0');
    await c.idle();
    expect(converged()).to.equal(true);
    // vm0 unplugged: h0 loses its flows, red's VLAN and its tunnels.
    hvs[0]!.unplug(['tap-vm0']);
    await eventually(() => c.agents.get('h0')!.state!.networks.length === 0, 'h0 to drop red');
    await eventually(converged, 'the hosts to converge again');
    expect(hvs[0]!.switches.get('br-int')!.sw.dumpText().some((l) => l.includes(`in_port=${vm0}`))).to.equal(false);
    await c.idle();
    expect(hvs[0]!.view().bridges.get('br-tun')!.ports.filter((p) => p.interfaces[0]?.type === 'vxlan')).to.deep.equal([]);
  });
});
