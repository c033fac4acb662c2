// `ofctl-ts controller --audit-interval`: a flow deleted by hand is put back, the repair is logged
// (info: host, bridge, counts; debug: the flow's text), and `ofctl-ts status` shows the observed count
// beside the desired one with the time of the last audit.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSandbox } from '../../testing/sandbox.js';
import { ControllerProcess } from '../../testing/controller-process.js';
import { runCli } from '../../testing/run-cli.js';
import { eventually, freePort } from '../../testing/wait.js';

describe('ofctl-ts controller --audit-interval', function () {
  this.timeout(60_000);

  it('repairs a flow deleted by hand, logs the repair and shows observed flows in status', async () => {
    const ovs = await OvsSandbox.start({});
    await ovs.plugVm('tap1', 'vm1', 'fa:16:3e:00:00:01'); // only a plugged port gets flows
    const [of, metrics] = [await freePort(), await freePort()];
    const topo = join(ovs.dir, 'topology.jsonl');
    writeFileSync(topo, [
      `{"type":"host","name":"h1","tunnelIp":"10.250.0.1","ovsdb":"unix:${ovs.dbSock}"}`,
      '{"type":"host","name":"h2","tunnelIp":"10.250.0.2"}',
      '{"type":"network","id":"red","vni":100}',
      '{"type":"port","id":"vm1","network":"red","host":"h1","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
      '{"type":"port","id":"vm2","network":"red","host":"h2","mac":"fa:16:3e:00:00:02","fixedIps":["10.1.0.2"]}',
      '',
    ].join('\n'));
    const proc = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${of}`, '--topology', topo, '--datapath-type', 'netdev',
      '--metrics-port', String(metrics), '--audit-interval', '1'], { OFCTL_TS_LOG: 'debug' });
    const flow = /table=4, priority=1,tun_id=0x64 actions=/;
    try {
      await eventually(async () => (await ovs.dumpFlowsSorted('br-tun')).some((l) => flow.test(l)), 'br-tun flows', 20_000, proc.alive);
      const since = proc.mark();
      await ovs.ofctl('del-flows', '--strict', ovs.mgmtTarget('br-tun'), 'table=4,priority=1,tun_id=0x64');
      const info = await proc.waitForLine((l) => l.msg === 'drift repaired', 'the repair', since, 5000);
      expect(info).to.include({ host: 'h1', bridge: 'br-tun', missing: 1, changed: 0, extra: 0 });
      const debug = await proc.waitForLine((l) => l.msg === 'drift: flow missing', 'the repaired flow', since, 1000);
      expect(String(debug.flow)).to.match(/^cookie=0x[0-9a-f]+, table=4, priority=1,tun_id=0x64 actions=push_vlan/);
      expect((await ovs.dumpFlowsSorted('br-tun')).filter((l) => flow.test(l))).to.have.length(1);
      const st = await runCli(['status', '--metrics-port', String(metrics)]);
      expect(st.code, st.stderr).to.equal(0);
      const line = /br-tun: connected, (\d+) flows desired, (\d+) observed \(last audit (\S+)\)/.exec(st.stdout);
      expect(line, st.stdout).to.not.equal(null);
      expect(Date.now() - Date.parse(line![3]!)).to.be.within(0, 10_000);
      expect(await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text()).to.match(/ofctl_ts_bridge_flows_observed\{host="h1",bridge="br-tun"\} \d+/);
      // The deletion is repaired: the following audits find every flow there again.
      await eventually(async () => {
        const m = /br-tun: connected, (\d+) flows desired, (\d+) observed/.exec((await runCli(['status', '--metrics-port', String(metrics)])).stdout);
        return m !== null && m[1] === m[2];
      }, 'an audit to observe the desired count', 10_000, proc.alive);
    } finally {
      const code = await proc.kill('SIGTERM');
      await ovs.stop();
      expect(code, proc.log).to.equal(0);
    }
  });

  it('refuses a negative --audit-interval before it listens on anything', async () => {
    const r = await runCli(['controller', '--topology', '/dev/null', '--listen', 'tcp:127.0.0.1:1', '--audit-interval', '-1']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/--audit-interval -1: must be a number of seconds \(0: no audit\)/);
  });
});
