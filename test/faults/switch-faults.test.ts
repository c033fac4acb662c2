// Faults on the OpenFlow side of a running controller with a real host: a switch that stops
// answering echo (ovs-vswitchd frozen with SIGSTOP) is dropped and, once it runs again and
// reconnects, re-established with its flows intact and nothing resent; a peer that sends garbage to
// the controller's listener is closed while the real switch's sessions carry on.
import { expect } from 'chai';
import { connect } from 'node:net';
import { Controller } from '../../lib/controller/controller.js';
import type { ReconcileResult } from '../../lib/flowset/reconciler.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { renderText } from '../../pipelines/index.js';
import { pipelineOptions } from '../../pipelines/options.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';
import { hostAWithRemoteB } from '../../testing/small-topology.js';

describe('fault: switches that stop answering or send garbage', function () {
  this.timeout(90_000);
  let ovs: OvsSandbox;
  let ctl: Controller;
  let port: number;
  const store = new TopologyStore();
  const pipeline = pipelineOptions({ l2pop: true, arpResponder: true, controllerId: 'faults' });
  const results: Array<[string, ReconcileResult]> = [];
  let vswitchdPid = 0;
  const bridges = (): Record<string, { connected: boolean }> => ctl.status().hosts[0]!.bridges;

  before(async () => {
    ovs = await OvsSandbox.start({});
    port = await freePort();
    for (const l of hostAWithRemoteB(ovs.dbSock)) expect(store.applyLine(l).ok).to.equal(true);
    ctl = new Controller(store, {
      listen: { kind: 'tcp', host: '127.0.0.1', port }, pipeline,
      // Short probes so a frozen switch is noticed within a second or two.
      session: { echoIntervalMs: 300, requestTimeoutMs: 1000 },
      setup: { controllerTarget: `tcp:127.0.0.1:${port}`, datapathType: 'netdev', maxBackoffMs: 1000 },
      onReconciled: (_h, br, r) => results.push([br, r]),
    });
    await ovs.plugVm('tap-a', 'vm-a', 'fa:16:3e:00:00:0a');
    await ctl.start();
    await eventually(() => ctl.status().hosts.length === 1 && bridges()['br-int']!.connected && bridges()['br-tun']!.connected, 'both bridges to connect');
    await eventually(() => ctl.agents.get('a')!.state?.localPorts.length === 1, 'vm-a to be provisioned');
    await ctl.idle();
    vswitchdPid = ovs.vswitchdPid();
  });
  after(async () => {
    if (vswitchdPid) process.kill(vswitchdPid, 'SIGCONT');
    await ctl?.stop();
    await ovs?.stop();
  });

  it('drops a switch that stops answering echo, and re-establishes it when it comes back', async () => {
    const flows = await ovs.dumpFlowsSorted('br-tun');
    expect(flows).to.deep.equal(renderText(ctl.agents.get('a')!.state!, 'br-tun', pipeline));
    process.kill(vswitchdPid, 'SIGSTOP');
    try {
      await eventually(() => !bridges()['br-tun']!.connected && !bridges()['br-int']!.connected, 'the frozen switch to be dropped', 10_000);
    } finally {
      process.kill(vswitchdPid, 'SIGCONT');
    }
    results.length = 0;
    await eventually(() => bridges()['br-tun']!.connected && bridges()['br-int']!.connected, 'the switch to reconnect', 20_000);
    await ctl.idle();
    // Re-established: reconciled again, nothing needed resending, the flows are as they were.
    await eventually(() => results.some(([br]) => br === 'br-tun'), 'a reconcile of br-tun after the reconnect');
    expect(results.reduce((n, [, r]) => n + r.flowMods, 0)).to.equal(0);
    expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal(flows);
  });

  it('closes a peer that sends garbage; the real switch carries on and keeps converging', async () => {
    const closed = await new Promise<boolean>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        // An OpenFlow 1.3 HELLO, then a header announcing 4 bytes (less than a header): malformed.
        s.write(Buffer.from('0400000800000001' + '0400000400000002' + 'deadbeef'.repeat(8), 'hex'));
      });
      s.on('data', () => undefined);
      s.on('close', () => resolve(true));
      s.on('error', reject);
      setTimeout(() => resolve(false), 5000).unref();
    });
    expect(closed, 'the controller closed the garbage session').to.equal(true);
    expect(bridges()['br-tun']!.connected && bridges()['br-int']!.connected).to.equal(true);
    // The real host still gets changes: a port on b in a new network brings its flows.
    store.applyLine('{"type":"network","id":"blue","vni":1002}');
    store.applyLine('{"type":"port","id":"vm-a2","network":"blue","host":"a","mac":"fa:16:3e:00:00:1a","fixedIps":["10.252.0.1"]}');
    store.applyLine('{"type":"port","id":"vm-b2","network":"blue","host":"b","mac":"fa:16:3e:00:00:1b","fixedIps":["10.252.0.2"]}');
    await ovs.plugVm('tap-a2', 'vm-a2');
    await eventually(async () => (await ovs.dumpFlowsSorted('br-tun')).some((l) => l.includes('dl_dst=fa:16:3e:00:00:1b')), 'the new flows on br-tun');
    await ctl.idle();
    expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal(renderText(ctl.agents.get('a')!.state!, 'br-tun', pipeline));
  });
});
