// The early dump: `ofctl-ts dump-flows TARGET` sends ovs-ofctl's exact request before the CLI loads.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { promisify } from 'node:util';
import { encodeMessage, OFPG_ANY, OFPTT_ALL } from '../../codecs/openflow/messages.js';
import { OFPP_NONE } from '../../codecs/openflow/ports.js';
import { EARLY_DUMP_BYTES, startEarlyDump, takeEarlyDump } from '../../lib/cli/early-dump.js';
import { assertOvsInstalled } from '../../testing/sandbox.js';
import { runCli } from '../../testing/run-cli.js';

const run = promisify(execFile);

/**
 * A TCP "switch" that records what its peer sends. With `withholdHello`, it sends its own HELLO
 * only once `want` bytes have arrived, then `reply`.
 */
async function recordingSwitch(want: number, reply: (s: Socket) => void, withholdHello = false): Promise<{ server: Server; port: number; received: Promise<Buffer> }> {
  const hello = encodeMessage({ type: 'hello', xid: 1, versions: [4] });
  let resolve!: (b: Buffer) => void;
  const received = new Promise<Buffer>((r) => (resolve = r));
  const server = createServer((s) => {
    let got = Buffer.alloc(0);
    if (!withholdHello) s.write(hello);
    s.on('data', (d: Buffer) => {
      const before = got.length;
      got = Buffer.concat([got, d]);
      if (before < want && got.length >= want) {
        resolve(got.subarray(0, want));
        if (withholdHello) s.write(hello);
        reply(s);
      }
    });
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, received };
}

describe('early dump (dump-flows request sent before the CLI loads)', function () {
  this.timeout(20_000);

  it('sends byte for byte what ovs-ofctl -O OpenFlow13 dump-flows sends, as our encoder writes it', async () => {
    assertOvsInstalled();
    const sw = await recordingSwitch(EARLY_DUMP_BYTES.length, (s) => s.destroy());
    try {
      await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', `tcp:127.0.0.1:${sw.port}`]).catch(() => undefined);
      expect((await sw.received).toString('hex')).to.equal(EARLY_DUMP_BYTES.toString('hex'));
    } finally {
      sw.server.close();
    }
    const ours = Buffer.concat([
      encodeMessage({ type: 'hello', xid: 1, versions: [4] }),
      encodeMessage({
        type: 'flow_stats_request', xid: 2, flags: 0,
        request: { table: OFPTT_ALL, outPort: OFPP_NONE, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n, match: new Map() },
      }),
    ]);
    expect(ours.toString('hex')).to.equal(EARLY_DUMP_BYTES.toString('hex'));
  });

  it('starts only for a plain dump: no MATCH, no --diff, no ssl: target, no other command', async () => {
    const env = { OVS_RUNDIR: '/nonexistent' };
    for (const argv of [
      ['dump-flows', 'br0', 'table=3'], ['dump-flows', 'br0', '--diff', 'f'], ['dump-flows', 'ssl:127.0.0.1:6653'],
      ['add-flows', 'br0', 'f'], ['dump-flows'], ['dump-flows', '--no-stats', 'br0'], ['dump-flows', 'tcp:host:1'],
    ]) {
      startEarlyDump(argv, env);
      expect(await takeEarlyDump(argv[1] ?? ''), argv.join(' ')).to.equal(undefined);
    }
    // A plain one whose socket cannot connect is not adopted: the CLI's own connect reports it.
    startEarlyDump(['dump-flows', 'br0', '--no-stats'], env);
    expect(await takeEarlyDump('br0')).to.equal(undefined);
  });

  it('the CLI prints the reply to a request sent before the switch said HELLO', async () => {
    // This switch sends its HELLO only after the whole request has arrived: a CLI that waited for
    // the handshake before asking would never get an answer.
    const flow = {
      table: 3, durationSec: 7, durationNsec: 500_000_000, priority: 9, idleTimeout: 0, hardTimeout: 0, flags: 0,
      importance: 0, cookie: 0x2an, packetCount: 0n, byteCount: 0n, match: new Map(), instructions: { apply: [] },
    };
    const sw = await recordingSwitch(EARLY_DUMP_BYTES.length, (s) => {
      s.write(encodeMessage({ type: 'flow_stats_reply', xid: 2, flags: 0, flows: [flow] }));
    }, true);
    try {
      const r = await runCli(['dump-flows', `tcp:127.0.0.1:${sw.port}`]);
      expect(r.stderr).to.equal('');
      expect(r.code).to.equal(0);
      expect(r.stdout).to.equal('OFPST_FLOW reply (OF1.3) (xid=0x2):\n'
        + ' cookie=0x2a, duration=7.500s, table=3, n_packets=0, n_bytes=0, priority=9 actions=drop\n');
    } finally {
      sw.server.close();
    }
  });
});
