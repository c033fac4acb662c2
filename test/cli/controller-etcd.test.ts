// `ofctl-ts controller --topology etcd:…` against a real etcd and a sandboxed host: it programs what
// `render` gives for the same lines, follows ports put into etcd (by `ofctl-ts topology put` and by
// POST /events written through to etcd), and refuses to start when etcd does not answer.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdCluster } from '../../testing/etcd.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { ControllerProcess } from '../../testing/controller-process.js';
import { convergedToRender, hostLines, networkLines, plugLocalPorts } from '../../testing/big-topology.js';
import { runCli } from '../../testing/run-cli.js';
import { eventually, freePort } from '../../testing/wait.js';

describe('ofctl-ts controller --topology etcd:…', function () {
  this.timeout(120_000);

  it('programs the flows render gives, and follows ports put into etcd (topology put, POST /events)', async () => {
    const etcd = await EtcdCluster.start();
    const ovs = await OvsSandbox.start({});
    const E = etcd.endpoints[0]!;
    let proc: ControllerProcess | undefined;
    try {
      const [of, http, metrics] = [await freePort(), await freePort(), await freePort()];
      const lines = [...hostLines(`unix:${ovs.dbSock}`), ...networkLines(0, 2)];
      const file = join(ovs.dir, 'topology.jsonl');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const imported = await runCli(['topology', 'import', file, '--etcd', `${E}/test/topo`]);
      expect(imported.code, imported.stderr).to.equal(0);
      await plugLocalPorts(ovs, 0, 3);
      const converged = (all: readonly string[]): Promise<void> => convergedToRender(ovs, file, all, proc!.alive);
      proc = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${of}`, '--topology', `etcd:${E}/test/topo`, '--topology', `http:${http}`,
        '--datapath-type', 'netdev', '--l2pop', '--arp-responder', '--metrics-port', String(metrics)]);
      await converged(lines);

      // A network put by the CLI, its ports posted to the HTTP endpoint (written through to etcd): the
      // local one (plugged already) and a remote one on a host with a tunnel already (a new tunnel's
      // ofport is OVS's choice, which render cannot know).
      const [netLine, local, remote] = networkLines(2, 3);
      const portLines = [local!, JSON.stringify({ ...(JSON.parse(remote!) as object), host: 'r13' })];
      const put = await runCli(['topology', 'put', netLine!, '--etcd', `${E}/test/topo`]);
      expect(put.code, put.stderr).to.equal(0);
      const posted = await fetch(`http://127.0.0.1:${http}/events`, { method: 'POST', body: `${portLines.join('\n')}\n` });
      expect([posted.status, await posted.json()]).to.deep.equal([200, { accepted: portLines.length }]);
      // Answered once applied: GET /topology has them at once.
      expect(await (await fetch(`http://127.0.0.1:${http}/topology`)).text()).to.include('"id":"p200"');
      await converged([...lines, netLine!, ...portLines]);
      const got = await runCli(['topology', 'get', 'port', 'p201', '--etcd', `${E}/test/topo`]);
      expect(JSON.parse(got.stdout)).to.deep.include({ id: 'p201', network: 'net2', host: 'r13' });

      // A bad post: refused with its line, nothing written to etcd.
      const bad = await fetch(`http://127.0.0.1:${http}/events`, { method: 'POST', body: '{"type":"network","id":"net9","vni":5000}\n' });
      expect([bad.status, await bad.json()]).to.deep.equal([400, { accepted: 0, rejected: [{ line: 1, error: 'network net9: VNI 5000 is already network net0\'s' }] }]);
      expect((await runCli(['topology', 'get', 'network', 'net9', '--etcd', `${E}/test/topo`])).code).to.equal(1);

      const st = await runCli(['status', '--metrics-port', String(metrics)]);
      expect(st.stdout).to.match(new RegExp(`^etcd ${E}/test/topo: connected, revision \\d+, 0 relist\\(s\\), watch in step with etcd \\(revision \\d+, checked \\S+\\)$`, 'm'));
      const scraped = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      expect(scraped).to.match(/^# HELP ofctl_ts_etcd_watch_lag_revisions etcd's revision minus the one the watch applied, while etcd holds changes/m);
      expect(scraped).to.match(/^ofctl_ts_etcd_watch_lag_revisions\{watch="topology"\} 0$/m);
      expect(scraped).to.match(/^ofctl_ts_etcd_watch_lag_seconds\{watch="topology"\} 0$/m);

      // etcd lost: status says so and the flows stay; etcd back: the watch resumes where it was.
      const flows = { tun: await ovs.dumpFlowsSorted('br-tun'), int: await ovs.dumpFlowsSorted('br-int') };
      await etcd.kill(0, 'SIGKILL');
      const lost = new RegExp(`^etcd \\S+: DISCONNECTED \\(--topology etcd:${E}/test/topo: etcd could not be reached; the topology stays as it was and the hosts keep their flows; etcd3: .+\\), revision`, 'm');
      await eventually(async () => lost.test((await runCli(['status', '--metrics-port', String(metrics)])).stdout), 'status to say etcd is disconnected', 30_000, proc.alive, 250);
      const said = new RegExp(`^--topology etcd:${E}/test/topo: etcd could not be reached; the topology stays as it is and the hosts keep their flows; the watch resumes where it was once etcd answers \\(etcd3: .+\\)$`);
      expect(proc.lines.some((l) => said.test(l.msg)), proc.log).to.equal(true);
      expect(await ovs.dumpFlowsSorted('br-tun')).to.deep.equal(flows.tun);
      expect(await ovs.dumpFlowsSorted('br-int')).to.deep.equal(flows.int);
      await etcd.restart(0);
      const more = JSON.stringify({ ...(JSON.parse(remote!) as object), id: 'p202', host: 'r26', mac: 'fa:16:3e:00:00:ca', fixedIps: ['10.0.2.12'] });
      expect((await runCli(['topology', 'put', more, '--etcd', `${E}/test/topo`])).code).to.equal(0);
      await converged([...lines, netLine!, ...portLines, more]);
      expect((await runCli(['status', '--metrics-port', String(metrics)])).stdout).to.match(/^etcd \S+: connected, revision \d+, 0 relist\(s\), watch in step with etcd /m);
    } finally {
      const code = await proc?.kill('SIGTERM');
      await ovs.stop();
      await etcd.stop();
      expect(code, proc?.log).to.equal(0);
    }
  });

  it('refuses to start on a rejected value, naming its key and revision (as a file\'s bad line)', async () => {
    const etcd = await EtcdCluster.start();
    try {
      await etcd.ctl('put', '/ofctl-ts/topology/network/n1', '{"type":"network","id":"n1","vni":100}');
      const out = await etcd.ctl('put', '-w', 'json', '/ofctl-ts/topology/port/x', '{"type":"port","id":"x","network":"n2","host":"h1","mac":"fa:16:3e:00:00:01"}');
      const rev = (JSON.parse(out) as { header: { revision: number } }).header.revision;
      const proc = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${await freePort()}`, '--topology', `etcd:${etcd.endpoints[0]}`]);
      expect(await proc.exited).to.equal(1);
      expect(proc.log).to.include(`1 rejected line(s) in the topology; nothing was done on any host (fix them, or start with --allow-partial):\n  etcd:/ofctl-ts/topology/port/x@rev ${rev}: port x: unknown network n2\n`);
    } finally {
      await etcd.stop();
    }
  });

  it('exits 1 with a clear error, touching nothing, when etcd does not answer within --etcd-connect-timeout', async () => {
    const port = await freePort();
    const proc = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${await freePort()}`, '--topology', `etcd:127.0.0.1:${port}`, '--etcd-connect-timeout', '1']);
    expect(await proc.exited).to.equal(1);
    expect(proc.log).to.match(new RegExp(`ofctl-ts: controller: --topology etcd:127\\.0\\.0\\.1:${port}: etcd could not be reached; no answer within 1 s; nothing was done on any host `
      + `\\(etcd3: 14 UNAVAILABLE: No connection established\\. Last error: Error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)\\n`));
    // A replica's --etcd: named as given.
    const replica = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${await freePort()}`, '--etcd', `127.0.0.1:${port}/c1`, '--replica-id', 'r1', '--etcd-connect-timeout', '1']);
    expect(await replica.exited).to.equal(1);
    expect(replica.log).to.match(new RegExp(`ofctl-ts: controller: --etcd 127\\.0\\.0\\.1:${port}/c1: etcd could not be reached; no answer within 1 s; nothing was done on any host \\(etcd3: 14 UNAVAILABLE: .+\\)\\n`));
    // A malformed --etcd: one line, with the cluster's default prefix (not the topology's).
    const bad = await runCli(['controller', '--listen', 'tcp:127.0.0.1:1', '--etcd', 'X', '--replica-id', 'r1']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.equal('ofctl-ts: controller: --etcd X: "X" is not HOST:PORT (endpoints: HOST:PORT[,HOST:PORT…], then /PREFIX if not /ofctl-ts)\n');
    const noId = await runCli(['controller', '--listen', 'tcp:127.0.0.1:1', '--etcd', '127.0.0.1:1', '--replica-id']);
    expect(noId.code).to.equal(1);
    expect(noId.stderr).to.equal('ofctl-ts: controller: --replica-id needs a value: this replica\'s id, unique in the cluster\n');
  });
});
