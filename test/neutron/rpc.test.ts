// lib/neutron/rpc against a private RabbitMQ with Python's oslo.messaging 14.0.3 on the other side:
// our calls reach a Python RPC server on q-plugin (method, args, version, context) and its results
// or exceptions come back; Python's fanout and host-directed casts reach our consumers; what
// Python puts on the wire decodes with our envelope; a malformed message is dropped, the link stays.
// Queues Python declared with the cloud's quorum/HA/TTL settings take our client with the same
// settings and refuse it with others. A second broker listens for amqps too (ovs-pki certificates)
// and is restarted and made to close its connections: our client fails what was pending, reports
// its states and comes back with its consumers.
import { expect } from 'chai';
import { connect } from 'amqplib';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { decodeRequest, OsloDecodeError } from '../../codecs/oslo/envelope.js';
import { createLogger, Logger } from '../../lib/log.js';
import {
  ConnectionLostError, DeclareRefusedError, Incoming, NeutronRpc, RemoteError, RpcState, redactUrl,
} from '../../lib/neutron/rpc.js';
import { assertOsloInstalled, osloPeer, OsloServer } from '../../testing/oslo-peer.js';
import { TestPki } from '../../testing/pki.js';
import { RabbitMq } from '../../testing/rabbitmq.js';

/** A logger whose lines the test reads. */
function memoryLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>); cb(); } });
  return { log: createLogger('test', 'info', sink), lines };
}

async function until<T>(get: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface ListedQueue { name: string; type: string; durable: boolean; auto_delete: boolean; arguments: [string, string, unknown][] }

/** The broker's own view of its queues (rabbitmqctl), arguments sorted by name. */
async function listQueues(rabbit: RabbitMq): Promise<ListedQueue[]> {
  const out = await rabbit.ctl('list_queues', '-q', '--formatter', 'json', 'name', 'type', 'durable', 'auto_delete', 'arguments');
  return (JSON.parse(out) as ListedQueue[]).map((q) => ({ ...q, arguments: [...q.arguments].sort((a, b) => a[0].localeCompare(b[0])) }));
}

/** A queue's declared shape: what RabbitMQ compares on a redeclare, and the arguments it does not. */
function shape(queues: ListedQueue[], pred: (name: string) => boolean, what: string): Omit<ListedQueue, 'name'> {
  const q = queues.find((x) => pred(x.name));
  if (!q) throw new Error(`no queue ${what} in ${queues.map((x) => x.name).join(', ')}`);
  const { name: _name, ...rest } = q;
  return rest;
}

const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

describe('lib/neutron/rpc against RabbitMQ and Python oslo.messaging', function () {
  this.timeout(60_000);
  let rabbit: RabbitMq;
  let server: OsloServer;
  let rpc: NeutronRpc;
  const { log, lines } = memoryLog();
  const context = { project_id: 'p1', user_id: 'u1', is_admin: true, request_id: 'req-7' };

  before(async () => {
    await assertOsloInstalled();
    rabbit = await RabbitMq.start();
    // Figures for the report: broker start and size.
    console.log(`      rabbitmq: AMQP after ${rabbit.startMs} ms, RSS ${(rabbit.rssBytes() / 2 ** 20).toFixed(0)} MiB`);
    server = await OsloServer.start(rabbit.url, 'q-plugin', 'neutron-host');
    rpc = await NeutronRpc.connect({ url: rabbit.url, log });
  });

  after(async () => {
    await rpc?.close();
    await server?.stop();
    await rabbit?.stop();
  });

  it('a call reaches the Python server with method, args, version and context; its result comes back', async () => {
    const args = { tunnel_ip: '10.0.0.1', tunnel_type: 'vxlan', host: 'hv1' };
    const result = await rpc.call('q-plugin', 'tunnel_sync', args, '1.4', { timeoutMs: 10_000, context });
    expect(result).to.deep.equal({ echo: args, host: 'neutron-host' });
    const seen = await server.waitFor((l) => l.method === 'tunnel_sync');
    expect(seen.args).to.deep.equal(args);
    expect(seen.context).to.deep.include(context);
    expect(server.lines.filter((l) => 'version' in l).map((l) => l.version)).to.include('1.4');
  });

  it('a directed call (server=<host>) reaches the server, a version above its target is refused by oslo', async () => {
    expect(await rpc.call('q-plugin', 'report_state', { time: 't' }, '1.2', { server: 'neutron-host', timeoutMs: 10_000 }))
      .to.deep.equal({ echo: { time: 't' }, host: 'neutron-host' });
    const err = await rpc.call('q-plugin', 'tunnel_sync', {}, '2.0', { timeoutMs: 10_000 }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RemoteError);
    expect((err as RemoteError).remoteClass).to.equal('UnsupportedVersion');
  });

  it('a Python exception fails our call with its class and message', async () => {
    const err = await rpc.call('q-plugin', 'fail', { why: 'database is locked' }, '1.2', { timeoutMs: 10_000 }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RemoteError);
    expect((err as RemoteError).remoteClass).to.equal('NeutronFault');
    expect((err as RemoteError).remoteMessage).to.equal('database is locked');
    expect((err as RemoteError).message).to.contain('fail: __main__.NeutronFault: database is locked');
  });

  it('a call nobody serves times out', async () => {
    const t0 = Date.now();
    const err = await rpc.call('q-nobody', 'x', {}, '1.0', { timeoutMs: 500 }).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.match(/no reply within 500 ms/);
    expect(Date.now() - t0).to.be.within(450, 3000);
  });

  it('Python fanout and host-directed casts reach our consumers with their args; others do not', async () => {
    const got: Incoming[] = [];
    await rpc.consume('q-agent-notifier-port-update', ['hv1'], (m) => { got.push(m); });
    await rpc.consume('q-agent-notifier-l2population-update', ['hv1', 'hv2'], (m) => { got.push(m); });
    const port = { id: 'p-1', mac_address: 'fa:16:3e:00:00:01' };
    await osloPeer(['cast', rabbit.url, JSON.stringify({ topic: 'q-agent-notifier-port-update', fanout: true, method: 'port_update',
      args: { port, network_type: 'vxlan', segmentation_id: 1251 }, context })]);
    const fdb = { 'net-1': { segment_id: 1251, network_type: 'vxlan', ports: { '10.0.0.2': [['00:00:00:00:00:00', '0.0.0.0'], ['fa:16:3e:00:00:02', '192.168.0.5']] } } };
    await osloPeer(['cast', rabbit.url, JSON.stringify({ topic: 'q-agent-notifier-l2population-update', server: 'hv2', method: 'add_fdb_entries', args: { fdb_entries: fdb } })]);
    await osloPeer(['cast', rabbit.url, JSON.stringify({ topic: 'q-agent-notifier-l2population-update', server: 'hv9', method: 'add_fdb_entries', args: { fdb_entries: {} } })]);
    await until(() => (got.length >= 2 ? true : undefined), 'two casts');
    const update = got.find((m) => m.method === 'port_update')!;
    expect(update.host).to.equal(undefined);
    expect(update).to.deep.include({ topic: 'q-agent-notifier-port-update', args: { port, network_type: 'vxlan', segmentation_id: 1251 } });
    expect(update.context).to.deep.include(context);
    const directed = got.find((m) => m.method === 'add_fdb_entries')!;
    expect(directed).to.deep.include({ topic: 'q-agent-notifier-l2population-update', host: 'hv2', args: { fdb_entries: fdb } });
    await new Promise((r) => setTimeout(r, 300));
    expect(got.map((m) => m.host ?? 'fanout')).to.deep.equal(['fanout', 'hv2']); // hv9's cast is not ours
  });

  it('a host\'s queue moves between clients (consumeHost, stopHost): a Python cast after the move, or one a handler declines, reaches the other, none is lost', async () => {
    const topic = 'q-agent-notifier-host-move'; // a topic of its own: no other test's consumer shares its queues
    const other = await NeutronRpc.connect({ url: rabbit.url, log });
    try {
      const [mine, theirs]: [string[], string[]] = [[], []];
      let decline = false;
      await rpc.consume(topic, [], (m) => (m.host === 'hv5' && decline ? false : void mine.push(String(m.args.n))));
      await other.consume(topic, [], (m) => void (m.host === 'hv5' && theirs.push(String(m.args.n))));
      const cast = (n: number): Promise<unknown> => osloPeer(['cast', rabbit.url, JSON.stringify({ topic, server: 'hv5', method: 'add_fdb_entries', args: { n } })]);
      await rpc.consumeHost('hv5');
      await cast(1);
      await until(() => (mine.length ? true : undefined), 'the first cast');
      rpc.stopHost('hv5');
      await cast(2); // queued: nobody consumes hv5's queue now
      await new Promise((r) => setTimeout(r, 300));
      await other.consumeHost('hv5');
      await until(() => (theirs.length ? true : undefined), 'the cast sent in between, to the new consumer');
      // Both consume it; the one that declines gives its share back, which reaches the other.
      await rpc.consumeHost('hv5');
      decline = true;
      for (const n of [3, 4, 5, 6]) await cast(n);
      await until(() => (theirs.length === 5 ? true : undefined), 'every later cast at the other client');
      expect(mine).to.deep.equal(['1']);
      expect([...theirs].sort()).to.deep.equal(['2', '3', '4', '5', '6']);
    } finally {
      rpc.stopHost('hv5');
      await other.close();
    }
  });

  it('our envelope decodes what Python puts on the wire, and a malformed message is dropped with its topic logged', async () => {
    const topic = 'q-agent-notifier-network-update';
    const got: Incoming[] = [];
    await rpc.consume(topic, ['hv1'], (m) => { got.push(m); });
    // A plain amqplib consumer on the same fanout keeps the raw bodies Python sends.
    const conn = await connect(rabbit.url);
    try {
      const ch = await conn.createChannel();
      const q = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(q.queue, `${topic}_fanout`, '');
      const raw: Buffer[] = [];
      await ch.consume(q.queue, (m) => { if (m) raw.push(m.content); }, { noAck: true });
      const args = { network: { id: 'net-1', 'provider:segmentation_id': 1109, mtu: 1450, name: 'é' } };
      await osloPeer(['cast', rabbit.url, JSON.stringify({ topic, fanout: true, method: 'network_update', args, context })]);
      await until(() => (raw.length >= 1 && got.length >= 1 ? true : undefined), 'the network_update');
      // kombu's own JSON (", " separators, \u escapes) decodes to the same message our consumer got.
      expect(raw[0]!.toString('latin1')).to.match(/^\{"oslo.version": "2.0", "oslo.message": "\{\\"method\\": \\"network_update\\"/);
      const req = decodeRequest(raw[0]!);
      if (req instanceof OsloDecodeError) throw req;
      expect(req).to.deep.include({ method: 'network_update', args });
      expect(req.context).to.deep.include(context);
      expect(got[0]).to.deep.include({ method: 'network_update', args });

      // Malformed bodies on the same fanout: logged with the topic, dropped; the consumer and calls go on.
      ch.publish(`${topic}_fanout`, '', Buffer.from('{"oslo.version": "2.0", "oslo.message": "{\\"args\\": {}}"}'));
      ch.publish(`${topic}_fanout`, '', Buffer.from('not json'));
      const warned = await until(() => {
        const w = lines.filter((l) => l.topic === topic && l.msg === 'neutron rpc: malformed message dropped');
        return w.length >= 2 ? w : undefined;
      }, 'two warnings');
      expect(String(warned[0]!.err)).to.contain('"oslo.message.method"');
      expect(String(warned[1]!.err)).to.contain('"body"');
      await osloPeer(['cast', rabbit.url, JSON.stringify({ topic, fanout: true, method: 'network_delete', args: { network_id: 'net-1' } })]);
      await until(() => (got.some((m) => m.method === 'network_delete') ? true : undefined), 'network_delete after the bad ones');
      expect(await rpc.call('q-plugin', 'tunnel_sync', {}, '1.4', { timeoutMs: 10_000 })).to.deep.equal({ echo: {}, host: 'neutron-host' });
    } finally {
      await conn.close();
    }
  });

  it('declares as oslo does: a reply queue with x-expires; a mismatched exchange declare is refused plainly; credentials never logged', async () => {
    const conn = await connect(rabbit.url);
    try {
      const ch = await conn.createChannel();
      ch.on('error', () => {}); // the 406 below closes this channel: expected
      // The same declares as oslo's are accepted; one without oslo's x-expires is refused (406).
      await ch.assertQueue(rpc.replyQueue, { durable: false, autoDelete: false, arguments: { 'x-expires': 1_800_000 } });
      await ch.assertExchange('neutron', 'topic', { durable: false, autoDelete: false });
      const refused = await ch.assertQueue(rpc.replyQueue, { durable: false, autoDelete: false }).then(() => undefined, (e: unknown) => e);
      expect((refused as Error).message).to.contain('PRECONDITION_FAILED');
    } finally {
      await conn.close();
    }
    // The broker's neutron exchange is not durable: a client configured durable is told so.
    const err = await NeutronRpc.connect({ url: rabbit.url, log, queues: { durable: true } }).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).to.match(/refused to declare exchange neutron.*PRECONDITION_FAILED.*oslo_messaging_rabbit/s);
    const bad = await NeutronRpc.connect({ url: `amqp://guest:s3cret@127.0.0.1:${rabbit.port}/nohost`, log }).then(() => undefined, (e: unknown) => e);
    expect((bad as Error).message).to.not.contain('s3cret');
    expect(JSON.stringify(lines)).to.not.contain('guest:guest');
    expect(redactUrl('amqps://u:p@h:5671/v')).to.equal('amqps://h:5671/v');
  });

  it('quorum queues as Python oslo declares them: the same settings call and consume; other settings are refused naming the queue and settings', async () => {
    const topic = 'q-agent-notifier-security_group-update'; // no queue of this topic was declared before
    const exchange = 'neutron-quorum';
    const osloRabbit = { rabbit_quorum_queue: true, rabbit_quorum_delivery_limit: 5, rabbit_transient_queues_ttl: 600 };
    const queues = { quorumQueues: true, quorumDeliveryLimit: 5, transientTtlSeconds: 600 };
    const py = await OsloServer.start(rabbit.url, topic, 'hv1', { exchange, rabbit: osloRabbit });
    const same = await NeutronRpc.connect({ url: rabbit.url, exchange, queues, log });
    const plain = await NeutronRpc.connect({ url: rabbit.url, exchange, queues: { durable: true }, log });
    const otherLimit = await NeutronRpc.connect({ url: rabbit.url, exchange, queues: { ...queues, quorumDeliveryLimit: 6 }, log });
    try {
      // A call through the durable control exchange Python declared.
      expect(await same.call(topic, 'tunnel_sync', { n: 1 }, '1.4', { server: 'hv1', timeoutMs: 10_000 })).to.deep.equal({ echo: { n: 1 }, host: 'hv1' });
      const got: Incoming[] = [];
      const fanoutQueue = await same.consume(topic, ['hv1'], (m) => { got.push(m); });
      const listed = await listQueues(rabbit);
      await py.stop(); // the directed cast below is then ours alone
      // Python's topic queue is quorum and durable; ours (the same queue, redeclared) was accepted;
      // our fanout queue has the shape of Python's (classic, transient TTL).
      expect(shape(listed, (n) => n === `${topic}.hv1`, `${topic}.hv1`)).to.deep.include({ type: 'quorum', durable: true });
      const pyFanout = shape(listed, (n) => n.startsWith(`${topic}_fanout_`) && n !== fanoutQueue, 'Python\'s fanout');
      expect(shape(listed, (n) => n === fanoutQueue, fanoutQueue)).to.deep.equal(pyFanout);
      expect(pyFanout).to.deep.include({ type: 'classic', durable: false });
      expect(pyFanout.arguments).to.deep.include(['x-expires', 'signedint', 600_000]);
      await osloPeer(['cast', rabbit.url, JSON.stringify({ topic, server: 'hv1', exchange, rabbit: osloRabbit, method: 'security_groups_member_updated', args: { security_groups: ['sg-1'] } })]);
      await until(() => got[0], 'the directed cast through the quorum queue');
      expect(got[0]).to.deep.include({ topic, host: 'hv1', method: 'security_groups_member_updated', args: { security_groups: ['sg-1'] } });

      // Classic durable instead of quorum, and another delivery limit: refused, naming queue and settings.
      const classic = await failure(plain.consume(topic, ['hv1'], () => {}));
      expect(classic).to.be.instanceOf(DeclareRefusedError);
      expect((classic as Error).message).to.contain(`queue ${topic}.hv1`).and.contain('rabbit_quorum_queue=false')
        .and.contain('amqp_durable_queues=true').and.match(/PRECONDITION_FAILED - inequivalent arg 'x-queue-type'/);
      const limit = await failure(otherLimit.consume(topic, ['hv1'], () => {}));
      expect((limit as Error).message).to.contain(`queue ${topic}.hv1`).and.contain('rabbit_quorum_delivery_limit=6')
        .and.match(/inequivalent arg 'x-delivery-limit'.*received '6' but current is '5'/);
      // The refusal closed only the declaring channel: the client still consumes.
      expect(await plain.consume('q-agent-notifier-port-update', [], () => {})).to.match(/^q-agent-notifier-port-update_fanout_[0-9a-f]{32}$/);
      // The exchange Python declared durable (quorum) refuses a client with oslo's defaults.
      const exchangeErr = await failure(NeutronRpc.connect({ url: rabbit.url, exchange, log }));
      expect(exchangeErr).to.be.instanceOf(DeclareRefusedError);
      expect((exchangeErr as Error).message).to.contain('exchange neutron-quorum').and.contain('amqp_durable_queues=false');
      // oslo's own configuration check.
      const both = await failure(NeutronRpc.connect({ url: rabbit.url, queues: { quorumQueues: true, haQueues: true }, log }));
      expect((both as Error).message).to.contain('rabbit_quorum_queue and rabbit_ha_queues both enabled');
    } finally {
      await Promise.all([same.close(), plain.close(), otherLimit.close(), py.stop()]);
    }
  });

  it('HA and TTL arguments as Python oslo declares them (RabbitMQ 3.10 does not compare x-ha-policy, so the shapes are compared)', async () => {
    const exchange = 'neutron-ha';
    const py = await OsloServer.start(rabbit.url, 'q-ha-py', 'hv1', { exchange, rabbit: { rabbit_ha_queues: true, amqp_durable_queues: true, rabbit_transient_queues_ttl: 60 } });
    const ours = await NeutronRpc.connect({ url: rabbit.url, exchange, queues: { haQueues: true, durable: true, transientTtlSeconds: 60 }, log });
    try {
      await ours.consume('q-ha-ours', ['hv1'], () => {});
      const listed = await listQueues(rabbit);
      const topicShape = shape(listed, (n) => n === 'q-ha-py.hv1', 'q-ha-py.hv1');
      expect(shape(listed, (n) => n === 'q-ha-ours.hv1', 'q-ha-ours.hv1')).to.deep.equal(topicShape);
      expect(topicShape).to.deep.equal({ type: 'classic', durable: true, auto_delete: false, arguments: [['x-ha-policy', 'longstr', 'all']] });
      const fanoutShape = shape(listed, (n) => n.startsWith('q-ha-py_fanout_'), 'Python\'s fanout');
      expect(shape(listed, (n) => n.startsWith('q-ha-ours_fanout_'), 'our fanout')).to.deep.equal(fanoutShape);
      expect(fanoutShape.arguments).to.deep.equal([['x-expires', 'signedint', 60_000], ['x-ha-policy', 'longstr', 'all']]);
      expect(shape(listed, (n) => n === ours.replyQueue, ours.replyQueue)).to.deep.equal(fanoutShape);
    } finally {
      await Promise.all([ours.close(), py.stop()]);
    }
  });
});

describe('lib/neutron/rpc over amqps and across broker restarts', function () {
  this.timeout(120_000);
  let pki: TestPki;
  let rabbit: RabbitMq;
  let caster: NeutronRpc;
  const { log, lines } = memoryLog();
  const reconnect = { initialMs: 200, maxMs: 2000 };

  before(async () => {
    await assertOsloInstalled();
    pki = await TestPki.create();
    // The broker presents the controller certificate; it accepts clients whose certificate the switch CA signed.
    rabbit = await RabbitMq.start({ tls: pki.controller });
    caster = await NeutronRpc.connect({ url: rabbit.url, log, reconnect });
  });

  after(async () => {
    await caster?.close();
    await rabbit?.stop();
    pki?.remove();
  });

  /** Records every state the client reports. */
  function states(rpc: NeutronRpc): RpcState['state'][] {
    const seen: RpcState['state'][] = [];
    rpc.onState((s) => seen.push(s.state));
    return seen;
  }

  it('amqps with the CA: a call and a consumed fanout go round; a wrong CA fails naming the broker, not the credentials', async () => {
    const tls = { ca: readFileSync(pki.switch.caCert), cert: readFileSync(pki.switch.certificate), key: readFileSync(pki.switch.privateKey) };
    const server = await OsloServer.start(rabbit.url, 'q-plugin', 'neutron-host');
    const rpc = await NeutronRpc.connect({ url: rabbit.tlsUrl, tls, log });
    try {
      expect(await rpc.call('q-plugin', 'tunnel_sync', { tunnel_ip: '10.0.0.9' }, '1.4', { timeoutMs: 10_000 }))
        .to.deep.equal({ echo: { tunnel_ip: '10.0.0.9' }, host: 'neutron-host' });
      const got: Incoming[] = [];
      await rpc.consume('q-agent-notifier-tunnel-update', ['hv1'], (m) => { got.push(m); });
      await caster.cast('q-agent-notifier-tunnel-update', 'tunnel_update', { tunnel_ip: '10.0.0.7' }, '1.0', { fanout: true });
      await caster.cast('q-agent-notifier-tunnel-update', 'tunnel_update', { tunnel_ip: '10.0.0.8' }, '1.0', { server: 'hv1' });
      await until(() => (got.length >= 2 ? true : undefined), 'two casts over amqps');
      expect(got.map((m) => [m.host ?? 'fanout', m.args.tunnel_ip])).to.have.deep.members([['fanout', '10.0.0.7'], ['hv1', '10.0.0.8']]);
    } finally {
      await Promise.all([rpc.close(), server.stop()]);
    }
    const wrongCa = await failure(NeutronRpc.connect({ url: rabbit.tlsUrl, tls: { ...tls, ca: readFileSync(pki.rogueCaCert) }, log }));
    const message = (wrongCa as Error).message;
    expect(message).to.contain(`AMQP amqps://127.0.0.1:${rabbit.tlsPort}/: cannot connect`).and.match(/certificate/);
    expect(message).to.not.contain('guest');
    // The broker refuses a client without a certificate (fail_if_no_peer_cert).
    const noCert = await failure(NeutronRpc.connect({ url: rabbit.tlsUrl, tls: { ca: tls.ca }, log }));
    expect((noCert as Error).message).to.contain(`AMQP amqps://127.0.0.1:${rabbit.tlsPort}/: cannot connect`);
  });

  it('RabbitMQ restarted: the pending call fails at once, states in order, calls work again and a consumer from before gets casts sent after', async () => {
    const rpc = await NeutronRpc.connect({ url: rabbit.url, log, reconnect });
    try {
      const seen = states(rpc);
      const got: Incoming[] = [];
      await rpc.consume('q-agent-notifier-port-update', ['hv1'], (m) => { got.push(m); });
      const replyBefore = rpc.replyQueue;
      const pending = failure(rpc.call('q-nobody', 'get_devices_details_list_and_failed_devices', {}, '1.5', { timeoutMs: 60_000 }));
      const t0 = Date.now();
      const restarted = rabbit.restart(500);
      const lost = await pending;
      expect(lost).to.be.instanceOf(ConnectionLostError);
      expect((lost as ConnectionLostError).method).to.equal('get_devices_details_list_and_failed_devices');
      expect((lost as Error).message).to.match(/^get_devices_details_list_and_failed_devices: AMQP connection to amqp:\/\/127\.0\.0\.1:\d+\/ lost before the reply/);
      expect(Date.now() - t0).to.be.below(15_000); // at the broker's shutdown, not at the call's 60 s timeout
      // While the broker is down: calls and casts fail at once.
      const down = await failure(rpc.call('q-plugin', 'tunnel_sync', {}, '1.4', { timeoutMs: 60_000 }));
      expect((down as Error).message).to.match(/^tunnel_sync on q-plugin: not connected to AMQP amqp:\/\/127\.0\.0\.1:\d+\/ \(reconnecting/);
      expect(await failure(rpc.cast('q-plugin', 'x', {}, '1.0'))).to.be.instanceOf(ConnectionLostError);
      await restarted;
      await until(() => (seen.includes('reconnected') ? true : undefined), 'reconnected', 30_000);
      expect(seen).to.deep.equal(['connected', 'disconnected', 'reconnected']);
      expect(rpc.replyQueue).to.match(/^reply_[0-9a-f]{32}$/).and.not.equal(replyBefore);
      await until(() => (caster.replyQueue ? true : undefined), 'the caster reconnected', 30_000);
      await caster.cast('q-agent-notifier-port-update', 'port_update', { port: { id: 'p-after' } }, '1.0', { fanout: true });
      await caster.cast('q-agent-notifier-port-update', 'port_update', { port: { id: 'p-hv1' } }, '1.0', { server: 'hv1' });
      await until(() => (got.length >= 2 ? true : undefined), 'casts after the restart');
      expect(got.map((m) => [m.host ?? 'fanout', (m.args.port as { id: string }).id])).to.have.deep.members([['fanout', 'p-after'], ['hv1', 'p-hv1']]);
      const server = await OsloServer.start(rabbit.url, 'q-plugin', 'neutron-host');
      try {
        expect(await rpc.call('q-plugin', 'tunnel_sync', {}, '1.4', { timeoutMs: 10_000 })).to.deep.equal({ echo: {}, host: 'neutron-host' });
      } finally {
        await server.stop();
      }
      const reconnectLines = lines.filter((l) => l.msg === 'neutron rpc: reconnect scheduled');
      expect(reconnectLines.length).to.be.greaterThan(0);
    } finally {
      await rpc.close();
    }
  });

  it('connections closed by the broker (rabbitmqctl close_all_connections): same recovery; close() stops it', async () => {
    const rpc = await NeutronRpc.connect({ url: rabbit.url, log, reconnect });
    const seen = states(rpc);
    const got: Incoming[] = [];
    await rpc.consume('q-agent-notifier-network-update', [], (m) => { got.push(m); });
    const pending = failure(rpc.call('q-nobody', 'update_device_list', {}, '1.9', { timeoutMs: 60_000 }));
    await rabbit.ctl('close_all_connections', 'test: closed by the broker');
    const lost = await pending;
    expect(lost).to.be.instanceOf(ConnectionLostError);
    expect((lost as Error).message).to.contain('CONNECTION_FORCED - test: closed by the broker');
    await until(() => (seen.length >= 3 ? true : undefined), 'reconnected', 30_000);
    expect(seen).to.deep.equal(['connected', 'disconnected', 'reconnected']);
    await until(() => (caster.replyQueue ? true : undefined), 'the caster reconnected', 30_000);
    await caster.cast('q-agent-notifier-network-update', 'network_update', { network: { id: 'n-1' } }, '1.0', { fanout: true });
    await until(() => got[0], 'the fanout after the close');
    await rpc.close();
    expect(await rpc.closed).to.equal(undefined);
    expect(await failure(rpc.call('q-plugin', 'x', {}, '1.0', { timeoutMs: 1000 }))).to.be.instanceOf(ConnectionLostError);
    expect(JSON.stringify(lines)).to.not.contain('guest:guest');
  });

  it('a declare refused on reconnect is reported plainly and retried with backoff until the queue is right again; close() stops the retries', async () => {
    const lineCount = lines.length;
    const rpc = await NeutronRpc.connect({ url: rabbit.url, log, reconnect: { initialMs: 300, maxMs: 1200 } });
    const seen = states(rpc);
    await rpc.consume('q-agent-notifier-port-delete', ['hv7'], () => {});
    const other = memoryLog(); // a second client, closed while it retries
    const closedEarly = await NeutronRpc.connect({ url: rabbit.url, log: other.log, reconnect: { initialMs: 300, maxMs: 1200 } });
    await closedEarly.consume('q-agent-notifier-port-delete', ['hv7'], () => {});
    const conn = await connect(rabbit.url);
    try {
      const ch = await conn.createChannel();
      // Another party replaces our topic queue with a durable one: our consumer is cancelled (oslo
      // reconnects on that, so do we) and the next declares are refused.
      await ch.deleteQueue('q-agent-notifier-port-delete.hv7');
      await ch.assertQueue('q-agent-notifier-port-delete.hv7', { durable: true });
      const refusals = await until(() => {
        const r = lines.slice(lineCount).filter((l) => l.msg === 'neutron rpc: reconnect refused a declare');
        return r.length >= 3 ? r : undefined;
      }, 'three refused reconnects', 20_000);
      expect(String(refusals[0]!.err)).to.match(/refused to declare queue q-agent-notifier-port-delete\.hv7 .*amqp_durable_queues=false.*inequivalent arg 'durable'/);
      const delays = lines.slice(lineCount).filter((l) => l.msg === 'neutron rpc: reconnect scheduled').map((l) => Number(l.delayMs));
      expect(delays[0]).to.be.within(240, 300);
      expect(delays[1]).to.be.within(480, 600);
      expect(delays.slice(3).every((d) => d >= 960 && d <= 1200)).to.equal(true);
      expect(seen).to.deep.equal(['connected', 'disconnected']);
      await until(() => (other.lines.some((l) => l.msg === 'neutron rpc: reconnect refused a declare') ? true : undefined), 'the second client refused');
      await closedEarly.close();
      expect(await closedEarly.closed).to.equal(undefined);
      const linesAtClose = other.lines.length;
      await new Promise((r) => setTimeout(r, 1500)); // more than its next retry's delay
      expect(other.lines.slice(linesAtClose).map((l) => l.msg)).to.deep.equal([]);
      await ch.deleteQueue('q-agent-notifier-port-delete.hv7');
      await until(() => (seen.includes('reconnected') ? true : undefined), 'reconnected once the queue is gone', 20_000);
    } finally {
      await conn.close();
      await rpc.close();
    }
  });
});
