// The Neutron rig itself: a real Debian neutron-server (21.0.0 Zed; noauth, sqlite, ML2 vxlan with
// openvswitch and l2population) on a private RabbitMQ, driven through its REST API and, standing in
// for an OVS agent, through lib/neutron/rpc with the agent's own calls and arguments (as
// neutron/agent/rpc.py and the OVS agent send them). One broker and one server for the whole file;
// the cases run in order on the same network and port.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonObject } from '../../codecs/oslo/envelope.js';
import { createLogger } from '../../lib/log.js';
import { NeutronRpc } from '../../lib/neutron/rpc.js';
import { Network, NeutronApi, NeutronApiError, Port, Subnet } from '../../testing/neutron-api.js';
import { NeutronServer } from '../../testing/neutron-server.js';
import { procStat } from '../../testing/proc.js';
import { RabbitMq } from '../../testing/rabbitmq.js';
import { eventually } from '../../testing/wait.js';

const HOST = 'hv1';
const TUNNEL_IP = '10.0.0.1';
const AGENT_ID = `ovs-agent-${HOST}`; // the OVS agent's agent_id: 'ovs-agent-%s' % host
/** neutron_lib.context.get_admin_context_without_session(), what the agent sends as context. */
const CONTEXT: JsonObject = { is_admin: true, is_admin_project: true, read_only: false, show_deleted: false, roles: [], user_id: null, project_id: null };
const CALL = { timeoutMs: 30_000, context: CONTEXT };

/** The OVS agent's agent_state (ovs_neutron_agent.py), the parts ML2's openvswitch driver reads. */
function ovsAgentState(host: string, tunnelIp: string): JsonObject {
  return {
    binary: 'neutron-openvswitch-agent', host, topic: 'N/A', agent_type: 'Open vSwitch agent', start_flag: true,
    configurations: {
      tunnel_types: ['vxlan'], tunneling_ip: tunnelIp, l2_population: true, arp_responder_enabled: true,
      integration_bridge: 'br-int', ovs_hybrid_plug: false, datapath_type: 'system', bridge_mappings: {},
    },
  };
}

/** neutron.api.rpc.callbacks.resources.LOCAL_RESOURCE_VERSIONS of 21.0.0, sent in the agent's first report. */
const RESOURCE_VERSIONS: JsonObject = {
  QosPolicy: '1.10', Trunk: '1.1', SubPort: '1.0', Port: '1.7', Subnet: '1.1', Network: '1.1', SecurityGroup: '1.5',
  SecurityGroupRule: '1.2', Log: '1.0', PortForwarding: '1.3', ConntrackHelper: '1.0', AddressGroup: '1.2',
  LocalIPAssociation: '1.0', NDPProxy: '1.0', Agent: '1.1',
};

/** datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%S.%f'): UTC, microseconds, no zone. */
function neutronTime(d = new Date()): string {
  return `${d.toISOString().slice(0, -1)}000`;
}

/** A process's start time (field 22 of /proc/PID/stat), or undefined once it is gone. */
function startTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

describe('testing/neutron-server: a real neutron-server on a private RabbitMQ', function () {
  this.timeout(120_000);
  let rabbit: RabbitMq;
  let server: NeutronServer;
  let api: NeutronApi;
  let rpc: NeutronRpc;
  let network: Network;
  let subnet: Subnet;
  let port: Port;

  before(async () => {
    // The database needs no broker: built while RabbitMQ starts.
    [rabbit] = await Promise.all([RabbitMq.start(), NeutronServer.prepare()]);
    server = await NeutronServer.start({ amqpUrl: rabbit.url });
    api = new NeutronApi(server.url);
    rpc = await NeutronRpc.connect({ url: rabbit.url, log: createLogger('test', 'warn') });
    // Figures for the report.
    console.log(`      rabbitmq: AMQP after ${rabbit.startMs} ms; neutron-server: API after ${server.startMs} ms `
      + `(database ${server.dbMs} ms), ${server.pids().length} processes, RSS ${(server.rssBytes() / 2 ** 20).toFixed(0)} MiB`);
  });

  after(async () => {
    await rpc?.close();
    await server?.stop();
    await rabbit?.stop();
  });

  it('answers its API; a network gets a vxlan segment with a VNI from vni_ranges 1000:1999', async () => {
    network = await api.createNetwork({ name: 'net1' });
    expect(network['provider:network_type']).to.equal('vxlan');
    expect(network['provider:segmentation_id']).to.be.within(1000, 1999);
    expect(network.mtu).to.equal(1450);
    subnet = await api.createSubnet({ network: network.id, cidr: '192.168.10.0/24' });
    expect(subnet.network_id).to.equal(network.id);
  });

  it('refuses what Neutron refuses, with its status and message', async () => {
    const err = await api.getPort('00000000-0000-0000-0000-000000000000').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(NeutronApiError);
    expect((err as NeutronApiError).status).to.equal(404);
    expect((err as NeutronApiError).type).to.equal('PortNotFound');
  });

  it('a port bound to hv1 while no agent reports from hv1 ends binding_failed', async () => {
    port = await api.createPort({ network: network.id, hostId: HOST, deviceOwner: 'compute:nova', deviceId: 'vm1' });
    expect(port['binding:host_id']).to.equal(HOST);
    expect(port['binding:vif_type']).to.equal('binding_failed');
    expect(port.fixed_ips[0]?.subnet_id).to.equal(subnet.id);
  });

  it('report_state (q-reports-plugin 1.2) registers hv1 as an alive Open vSwitch agent; the port then binds as ovs', async () => {
    // The agent's first call, before it reports.
    expect(await rpc.call('q-reports-plugin', 'has_alive_neutron_server', {}, '1.2', CALL)).to.equal(true);
    // First report as the agent sends it: with a uuid and its resource versions (dropped from later reports).
    const first = { ...ovsAgentState(HOST, TUNNEL_IP), uuid: '3f0d6c1e-3b7a-4a53-9a59-0d1f3c0e2b11', resource_versions: RESOURCE_VERSIONS };
    const status = await rpc.call('q-reports-plugin', 'report_state', { agent_state: { agent_state: first }, time: neutronTime() }, '1.2', CALL);
    expect(status).to.equal('new');
    const agents = await api.listAgents();
    const agent = agents.find((a) => a.host === HOST);
    expect(agent, JSON.stringify(agents)).to.include({ agent_type: 'Open vSwitch agent', binary: 'neutron-openvswitch-agent', alive: true });
    expect(agent!.configurations).to.include({ tunneling_ip: TUNNEL_IP });
    // A second heartbeat is just "alive".
    expect(await rpc.call('q-reports-plugin', 'report_state',
      { agent_state: { agent_state: { ...ovsAgentState(HOST, TUNNEL_IP), start_flag: false } }, time: neutronTime() }, '1.2', CALL)).to.equal('alive');
    port = await api.updatePort(port.id, { hostId: HOST });
    expect(port['binding:vif_type']).to.equal('ovs');
    expect(port['binding:vif_details']).to.include({ bridge_name: 'br-int', port_filter: true });
  });

  it('tunnel_sync (q-plugin 1.4) answers the tunnel endpoints, hv1 among them', async () => {
    const r = await rpc.call('q-plugin', 'tunnel_sync', { tunnel_ip: TUNNEL_IP, tunnel_type: 'vxlan', host: HOST }, '1.4', CALL);
    expect(r).to.deep.equal({ tunnels: [{ ip_address: TUNNEL_IP, udp_port: 4789, host: HOST }] });
  });

  it('get_devices_details_list_and_failed_devices (q-plugin 1.5) gives the port\'s network segment and addresses', async () => {
    const r = await rpc.call('q-plugin', 'get_devices_details_list_and_failed_devices',
      { devices: [port.id], agent_id: AGENT_ID, host: HOST }, '1.5', CALL) as { devices: JsonObject[]; failed_devices: string[] };
    expect(r.failed_devices).to.deep.equal([]);
    expect(r.devices).to.have.length(1);
    expect(r.devices[0]).to.deep.include({
      device: port.id, port_id: port.id, network_id: network.id, mac_address: port.mac_address,
      network_type: 'vxlan', segmentation_id: network['provider:segmentation_id'], port_security_enabled: true,
      fixed_ips: [{ subnet_id: subnet.id, ip_address: port.fixed_ips[0]!.ip_address }],
    });
  });

  it('security_group_info_for_devices (q-plugin 1.3) gives the port\'s default group with its rules', async () => {
    const r = await rpc.call('q-plugin', 'security_group_info_for_devices',
      { devices: [port.id], call_version: '1.3' }, '1.3', CALL) as { devices: Record<string, JsonObject>; security_groups: Record<string, JsonObject[]>; sg_member_ips: JsonObject };
    expect(Object.keys(r.devices)).to.deep.equal([port.id]);
    const [sg] = port.security_groups;
    expect(r.devices[port.id]!['security_groups']).to.deep.equal([sg]);
    expect(r.security_groups[sg!]!.length).to.be.greaterThan(0);
    expect(r.sg_member_ips).to.have.property(sg!);
  });

  it('update_device_list (q-plugin 1.9) with the port up makes it ACTIVE', async () => {
    const r = await rpc.call('q-plugin', 'update_device_list',
      { devices_up: [port.id], devices_down: [], agent_id: AGENT_ID, host: HOST, refresh_tunnels: true }, '1.9', CALL);
    expect(r).to.deep.equal({ devices_up: [port.id], failed_devices_up: [], devices_down: [], failed_devices_down: [] });
    await eventually(async () => (await api.getPort(port.id)).status === 'ACTIVE', `port ${port.id} ACTIVE`, 10_000);
  });

  it('a server that dies before its API answers is reported with its traceback, and leaves nothing behind', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ofctl-ts-rig-test-'));
    try {
      const err = await NeutronServer.start({ amqpUrl: 'amqp://guest:guest@127.0.0.1:notaport/', dir: parent })
        .then(async (s) => { await s.stop(); return undefined; }, (e: unknown) => e);
      expect(err).to.be.instanceOf(Error);
      expect((err as Error).message).to.match(/^neutron-server exited \(1\) before its API answered/);
      expect((err as Error).message).to.include("ValueError: invalid literal for int() with base 10: 'notaport'");
      expect(readdirSync(parent)).to.deep.equal([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('stop() ends every process of the server, and only those', async () => {
    const pids = server.pids();
    // The parent and its forked workers (api, rpc, state-report rpc, periodic).
    expect(pids.length, `pids ${pids.join(' ')}`).to.be.greaterThan(1);
    expect(pids).to.include(server.pid);
    const started = new Map(pids.map((p) => [p, startTime(p)]));
    await server.stop();
    // Ended as stop() counts it: gone, or a zombie (exited with its parent; this machine's init
    // reaps orphans in its own time; CI once saw a worker's zombie here, its start time unchanged).
    const running = (pid: number, t: string | undefined): boolean => {
      const st = procStat(pid);
      return st !== undefined && st[0] !== 'Z' && st[19] === t;
    };
    for (const [pid, t] of started) expect(running(pid, t), `pid ${pid} still running`).to.equal(false);
    expect(server.pids()).to.deep.equal([]);
    // The broker it talked to is not among them.
    expect(startTime(rabbit.pid!)).to.be.a('string');
  });
});
