// The oslo.messaging 2.0 envelope, held to Python's oslo.messaging 14.0.3: bodies made by oslo's own
// functions (serialize_msg, pack_context, serialize_remote_exception, kombu's json) decode to what
// was put in, ours decode in oslo (deserialize_msg, unpack_context, deserialize_remote_exception) to
// what we put in, and malformed bodies are refused with the field named.
import { expect } from 'chai';
import {
  decodeReply, decodeRequest, encodeReply, encodeRequest, OsloDecodeError, OsloReply, OsloRequest,
} from '../../codecs/oslo/envelope.js';
import { assertOsloInstalled, osloPeer } from '../../testing/oslo-peer.js';

const context = { user_id: null, project_id: 'p1', is_admin: true, request_id: 'req-1', roles: ['admin'] };

function ok<T>(v: T | OsloDecodeError): T {
  if (v instanceof OsloDecodeError) throw v;
  return v;
}

describe('codecs/oslo/envelope against Python oslo.messaging', function () {
  this.timeout(20_000);
  before(assertOsloInstalled);

  it('decodes a call oslo encodes: method, args, version, ids and the _context_ keys', async () => {
    const spec = { method: 'tunnel_sync', args: { tunnel_ip: '10.0.0.1', tunnel_type: 'vxlan', host: 'hv1' }, version: '1.4',
      call: true, msg_id: 'f'.repeat(32), reply_q: 'reply_' + 'a'.repeat(32), context };
    const body = await osloPeer(['encode-request', JSON.stringify(spec)]);
    const req = ok(decodeRequest(Buffer.from(body)));
    expect(req.method).to.equal('tunnel_sync');
    expect(req.args).to.deep.equal(spec.args);
    expect(req.version).to.equal('1.4');
    expect(req.msgId).to.equal(spec.msg_id);
    expect(req.replyQ).to.equal(spec.reply_q);
    expect(req.timeout).to.equal(null);
    expect(req.uniqueId).to.match(/^[0-9a-f]{32}$/);
    expect(req.context).to.deep.equal(context);
    // Ours, with the same fields, is the same JSON once parsed (oslo's separators differ, not its content).
    const mine = encodeRequest({ ...req });
    const inner = (b: string): unknown => JSON.parse((JSON.parse(b) as Record<string, string>)['oslo.message']!);
    expect(inner(mine)).to.deep.equal(inner(body));
    expect(Object.keys(inner(mine) as object)).to.deep.equal(Object.keys(inner(body) as object));
  });

  it('decodes a cast oslo encodes (no _msg_id, no _reply_q), with a namespace', async () => {
    const body = await osloPeer(['encode-request', JSON.stringify({ method: 'port_update', args: { port: { id: 'x' } }, namespace: null, context: {} })]);
    const req = ok(decodeRequest(body));
    expect(req).to.deep.include({ method: 'port_update', args: { port: { id: 'x' } }, namespace: null, context: {} });
    expect(req.msgId).to.equal(undefined);
    expect(req.replyQ).to.equal(undefined);
  });

  it('oslo decodes our call: message fields and context as we sent them', async () => {
    const req: OsloRequest = { method: 'update_device_list', args: { devices_up: ['p1'], devices_down: [], agent_id: 'ovs-agent-hv1', host: 'hv1' },
      version: '1.9', msgId: 'b'.repeat(32), replyQ: 'reply_' + 'c'.repeat(32), context };
    const out = JSON.parse(await osloPeer(['decode-request'], encodeRequest(req))) as { message: Record<string, unknown>; context: Record<string, unknown> };
    expect(out.message).to.deep.include({ method: req.method, args: req.args, version: '1.9' });
    expect(out.message._unique_id).to.match(/^[0-9a-f]{32}$/);
    // unpack_context popped _msg_id and _reply_q into the RpcContext and the _context_ keys with them.
    expect(Object.keys(out.message).filter((k) => k.startsWith('_context_') || k === '_msg_id' || k === '_reply_q')).to.deep.equal([]);
    expect(out.context).to.deep.include(context);
  });

  it('decodes a reply oslo encodes, with a result and with a failure from a raised exception', async () => {
    const result = { tunnels: [{ ip_address: '10.0.0.2', udp_port: 4789, host: 'hv2' }] };
    const good = ok(decodeReply(await osloPeer(['encode-reply', JSON.stringify({ result, msg_id: 'm1' })])));
    expect(good).to.deep.include({ result, failure: null, ending: true, msgId: 'm1' });
    const bad = ok(decodeReply(await osloPeer(['encode-reply', JSON.stringify({ raise: 'database is locked', msg_id: 'm2' })])));
    expect(bad.msgId).to.equal('m2');
    expect(bad.failure).to.deep.include({ class: 'NeutronFault', module: '__main__', message: 'database is locked', args: ['database is locked'] });
    expect(bad.failure!.tb.at(-1)).to.equal('NeutronFault: database is locked\n');
  });

  it('oslo decodes our replies: the result, and our failure as its RemoteError naming the class and message', async () => {
    const reply: OsloReply = { result: { devices: [], failed_devices: [] }, failure: null, ending: true, msgId: 'm3' };
    expect(JSON.parse(await osloPeer(['decode-reply'], encodeReply(reply)))).to.deep.equal({ result: reply.result, msg_id: 'm3', ending: true });
    const failed: OsloReply = { result: null, ending: true, msgId: 'm4',
      failure: { class: 'AgentNotFound', module: 'neutron_lib.exceptions', message: 'no agent', tb: ['Traceback\n'] } };
    const out = JSON.parse(await osloPeer(['decode-reply'], encodeReply(failed))) as { failure: { type: string; str: string } };
    expect(out.failure.type).to.equal('RemoteError');
    expect(out.failure.str).to.contain('AgentNotFound no agent');
  });
});

describe('codecs/oslo/envelope refuses malformed bodies, naming the field', () => {
  const env = (inner: unknown): string => JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) });
  const cases: [string, string, string][] = [
    ['not JSON', '{', 'body'],
    ['an array', '[]', 'body'],
    ['envelope 1.0', JSON.stringify({ 'oslo.version': '1.0', 'oslo.message': '{}' }), 'oslo.version'],
    ['no envelope (pre-Icehouse)', JSON.stringify({ method: 'x', args: {} }), 'oslo.version'],
    ['message not a string', JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': {} }), 'oslo.message'],
    ['message not JSON', JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{x' }), 'oslo.message'],
    ['no method', env({ args: {} }), 'oslo.message.method'],
    ['args a list', env({ method: 'm', args: [] }), 'oslo.message.args'],
    ['version a number', env({ method: 'm', args: {}, version: 1.4 }), 'oslo.message.version'],
    ['_msg_id without _reply_q', env({ method: 'm', args: {}, _msg_id: 'x' }), 'oslo.message._reply_q'],
    ['_reply_q without _msg_id', env({ method: 'm', args: {}, _reply_q: 'r' }), 'oslo.message._msg_id'],
  ];
  for (const [what, body, field] of cases) {
    it(`a request with ${what}: ${field}`, () => {
      const r = decodeRequest(body);
      expect(r).to.be.instanceOf(OsloDecodeError);
      expect((r as OsloDecodeError).field).to.equal(field);
    });
  }
  const replies: [string, string, string][] = [
    ['no _msg_id', env({ result: 1, failure: null, ending: true }), 'oslo.message._msg_id'],
    ['ending a string', env({ result: 1, failure: null, ending: 'yes', _msg_id: 'm' }), 'oslo.message.ending'],
    ['failure an object', env({ failure: { class: 'X' }, _msg_id: 'm' }), 'oslo.message.failure'],
    ['failure without class', env({ failure: JSON.stringify({ module: 'm', message: 'x', tb: [] }), _msg_id: 'm' }), 'oslo.message.failure.class'],
    ['failure tb not lines', env({ failure: JSON.stringify({ class: 'c', module: 'm', message: 'x', tb: 'x' }), _msg_id: 'm' }), 'oslo.message.failure.tb'],
  ];
  for (const [what, body, field] of replies) {
    it(`a reply with ${what}: ${field}`, () => {
      const r = decodeReply(body);
      expect(r).to.be.instanceOf(OsloDecodeError);
      expect((r as OsloDecodeError).field).to.equal(field);
    });
  }
});
