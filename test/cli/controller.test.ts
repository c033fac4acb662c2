// `ofctl-ts controller` as an operator runs it: a topology file (followed), a real host, the
// metrics/status endpoint, `ofctl-ts status`, and a clean exit on SIGTERM.
import { expect } from 'chai';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSandbox } from '../ovs/sandbox.js';
import { ControllerProcess } from './controller-process.js';
import { runCli } from './run-cli.js';
import { eventually, freePort } from '../ovs/wait.js';

describe('ofctl-ts controller (the command)', function () {
  this.timeout(60_000);

  it('programs a host from a followed topology file, reports status and metrics, exits cleanly', async () => {
    const ovs = await OvsSandbox.start({});
    const [of, metrics] = [await freePort(), await freePort()];
    const topo = join(ovs.dir, 'topology.jsonl');
    writeFileSync(topo, [
      `{"type":"host","name":"h1","tunnelIp":"10.250.0.1","ovsdb":"unix:${ovs.dbSock}"}`,
      '{"type":"host","name":"h2","tunnelIp":"10.250.0.2"}',
      '{"type":"network","id":"red","vni":100}',
      '{"type":"port","id":"vm1","network":"red","host":"h1","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
      '',
    ].join('\n'));
    // The VM runs already (its port plugged into br-int, which the controller then takes over).
    await ovs.plugVm('tap1', 'vm1', 'fa:16:3e:00:00:01');
    const proc = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${of}`, '--topology', topo,
      '--datapath-type', 'netdev', '--l2pop', '--arp-responder', '--metrics-port', String(metrics)]);
    const alive = proc.alive;
    try {
      await eventually(async () => (await ovs.dumpFlowsSorted('br-tun')).some((l) => l.includes('tun_id=0x64')), 'br-tun flows', 20_000, alive);
      // A line appended to the file is applied: a remote port on h2 brings its tunnel and l2pop flows.
      appendFileSync(topo, '{"type":"port","id":"vm2","network":"red","host":"h2","mac":"fa:16:3e:00:00:02","fixedIps":["10.1.0.2"]}\n');
      await eventually(async () => (await ovs.dumpFlowsSorted('br-tun')).some((l) => l.includes('dl_dst=fa:16:3e:00:00:02')), 'the l2pop flow', 20_000, alive);
      expect((await ovs.vsctl('list-ports', 'br-tun')).trim().split('\n')).to.deep.equal(['patch-int', 'vxlan-0afa0002']);
      // A bad line is rejected with its reason and changes nothing.
      appendFileSync(topo, '{"type":"network","id":"blue","vni":0}\n');
      const st = await runCli(['status', '--metrics-port', String(metrics)]);
      expect(st.code, st.stderr).to.equal(0);
      expect(st.stdout).to.match(/host h1: ovsdb connected/);
      expect(st.stdout).to.match(/br-tun: connected, \d+ flows/);
      await eventually(async () => (await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text()).includes('ofctl_ts_topology_events{outcome="rejected"} 1'), 'the rejection to be counted');
      const m = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      expect(m).to.match(/ofctl_ts_sessions 2/);
      expect(m).to.match(/ofctl_ts_bridge_flows\{host="h1",bridge="br-tun"\} \d+/);
      expect(m).to.match(/ofctl_ts_reconcile_seconds_count\{host="h1",bridge="br-tun"\} \d+/);
    } finally {
      const code = await proc.kill('SIGTERM');
      await ovs.stop();
      expect(code, proc.log).to.equal(0);
    }
    expect(proc.log).to.match(/vni\\?" must be an integer in 1\.\.16777215/);
  });

  it('refuses a non-positive --inactivity-probe before it listens on anything', async () => {
    const r = await runCli(['controller', '--topology', '/dev/null', '--listen', 'tcp:127.0.0.1:1', '--inactivity-probe', '0']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/--inactivity-probe 0: must be a positive number of seconds/);
    expect(r.stderr).to.not.match(/topology source/);
  });
});
