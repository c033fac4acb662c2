// lib/neutron/rpc against a private RabbitMQ with Python's oslo.messaging 14.0.3 on the other side:
// our calls reach a Python RPC server on q-plugin (method, args, version, context) and its results
// or exceptions come back; Python's fanout and host-directed casts reach our consumers; what
// Python puts on the wire decodes with our envelope; a malformed message is dropped, the link stays.
import { expect } from 'chai';
import { connect } from 'amqplib';
import { Writable } from 'node:stream';
import { decodeRequest, OsloDecodeError } from '../../codecs/oslo/envelope.js';
import { createLogger, Logger } from '../../lib/log.js';
import { Incoming, NeutronRpc, RemoteError, redactUrl } from '../../lib/neutron/rpc.js';
import { assertOsloInstalled, osloPeer, OsloServer } from '../../testing/oslo-peer.js';
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
});
