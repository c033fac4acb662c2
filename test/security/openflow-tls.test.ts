// OpenFlow over mutual TLS with a real ovs-vswitchd: it connects to our `ssl:` listener with its
// ovs-pki switch certificate, we program and dump its flows over that session; clients without a
// certificate our CA signed are refused and logged while the switch stays served; a switch refuses a
// controller whose certificate its CA did not sign; and we connect actively to a switch's `pssl:`.
import { expect } from 'chai';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, ConnectionOptions } from 'node:tls';
import { readFileSync } from 'node:fs';
import { firstValueFrom } from 'rxjs';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import type { OfConnection } from '../../lib/switch/connection.js';
import { applyFlowMods, dumpFlows } from '../../lib/switch/flow-ops.js';
import { listen, OfListener } from '../../lib/switch/listener.js';
import { connectSwitch, parseListenTarget, parseTarget } from '../../lib/switch/target.js';
import { TlsCredentials, TlsFiles } from '../../lib/tls.js';
import { TestPki } from '../../testing/pki.js';
import { runCli } from '../../testing/run-cli.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';
import { captureLog } from './log-capture.js';

const HELLO_OF13 = Buffer.from('0400000800000001', 'hex');

/** A client that tries to talk OpenFlow to the listener; resolves with what it got back and how it ended. */
function tryClient(port: number, tls: ConnectionOptions | undefined): Promise<{ received: number; error: string | undefined }> {
  return new Promise((resolve) => {
    const s = tls ? tlsConnect({ host: '127.0.0.1', port, ...tls }) : netConnect(port, '127.0.0.1');
    let received = 0;
    let error: string | undefined;
    s.on(tls ? 'secureConnect' : 'connect', () => s.write(HELLO_OF13));
    s.on('data', (d: Buffer) => (received += d.length));
    s.on('error', (e) => (error = e.message));
    s.on('close', () => resolve({ received, error }));
  });
}

function clientOptions(f: Partial<TlsFiles>): ConnectionOptions {
  return {
    ...(f.privateKey ? { key: readFileSync(f.privateKey) } : {}), ...(f.certificate ? { cert: readFileSync(f.certificate) } : {}),
    ...(f.caCert ? { ca: readFileSync(f.caCert) } : {}), checkServerIdentity: () => undefined,
  };
}

describe('OpenFlow over mutual TLS with a real ovs-vswitchd', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let ovs: OvsSandbox;
  before(async () => {
    pki = await TestPki.create();
    ovs = await OvsSandbox.start({ bridges: ['br-tls'] });
    const sw = pki.switch;
    await ovs.vsctl('set-ssl', sw.privateKey, sw.certificate, sw.caCert);
  });
  after(async () => {
    await ovs?.stop();
    pki?.remove();
  });

  async function serveSwitch(creds: TlsCredentials, log = captureLog()): Promise<{ l: OfListener; port: number; session: Promise<OfConnection> }> {
    const l = await listen(parseListenTarget('ssl:0', creds), { logger: log.logger });
    const session = firstValueFrom(l.sessions$);
    const port = (l.server.address() as { port: number }).port;
    await ovs.vsctl('set-controller', 'br-tls', `ssl:127.0.0.1:${port}`, '--', 'set', 'Controller', 'br-tls', 'max_backoff=1000');
    return { l, port, session };
  }

  it('accepts the switch, reads its datapath id, programs and dumps flows over TLS; refuses clients without a valid certificate', async () => {
    const log = captureLog();
    const { l, port, session } = await serveSwitch(TlsCredentials.load(pki.controller), log);
    try {
      const conn = await session;
      const dpid = BigInt(`0x${(await ovs.vsctl('get', 'Bridge', 'br-tls', 'datapath_id')).trim().replace(/"/g, '')}`);
      expect(conn.datapathId).to.equal(dpid);
      const accepted = log.lines('TLS peer accepted');
      expect(accepted).to.have.length(1);
      expect(accepted[0]!.subject).to.match(/O=Open vSwitch, OU=Open vSwitch certifier, CN=sw$/);
      expect(accepted[0]!.fingerprint).to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      expect(accepted[0]!.protocol).to.equal('TLSv1.3');
      await eventually(async () => (await ovs.vsctl('get', 'Controller', 'br-tls', 'is_connected')) === 'true\n', 'OVSDB to show the controller connected');

      await applyFlowMods(conn, [parseFlow('table=3,priority=7,tun_id=0x3e9 actions=output:1')]);
      expect((await dumpFlows(conn, { table: 3 })).map((f) => formatFlow(f))).to.deep.equal(['table=3, priority=7,tun_id=0x3e9 actions=output:1']);
      expect(await ovs.dumpFlowsSorted('br-tls')).to.include(' table=3, priority=7,tun_id=0x3e9 actions=output:1');

      // Three clients the listener must refuse: another CA's certificate, no certificate, no TLS.
      const rogue = await tryClient(port, clientOptions(pki.rogue));
      const anonymous = await tryClient(port, clientOptions({ caCert: pki.rogue.caCert }));
      const plain = await tryClient(port, undefined);
      for (const [what, r] of Object.entries({ rogue, anonymous, plain })) expect(r.received, `${what} got OpenFlow bytes`).to.equal(0);
      await eventually(() => log.lines('TLS peer refused').length === 3, 'three refusals in the log');
      const refused = log.lines('TLS peer refused');
      expect(refused.map((r) => r.level)).to.deep.equal([40, 40, 40]);
      expect(refused.map((r) => r.peer)).to.satisfy((peers: string[]) => peers.every((p) => /^127\.0\.0\.1:\d+$/.test(p)));
      expect(refused.map((r) => [r.reason, r.subject ?? null])).to.have.deep.members([
        ['certificate refused (UNABLE_TO_VERIFY_LEAF_SIGNATURE)', 'C=US, ST=CA, O=Open vSwitch, OU=Open vSwitch certifier, CN=rogue'],
        ['no certificate', null],
        ['wrong version number', null],
      ]);
      expect(log.lines('OpenFlow handshake failed')).to.have.length(0);

      // The switch is still served on the same session.
      expect(conn.isOpen).to.equal(true);
      await applyFlowMods(conn, [parseFlow('table=3,priority=8,tun_id=0x3ea actions=output:2')]);
      expect(await ovs.dumpFlowsSorted('br-tls')).to.include(' table=3, priority=8,tun_id=0x3ea actions=output:2');
      expect(log.lines('TLS peer accepted')).to.have.length(1);
    } finally {
      await l.close();
    }
  });

  it('a switch refuses a controller whose certificate its CA did not sign', async () => {
    // Our listener presents the rogue certificate (trusting the rogue's CA, so the refusal is the switch's).
    const log = captureLog();
    const creds = TlsCredentials.load({ ...pki.rogue, caCert: pki.rogueCaCert });
    const { l } = await serveSwitch(creds, log);
    let sessions = 0;
    l.sessions$.subscribe(() => sessions++);
    try {
      await eventually(() => log.lines('TLS peer refused').length > 0, 'the switch to abort the handshake');
      // The alert comes from the switch: it refused our certificate (before we could judge its own).
      expect(log.lines('TLS peer refused')[0]!.reason).to.equal('tlsv1 alert unknown ca');
      expect(sessions).to.equal(0);
    } finally {
      await l.close();
    }
  });

  it('connects actively to a switch listening on pssl: and dumps its flows', async () => {
    const port = await freePort();
    await ovs.addBridge('br-pssl');
    await ovs.vsctl('set-controller', 'br-pssl', `pssl:${port}:127.0.0.1`);
    await ovs.ofctl('add-flow', ovs.mgmtTarget('br-pssl'), 'table=5,priority=9,in_port=3 actions=drop');
    const target = parseTarget(`ssl:127.0.0.1:${port}`, {}, TlsCredentials.load(pki.controller));
    let conn: OfConnection | undefined;
    await eventually(async () => {
      conn = await connectSwitch(target, { features: false });
      return true;
    }, 'the switch to listen on pssl:');
    try {
      expect((await dumpFlows(conn!, { table: 5 })).map((f) => formatFlow(f))).to.deep.equal(['table=5, priority=9,in_port=3 actions=drop']);
    } finally {
      conn!.close('test done');
    }
    // Without a certificate its CA signed, the switch refuses us.
    const rogue = parseTarget(`ssl:127.0.0.1:${port}`, {}, TlsCredentials.load({ ...pki.rogue, caCert: pki.controller.caCert }));
    const err = await connectSwitch(rogue, { features: false, requestTimeoutMs: 5000 }).then(() => 'connected', (e: Error) => e.message);
    // TLS 1.3: the client's certificate is judged after our side finished, so the alert may end the session instead.
    expect(err).to.match(new RegExp(`^ssl:127\\.0\\.0\\.1:${port}: .*tlsv1 alert unknown ca`));
  });

  it('the flow tool reaches a switch on pssl: with --private-key/--certificate/--ca-cert, as ovs-ofctl does', async () => {
    const port = await freePort();
    await ovs.addBridge('br-cli');
    await ovs.vsctl('set-controller', 'br-cli', `pssl:${port}:127.0.0.1`);
    const target = `ssl:127.0.0.1:${port}`;
    const tls = ['--private-key', pki.controller.privateKey, '--certificate', pki.controller.certificate, '--ca-cert', pki.controller.caCert];
    await eventually(async () => (await runCli(['add-flow', target, 'table=7,priority=3,in_port=2 actions=drop', ...tls])).code === 0, 'add-flow over TLS');
    const dump = await runCli(['dump-flows', target, '--no-stats', ...tls]);
    expect(dump.code, dump.stderr).to.equal(0);
    expect(dump.stdout.trim()).to.equal((await ovs.ofctl('dump-flows', '--no-stats', ovs.mgmtTarget('br-cli'))).trim());
    expect(dump.stdout).to.include('table=7, priority=3,in_port=2 actions=drop');
    // Without the options: a clear refusal, nothing sent.
    const bare = await runCli(['dump-flows', target]);
    expect(bare.code).to.equal(1);
    expect(bare.stderr).to.match(/needs --private-key, --certificate and --ca-cert/);
  });
});
