// `ofctl-ts controller --etcd … --replica-id … --neutron-rpc …` (issue 18 point 3): two replicas
// as operators run them (the CLI, each in its own process) with the same hosts file and broker,
// against a real neutron-server and RabbitMQ, a real etcd and a real OVS. Both hear Neutron's
// fanouts; only the leader of the host's shard speaks for it: one agent in Neutron's API, one
// consumer on each of the host's queues, heartbeats from the leader only. SIGKILL the leader: the
// other reports for the host within seconds (Neutron never shows it down), a port created right
// after the kill goes ACTIVE with its flows, and no flow is deleted (ovs-ofctl monitor).
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NeutronHostStatus } from '../../lib/neutron/agent.js';
import { ControllerProcess } from '../../testing/controller-process.js';
import { EtcdCluster } from '../../testing/etcd.js';
import { FlowMonitor } from '../../testing/flow-monitor.js';
import { Agent, NeutronApi, Port } from '../../testing/neutron-api.js';
import { NeutronServer } from '../../testing/neutron-server.js';
import { RabbitMq } from '../../testing/rabbitmq.js';
import { runCli } from '../../testing/run-cli.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

const HOST = 'compute-1';
/** Neutron shows an agent down after this long without a heartbeat (75 s by default; the replicas beat every 2 s). */
const AGENT_DOWN_S = 8;

interface Status {
  readonly hosts: readonly { readonly host: string; readonly bridges: Record<string, { readonly role?: string }> }[];
  readonly neutron?: readonly NeutronHostStatus[];
  readonly cluster?: { readonly leads: readonly { readonly shard: number }[] };
}

class Replica {
  constructor(readonly id: string, readonly proc: ControllerProcess, readonly metrics: number) {}
  async status(): Promise<Status | undefined> {
    return fetch(`http://127.0.0.1:${this.metrics}/status`, { signal: AbortSignal.timeout(1000) }).then((r) => r.json() as Promise<Status>, () => undefined);
  }
  /** Master of both bridges of the host. */
  async master(): Promise<boolean> {
    const b = (await this.status())?.hosts.find((h) => h.host === HOST)?.bridges;
    return b?.['br-int']?.role === 'master' && b['br-tun']?.role === 'master';
  }
  async agent(): Promise<NeutronHostStatus | undefined> {
    return (await this.status())?.neutron?.find((n) => n.host === HOST);
  }
}

describe('ofctl-ts controller --etcd --neutron-rpc: replicas speak for their shards on Neutron\'s bus', function () {
  this.timeout(300_000);
  let rabbit: RabbitMq;
  let server: NeutronServer;
  let etcd: EtcdCluster;
  let ovs: OvsSandbox;
  let api: NeutronApi;
  let dir: string;
  const replicas: Replica[] = [];
  let leader: Replica;
  let standby: Replica;
  let network: string;

  before(async () => {
    [rabbit, etcd, ovs] = await Promise.all([RabbitMq.start(), EtcdCluster.start(), OvsSandbox.start({}), NeutronServer.prepare()]);
    server = await NeutronServer.start({ amqpUrl: rabbit.url, agentDownTimeS: AGENT_DOWN_S });
    api = new NeutronApi(server.url);
    dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-neutron-replicas-'));
    const hosts = join(dir, 'hosts.jsonl');
    writeFileSync(hosts, `${JSON.stringify({ type: 'host', name: HOST, tunnelIp: '10.0.0.1', ovsdb: `unix:${ovs.dbSock}` })}\n`);
    const creds = join(dir, 'rabbit');
    writeFileSync(creds, 'guest:guest\n', { mode: 0o600 });
    for (const id of ['r1', 'r2']) {
      const [of, metrics] = [await freePort(), await freePort()];
      replicas.push(new Replica(id, ControllerProcess.start(['--listen', `tcp:127.0.0.1:${of}`, '--etcd', `${etcd.endpoints[0]!}/nr`, '--replica-id', id,
        '--shards', '4', '--neutron-rpc', `amqp://127.0.0.1:${rabbit.port}/`, '--neutron-hosts', hosts, '--neutron-rpc-credentials', creds,
        '--datapath-type', 'netdev', '--report-interval', '2', '--metrics-port', String(metrics), '--inactivity-probe', '2']), metrics));
    }
  });
  after(async () => {
    for (const r of replicas) await r.proc.kill('SIGKILL');
    await ovs?.stop();
    await server?.stop();
    await rabbit?.stop();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const agents = async (): Promise<Agent[]> => (await api.listAgents()).filter((a) => a.host === HOST);
  /** Consumers of each of the host's queues (`<topic>.compute-1`), by queue. */
  const hostConsumers = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const line of (await rabbit.ctl('list_consumers', '-q', '--no-table-headers', 'queue_name')).split('\n')) {
      const q = line.trim();
      if (q.endsWith(`.${HOST}`)) out.set(q, (out.get(q) ?? 0) + 1);
    }
    return out;
  };
  const plug = async (p: Port, tap: string): Promise<void> => {
    await ovs.vsctl('add-port', 'br-int', tap, '--', 'set', 'Interface', tap, 'type=internal',
      `external_ids:iface-id=${p.id}`, `external_ids:attached-mac=${p.mac_address}`, 'external_ids:iface-status=active');
  };
  const newPort = (name: string): Promise<Port> => api.createPort({ network, hostId: HOST, deviceOwner: 'compute:nova', deviceId: `vm-${name}`, name });

  it('both up: one agent in Neutron, alive; only the leader consumes the host\'s queues and reports; a new port goes ACTIVE with its flows', async () => {
    // The shards shared out first (the first replica up leads all four until the membership has
    // been stable for a TTL): then the host's leader stays put while the test watches who reports.
    const leads = async (): Promise<number[]> => Promise.all(replicas.map(async (r) => (await r.status())?.cluster?.leads.length ?? 0));
    await eventually(async () => {
      const l = await leads();
      return l.every((n) => n > 0) && l.reduce((a, n) => a + n, 0) === 4;
    }, 'the four shards shared out between the replicas', 90_000, async () => { for (const r of replicas) await r.proc.alive(); }, 250);
    const masters = async (): Promise<Replica[]> => (await Promise.all(replicas.map(async (r) => ((await r.master()) ? r : undefined)))).filter((r): r is Replica => r !== undefined);
    await eventually(async () => (await masters()).length === 1 && (await (await masters())[0]!.agent())?.ready === true,
      'one replica master of the host, its first sync done', 90_000, async () => { for (const r of replicas) await r.proc.alive(); }, 250);
    [leader] = await masters() as [Replica];
    standby = replicas.find((r) => r !== leader)!;
    await eventually(async () => (await agents()).some((a) => a.alive), `${HOST}'s agent alive in Neutron`, 30_000);
    const listed = await agents();
    expect(listed.map((a) => [a.agent_type, a.alive]), 'one agent for the host').to.deep.equal([['Open vSwitch agent', true]]);

    // From now on: only the leader reports (every 2 s), and each host queue has one consumer (the
    // standby would make two); the standby hears the fanouts all the same.
    const since = Date.now();
    const at = (n: NeutronHostStatus | undefined): number => (n?.lastReport ? Date.parse(n.lastReport.at) : 0);
    await new Promise((r) => setTimeout(r, 5000));
    const [lead, stand] = [await leader.agent(), await standby.agent()];
    expect(at(lead), 'the leader reported since').to.be.greaterThan(since);
    expect(lead?.lastReport?.result).to.be.oneOf(['new', 'alive']);
    expect(at(stand), 'the standby reported nothing since').to.be.lessThan(since);
    expect([stand?.ready, stand?.speaking, lead?.speaking], 'the standby has not synced the host (it writes nothing)').to.deep.equal([false, false, true]);
    const st = await runCli(['status', '--metrics-port', String(standby.metrics)]);
    expect(st.stdout, st.stderr).to.match(/^neutron agent compute-1: standby \(the leader of its shard speaks for it\), /m);
    const consumers = await hostConsumers();
    expect(consumers.size, `the host's queues: ${[...consumers.keys()].join(', ')}`).to.equal(10);
    expect([...consumers.values()].every((n) => n === 1), `one consumer each: ${JSON.stringify([...consumers])}`).to.equal(true);

    const net = await api.createNetwork({ name: 'replicas' });
    network = net.id;
    await api.createSubnet({ network, cidr: '192.168.81.0/24' });
    const p = await newPort('one');
    expect(p['binding:vif_type']).to.equal('ovs');
    await plug(p, 'tapone');
    await eventually(async () => (await api.getPort(p.id)).status === 'ACTIVE', 'the port ACTIVE', 60_000);
    await eventually(async () => (await ovs.dumpFlowsSorted('br-int')).some((l) => l.includes(p.mac_address)), 'its flows on br-int', 10_000);
    expect(at(await standby.agent()), 'still no report from the standby').to.be.lessThan(since);
  });

  it('SIGKILL the leader: the standby reports for the host within seconds (never shown down), a port made right after goes ACTIVE with its flows, no flow deleted', async () => {
    const monitors = await Promise.all(['br-int', 'br-tun'].map((b) => FlowMonitor.start(ovs, b)));
    let down: string | undefined;
    let watching = true;
    // Neutron's view of the agent, every 250 ms, through the failover.
    const watch = (async () => {
      while (watching) {
        const a = await agents().catch(() => undefined);
        if (a && !(a.length === 1 && a[0]!.alive)) down ??= `${new Date().toISOString()}: ${JSON.stringify(a.map((x) => [x.alive, x.heartbeat_timestamp]))}`;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      const before = (await ovs.dumpFlowsSorted('br-int')).length;
      const t0 = Date.now();
      await leader.proc.kill('SIGKILL');
      const p = await newPort('two');
      await plug(p, 'taptwo');
      await eventually(async () => Date.parse((await standby.agent())?.lastReport?.at ?? '0') > t0, 'a report from the other replica', 15_000, undefined, 50);
      const reported = Date.now() - t0;
      await eventually(async () => (await agents()).some((a) => Date.parse(`${a.heartbeat_timestamp.replace(' ', 'T')}Z`) >= Math.floor(t0 / 1000) * 1000 + 1000),
        'Neutron to record a heartbeat after the kill', 10_000);
      await eventually(async () => (await api.getPort(p.id)).status === 'ACTIVE', 'the port made after the kill ACTIVE', 60_000);
      await eventually(async () => (await ovs.dumpFlowsSorted('br-int')).some((l) => l.includes(p.mac_address)), 'its flows on br-int', 10_000);
      const active = Date.now() - t0;
      console.log(`      (measured: the other replica reported ${reported} ms after the SIGKILL; the new port ACTIVE with flows after ${active} ms)`);
      expect(reported, 'a report within a few seconds of the kill').to.be.at.most(6000);
      expect(await standby.master(), 'the other replica master of both bridges').to.equal(true);
      expect(down, 'Neutron never showed the agent down').to.equal(undefined);
      expect(monitors.flatMap((m) => m.events).filter((e) => e.event === 'DELETED'), 'no flow deleted').to.deep.equal([]);
      expect((await ovs.dumpFlowsSorted('br-int')).length).to.be.greaterThan(before);
      const consumers = await hostConsumers();
      expect([...consumers.values()], 'the new leader alone consumes the host\'s queues').to.deep.equal(Array(10).fill(1));
    } finally {
      watching = false;
      await watch;
      for (const m of monitors) m.stop();
    }
  });
});
