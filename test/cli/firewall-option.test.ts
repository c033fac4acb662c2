// --firewall noop|openvswitch on `controller`, `audit` and `pipeline graph` (render has its own
// test): the help says what each driver does and that Neutron's default is noop; the controller
// installs the firewall on a real host, keeping the conjunction blocks recorded on br-int; the audit
// reads that record as the controller does and compares br-int with the driver it is given.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControllerProcess } from '../../testing/controller-process.js';
import { runCli } from '../../testing/run-cli.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

describe('--firewall on controller, audit and pipeline graph', function () {
  this.timeout(60_000);

  it('each command documents it: the two drivers, what they do, Neutron\'s default', async () => {
    for (const cmd of [['controller'], ['audit'], ['pipeline', 'graph']]) {
      const r = await runCli([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).to.equal(0);
      const help = r.stdout.replace(/\s+/g, ' ');
      expect(help, cmd.join(' ')).to.include("--firewall security groups (Neutron's firewall_driver; Neutron's default is noop)");
      expect(help, cmd.join(' ')).to.include('[choices: "noop", "openvswitch"] [default: "noop"]');
    }
  });

  it('pipeline graph --firewall openvswitch draws the firewall\'s conntrack edges; noop does not; another driver is refused', async () => {
    const fw = await runCli(['pipeline', 'graph', '--bridge', 'br-int', '--firewall', 'openvswitch']);
    expect(fw.code, fw.stderr).to.equal(0);
    for (const e of ['t71 -->|ct| t72', 't81 -->|ct| t82', 't82 -->|output| p_VM_ports', 't72 -->|resubmit| t93']) expect(fw.stdout).to.include(e);
    const noop = await runCli(['pipeline', 'graph', '--bridge', 'br-int']);
    expect(noop.code, noop.stderr).to.equal(0);
    expect(noop.stdout).to.not.match(/-->\|\w+\| t7[123]|-->\|\w+\| t8[12]/);
    const bad = await runCli(['pipeline', 'graph', '--bridge', 'br-int', '--firewall', 'iptables']);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.match(/firewall/);
  });

  it('controller --firewall openvswitch installs it on a real host; audit reads the blocks recorded and compares per driver', async () => {
    const ovs = await OvsSandbox.start({});
    try {
      const of = await freePort();
      const topo = join(ovs.dir, 'topology.jsonl');
      const rules = [
        { direction: 'egress', ethertype: 'IPv4' },
        { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80, remoteGroupId: 'web' },
      ];
      writeFileSync(topo, [
        `{"type":"host","name":"a","tunnelIp":"10.250.0.1","ovsdb":"unix:${ovs.dbSock}"}`,
        '{"type":"host","name":"r","tunnelIp":"10.250.0.2"}',
        '{"type":"network","id":"net1","vni":1001}',
        JSON.stringify({ type: 'securityGroup', id: 'web', rules }),
        '{"type":"port","id":"vm-a1","network":"net1","host":"a","mac":"fa:16:3e:00:00:0b","fixedIps":["10.0.0.11"],"securityGroups":["web"]}',
        '{"type":"port","id":"vm-r1","network":"net1","host":"r","mac":"fa:16:3e:00:00:15","fixedIps":["10.0.0.21"],"securityGroups":["web"]}',
        '',
      ].join('\n'));
      await ovs.plugVm('tap-a1', 'vm-a1', 'fa:16:3e:00:00:0b');
      // An earlier run recorded web's block at 40 (numbered afresh it would be 8): kept.
      await ovs.vsctl('set', 'Bridge', 'br-int', 'external_ids:ofctl-ts-conj-bases="{\\"ingress/IPv4/web/web\\":40}"');
      const proc = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${of}`, '--topology', topo, '--datapath-type', 'netdev',
        '--firewall', 'openvswitch', '--controller-id', 'fw']);
      try {
        await eventually(async () => (await ovs.dumpFlowsSorted('br-int')).some((l) => /table=82, .*conj_id=4[0-7],/.test(l)), 'the firewall on br-int', 20_000, proc.alive);
      } finally {
        expect(await proc.kill('SIGTERM')).to.equal(0);
      }
      const flows = await ovs.dumpFlowsSorted('br-int');
      expect(flows.some((l) => /conjunction\(4[0-7],1\/2\)/.test(l) && l.includes('nw_src=10.0.0.21'))).to.equal(true);
      expect(flows.some((l) => /conj_id=([89]|1[0-5]),/.test(l))).to.equal(false);
      const audit = (...more: string[]): ReturnType<typeof runCli> => runCli(['audit', '--topology', topo, '--host', 'a', '--controller-id', 'fw', '--bridge', 'br-int', ...more]);
      const same = await audit('--firewall', 'openvswitch');
      expect(same.code, same.stdout + same.stderr).to.equal(0);
      expect(same.stdout).to.match(/^host a bridge br-int: equal, \d+ flows/);
      // Audited for noop, the firewall's flows are extra and br-int's own anti-spoofing missing.
      const noop = await audit();
      expect(noop.code, noop.stderr).to.equal(1);
      expect(noop.stdout).to.match(/^host a bridge br-int: \d+ missing, \d+ extra/);
      expect(noop.stdout).to.match(/^\+table=82 .*conj_id=4[0-7],/m);
      // A record that cannot be read: the host is not audited against guessed ids.
      await ovs.vsctl('set', 'Bridge', 'br-int', 'external_ids:ofctl-ts-conj-bases=garbage');
      const bad = await audit('--firewall', 'openvswitch');
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.include('host a: br-int external_ids:ofctl-ts-conj-bases: conjunction blocks "garbage": not JSON');
    } finally {
      await ovs.stop();
    }
  });
});
