// `ofctl-ts controller --neutron-rpc` as an operator runs it (issue 17 point 1): the real CLI as a
// child process against a real neutron-server and RabbitMQ, a hosts file and a credentials file.
// The host registers, a port made through the API goes ACTIVE once plugged, `ofctl-ts status`
// shows the agent, the broker's password never appears in the output, SIGTERM stops it with 0; and
// the operator's slips stop it before anything is touched, each in one line naming its place.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControllerProcess } from '../../testing/controller-process.js';
import { NeutronApi } from '../../testing/neutron-api.js';
import { NeutronServer } from '../../testing/neutron-server.js';
import { listening, RabbitMq } from '../../testing/rabbitmq.js';
import { TestPki } from '../../testing/pki.js';
import { runCli } from '../../testing/run-cli.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

describe('ofctl-ts controller --neutron-rpc, run as an operator would (issue 17)', function () {
  this.timeout(240_000);
  let rabbit: RabbitMq;
  let server: NeutronServer;
  let ovs: OvsSandbox;
  let dir: string;
  let broker: string;
  let hosts: string;
  let creds: string;

  before(async () => {
    rabbit = await RabbitMq.start();
    server = await NeutronServer.start({ amqpUrl: rabbit.url });
    ovs = await OvsSandbox.start({});
    dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-neutron-cli-'));
    broker = `amqp://127.0.0.1:${rabbit.port}/`;
    hosts = join(dir, 'hosts.jsonl');
    writeFileSync(hosts, `${JSON.stringify({ type: 'host', name: 'compute-1', tunnelIp: '10.0.0.1', ovsdb: `unix:${ovs.dbSock}` })}\n`);
    creds = join(dir, 'rabbit');
    writeFileSync(creds, 'guest:guest\n', { mode: 0o600 });
  });
  after(async () => {
    await ovs?.stop();
    await server?.stop();
    await rabbit?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const slips: Array<[string, () => string[], RegExp]> = [
    ['a password in the URL', () => ['--neutron-rpc', `amqp://guest:guest@127.0.0.1:${rabbit.port}/`, '--neutron-hosts', hosts],
      /--neutron-rpc: the URL holds a password, which the process list shows; put USER:PASSWORD in a file/],
    ['no hosts file', () => ['--neutron-rpc', broker], /--neutron-rpc needs --neutron-hosts FILE/],
    ['--topology as well', () => ['--neutron-rpc', broker, '--neutron-hosts', hosts, '--topology', hosts], /--topology and --neutron-rpc/],
    ['a network line in the hosts file', () => {
      const f = join(dir, 'bad-hosts');
      writeFileSync(f, `${JSON.stringify({ type: 'host', name: 'c1', tunnelIp: '10.0.0.1', ovsdb: 'unix:/x' })}\n{"type":"network","id":"n","vni":5}\n`);
      return ['--neutron-rpc', broker, '--neutron-hosts', f];
    }, /bad-hosts:2: a hosts file holds host lines only \(got network\)/],
    ['a host without ovsdb', () => {
      const f = join(dir, 'no-ovsdb');
      writeFileSync(f, '{"type":"host","name":"c1","tunnelIp":"10.0.0.1"}\n');
      return ['--neutron-rpc', broker, '--neutron-hosts', f];
    }, /no-ovsdb:1: host c1 has no "ovsdb" address/],
    ['a missing credentials file', () => ['--neutron-rpc', broker, '--neutron-hosts', hosts, '--neutron-rpc-credentials', join(dir, 'nope')],
      /--neutron-rpc-credentials .*nope: open failed \(No such file or directory\)/],
    ['a wrong password', () => {
      const f = join(dir, 'wrong');
      writeFileSync(f, 'guest:not-the-password\n');
      return ['--neutron-rpc', broker, '--neutron-hosts', hosts, '--neutron-rpc-credentials', f];
    }, /AMQP amqp:\/\/127\.0\.0\.1:\d+\/: cannot connect \(.*ACCESS_REFUSED/],
  ];
  for (const [what, args, re] of slips) {
    it(`stops with one line and exit 1 on ${what}, having touched nothing`, async () => {
      const r = await runCli(['controller', '--listen', `tcp:127.0.0.1:${await freePort()}`, ...args()]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(re);
      expect(r.stderr).not.to.include('not-the-password');
      expect((await ovs.vsctl('list-br')).trim()).to.equal('');
    });
  }

  it('waits for a broker that is not there yet, writing nothing meanwhile, then syncs', async () => {
    const restarting = rabbit.restart(6000);
    await eventually(async () => !(await listening(rabbit.port)), 'the broker to stop');
    const ctl = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${await freePort()}`, '--neutron-rpc', broker, '--neutron-hosts', hosts,
      '--neutron-rpc-credentials', creds, '--datapath-type', 'netdev', '--report-interval', '5']);
    try {
      await ctl.waitForLine((l) => l.msg.startsWith('neutron rpc: cannot reach the broker yet'), 'a retry');
      expect((await ovs.vsctl('list-br')).trim()).to.equal('');
      await restarting;
      await ctl.waitForLine((l) => l.msg.startsWith('neutron agent: first sync done'), 'the first sync once the broker is back');
      await eventually(async () => (await ovs.vsctl('list-br')).trim() === 'br-int\nbr-tun', 'the bridges');
    } finally {
      expect(await ctl.kill('SIGTERM')).to.equal(0);
    }
  });

  it('amqps: with the CA and a client certificate it connects; with another CA it stops at once, naming the broker without credentials', async () => {
    const pki = await TestPki.create();
    const tlsRabbit = await RabbitMq.start({ tls: pki.controller });
    try {
      const url = `amqps://127.0.0.1:${tlsRabbit.tlsPort}/`;
      const tls = ['--neutron-rpc-certificate', pki.switch.certificate, '--neutron-rpc-private-key', pki.switch.privateKey];
      const ctl = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${await freePort()}`, '--neutron-rpc', url, '--neutron-hosts', hosts,
        '--neutron-rpc-credentials', creds, '--neutron-rpc-ca', pki.switch.caCert, ...tls, '--datapath-type', 'netdev', '--rpc-response-timeout', '2']);
      try {
        await ctl.waitForLine((l) => l.msg === 'neutron rpc: connected', 'connected over amqps');
      } finally {
        expect(await ctl.kill('SIGTERM')).to.equal(0);
      }
      const r = await runCli(['controller', '--listen', `tcp:127.0.0.1:${await freePort()}`, '--neutron-rpc', url, '--neutron-hosts', hosts,
        '--neutron-rpc-credentials', creds, '--neutron-rpc-ca', pki.rogueCaCert, ...tls]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(new RegExp(`AMQP amqps://127\\.0\\.0\\.1:${tlsRabbit.tlsPort}/: cannot connect .*certificate`));
      expect(r.stderr).not.to.include('guest');
    } finally {
      await tlsRabbit.stop();
      pki.remove();
    }
  });

  it('registers the host, makes a plugged port ACTIVE, shows the agent in status, never prints the password, stops on SIGTERM', async () => {
    const metricsPort = await freePort();
    const ctl = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${await freePort()}`, '--neutron-rpc', broker, '--neutron-hosts', hosts,
      '--neutron-rpc-credentials', creds, '--firewall', 'openvswitch', '--datapath-type', 'netdev', '--report-interval', '5',
      '--metrics-port', String(metricsPort)]);
    try {
      await ctl.waitForLine((l) => l.msg.startsWith('neutron agent: first sync done'), 'the first sync');
      const api = new NeutronApi(server.url);
      await eventually(async () => (await api.listAgents()).some((a) => a.host === 'compute-1' && a.alive), 'compute-1 alive');
      const net = await api.createNetwork({ name: 'cli' });
      await api.createSubnet({ network: net.id, cidr: '192.168.79.0/24' });
      const p = await api.createPort({ network: net.id, hostId: 'compute-1', deviceOwner: 'compute:nova', deviceId: 'vm-cli' });
      expect(p['binding:vif_type']).to.equal('ovs');
      await ovs.vsctl('add-port', 'br-int', 'tapcli', '--', 'set', 'Interface', 'tapcli', 'type=internal',
        `external_ids:iface-id=${p.id}`, `external_ids:attached-mac=${p.mac_address}`, 'external_ids:iface-status=active');
      await eventually(async () => (await api.getPort(p.id)).status === 'ACTIVE', 'the port ACTIVE', 60_000);
      expect((await ovs.dumpFlowsSorted('br-int')).some((l) => l.includes(p.mac_address))).to.equal(true);
      // Settled: a port_update Neutron sends as the port goes ACTIVE is fetched again meanwhile ("1 waiting").
      const line = /^neutron agent compute-1: synced, 1 plugged, 1 up, 0 waiting; last heartbeat \S+ \((new|alive)\)$/m;
      let st = await runCli(['status', '--metrics-port', String(metricsPort)]);
      await eventually(async () => line.test((st = await runCli(['status', '--metrics-port', String(metricsPort)])).stdout), 'status to show the agent settled');
      expect(st.code, st.stderr).to.equal(0);
      expect(ctl.log).to.include('neutron rpc: connected');
      expect(ctl.log).not.to.include('guest:guest');
    } finally {
      expect(await ctl.kill('SIGTERM')).to.equal(0);
    }
  });
});
