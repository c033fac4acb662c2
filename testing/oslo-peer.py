#!/usr/bin/python3
"""Python's oslo.messaging (14.0.3, Debian's python3-oslo.messaging) as the other side of our tests.

  oslo-peer.py encode-request JSON   one request's AMQP body, made by oslo's own functions (stdout)
  oslo-peer.py encode-reply JSON     one reply's AMQP body, failure from a raised exception
  oslo-peer.py decode-request        our request body (stdin) read by oslo: {message, context}
  oslo-peer.py decode-reply          our reply body (stdin) read by oslo: {result|failure}
  oslo-peer.py server URL TOPIC HOST [SETTINGS]
                                     an RPC server (neutron exchange) that prints each call as a
                                     JSON line and returns {"echo": ...}; method "fail" raises
  oslo-peer.py cast URL JSON         casts {topic, method, args, server?, fanout?, exchange?,
                                     rabbit?} then exits
SETTINGS is JSON {exchange?, rabbit?}: rabbit holds [oslo_messaging_rabbit] options by their oslo
names (rabbit_quorum_queue, amqp_durable_queues, rabbit_ha_queues, rabbit_transient_queues_ttl...).
Run with /usr/bin/python3 (a pyenv python has no oslo_messaging).
"""
import json
import os
import sys

import kombu.serialization
from oslo_messaging._drivers import amqp as rpc_amqp
from oslo_messaging._drivers import common as rpc_common


def body(msg):
    # What impl_rabbit's producer publishes: kombu's json serialiser over serialize_msg's dict.
    content_type, encoding, data = kombu.serialization.dumps(rpc_common.serialize_msg(msg), 'json')
    assert content_type == 'application/json', content_type
    return data


def encode_request(spec):
    # amqpdriver._send's steps, in its order.
    msg = {'method': spec['method'], 'args': spec['args']}
    if 'version' in spec:
        msg['version'] = spec['version']
    if 'namespace' in spec:
        msg['namespace'] = spec['namespace']
    if spec.get('call'):
        msg.update({'_msg_id': spec['msg_id'], '_reply_q': spec['reply_q'], '_timeout': None})
    rpc_amqp._add_unique_id(msg)
    rpc_amqp.pack_context(msg, spec['context'])
    sys.stdout.write(body(msg))


class NeutronFault(Exception):
    pass


def encode_reply(spec):
    failure = None
    if 'raise' in spec:
        try:
            raise NeutronFault(spec['raise'])
        except NeutronFault:
            failure = rpc_common.serialize_remote_exception(sys.exc_info())
    msg = {'result': spec.get('result'), 'failure': failure, 'ending': True, '_msg_id': spec['msg_id']}
    rpc_amqp._add_unique_id(msg)
    sys.stdout.write(body(msg))


def decode(kind):
    raw = kombu.serialization.loads(sys.stdin.buffer.read(), 'application/json', 'utf-8')
    msg = rpc_common.deserialize_msg(raw)
    if kind == 'request':
        ctx = rpc_amqp.unpack_context(msg)
        out = {'message': msg, 'context': ctx.to_dict()}
    elif msg.get('failure'):
        exc = rpc_common.deserialize_remote_exception(msg['failure'], [])
        out = {'failure': {'type': type(exc).__name__, 'module': type(exc).__module__, 'str': str(exc)},
               'msg_id': msg['_msg_id'], 'ending': msg['ending']}
    else:
        out = {'result': msg['result'], 'msg_id': msg['_msg_id'], 'ending': msg['ending']}
    print(json.dumps(out))


def transport(url, rabbit=None):
    import oslo_messaging
    from oslo_config import cfg
    from oslo_messaging._drivers import impl_rabbit
    conf = cfg.CONF  # oslo's metrics options are registered on the global CONF only
    conf([], project='oslo-peer')
    # The driver registers these itself; registered first, they can be set before it reads them.
    conf.register_opts(impl_rabbit.rabbit_opts, group='oslo_messaging_rabbit')
    conf.register_opts(rpc_amqp.amqp_opts, group='oslo_messaging_rabbit')
    for name, value in (rabbit or {}).items():
        conf.set_override(name, value, group='oslo_messaging_rabbit')
    # oslo maps amqp:// to its AMQP 1.0 driver; RabbitMQ's AMQP 0-9-1 driver is rabbit://.
    url = 'rabbit://' + url.split('://', 1)[1]
    return oslo_messaging.get_rpc_transport(conf, url=url), oslo_messaging


def server(url, topic, host, settings):
    tr, om = transport(url, settings.get('rabbit'))

    class Endpoint(object):
        def __getattr__(self, name):
            if name.startswith('_'):
                raise AttributeError(name)

            def method(ctxt, **kwargs):
                print(json.dumps({'method': name, 'args': kwargs, 'context': ctxt}), flush=True)
                if name == 'fail':
                    raise NeutronFault(kwargs.get('why', 'failed'))
                return {'echo': kwargs, 'host': host}
            return method

    class Dispatcher(om.rpc.dispatcher.RPCDispatcher):
        # Record the version the caller sent before oslo's dispatch checks it.
        def dispatch(self, incoming):
            print(json.dumps({'version': incoming.message.get('version'),
                              'namespace': incoming.message.get('namespace')}), flush=True)
            return super().dispatch(incoming)

    target = om.Target(topic=topic, server=host, exchange=settings.get('exchange', 'neutron'), version='1.9')
    endpoint = Endpoint()
    endpoint.target = om.Target(version='1.9')
    srv = om.rpc.server.RPCServer(tr, target, Dispatcher([endpoint], None), executor='threading')
    srv.start()
    print(json.dumps({'ready': True}), flush=True)
    try:
        sys.stdin.read()  # runs until the test closes stdin
    finally:
        srv.stop()
        srv.wait()
        tr.cleanup()
        sys.stdout.flush()
        os._exit(0)  # as in cast: no wait on the heartbeat thread


def cast(url, spec):
    tr, om = transport(url, spec.get('rabbit'))
    target = om.Target(topic=spec['topic'], exchange=spec.get('exchange', 'neutron'), server=spec.get('server'),
                       fanout=spec.get('fanout', False))
    client = om.get_rpc_client(tr, target) if hasattr(om, 'get_rpc_client') else om.RPCClient(tr, target)
    client.cast(spec.get('context', {}), spec['method'], **spec['args'])
    tr.cleanup()
    # The interpreter's exit would wait ~10 s on the driver's heartbeat thread: the cast is sent.
    sys.stdout.flush()
    os._exit(0)


def main():
    cmd = sys.argv[1]
    if cmd == 'encode-request':
        encode_request(json.loads(sys.argv[2]))
    elif cmd == 'encode-reply':
        encode_reply(json.loads(sys.argv[2]))
    elif cmd == 'decode-request':
        decode('request')
    elif cmd == 'decode-reply':
        decode('reply')
    elif cmd == 'server':
        server(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]) if len(sys.argv) > 5 else {})
    elif cmd == 'cast':
        cast(sys.argv[2], json.loads(sys.argv[3]))
    else:
        raise SystemExit('unknown command ' + cmd)


if __name__ == '__main__':
    main()
