// OVSDB over mutual TLS with a real ovsdb-server (`--remote=pssl:` with its ovs-pki switch
// certificate): the client monitors and transacts and resyncs after a restart, as over TCP; the
// server refuses a client without a certificate its CA signed, and we refuse a server whose
// certificate our CA did not sign.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import { fromMap, ovsMap } from '../../codecs/ovsdb/protocol.js';
import { OvsdbClient } from '../../lib/ovsdb/client.js';
import { OvsdbConnection, parseOvsdbTarget } from '../../lib/ovsdb/connection.js';
import { TlsCredentials, TlsFiles } from '../../lib/tls.js';
import { TestPki } from '../../testing/pki.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

const TABLES = { Open_vSwitch: ['external_ids', 'cur_cfg'] };

function pssl(port: number, f: TlsFiles): string[] {
  return [`--remote=pssl:${port}:127.0.0.1`, `--private-key=${f.privateKey}`, `--certificate=${f.certificate}`, `--ca-cert=${f.caCert}`];
}

describe('OVSDB over mutual TLS with a real ovsdb-server', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let ovs: OvsSandbox;
  let port: number;
  before(async () => {
    pki = await TestPki.create();
    port = await freePort();
    ovs = await OvsSandbox.start({ ovsdbArgs: pssl(port, pki.switch) });
  });
  after(async () => {
    await ovs?.stop();
    pki?.remove();
  });

  it('monitors and transacts over ssl:, and resyncs after ovsdb-server restarts', async () => {
    const target = parseOvsdbTarget(`ssl:127.0.0.1:${port}`, TlsCredentials.load(pki.controller));
    let client: OvsdbClient | undefined;
    await eventually(async () => {
      client = await OvsdbClient.start(target, { tables: TABLES, minBackoffMs: 50, maxBackoffMs: 200 });
      return true;
    }, 'ovsdb-server to listen on pssl:');
    const c = client!;
    try {
      expect(c.connected$.value).to.equal(true);
      const row = [...c.replica.get('Open_vSwitch')!.keys()][0]!;
      const marked = (v: string) => firstValueFrom(c.replica$.pipe(filter((r) => fromMap(r.get('Open_vSwitch')?.get(row)?.external_ids).get('tls') === v)));
      const first = marked('one');
      await c.transact([{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['external_ids', 'insert', ovsMap({ tls: 'one' })]] }]);
      await first; // the monitor saw our own transaction come back over TLS
      expect(await ovs.vsctl('get', 'Open_vSwitch', '.', 'external_ids:tls')).to.equal('one\n');

      await ovs.killOvsdbServer();
      await eventually(() => !c.connected$.value, 'the client to see the loss');
      await ovs.startOvsdbServer();
      await eventually(() => c.connected$.value, 'the client to reconnect over TLS');
      const second = marked('two');
      await ovs.vsctl('set', 'Open_vSwitch', '.', 'external_ids:tls=two');
      await second;
    } finally {
      await c.close();
    }
  });

  it('ovsdb-server refuses a client without a certificate its CA signed', async () => {
    // No certificate at all: the request gets no answer, the server ends the session.
    const anonymous = await new Promise<{ received: string; error: string | undefined }>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.controller.caCert), checkServerIdentity: () => undefined });
      let received = '';
      let error: string | undefined;
      s.on('secureConnect', () => s.write('{"id":1,"method":"list_dbs","params":[]}'));
      s.on('data', (d: Buffer) => (received += d.toString()));
      s.on('error', (e) => (error = e.message));
      s.on('close', () => resolve({ received, error }));
    });
    expect(anonymous.received).to.equal('');
    expect(anonymous.error).to.match(/certificate required/);
    // A certificate from another CA (the rogue trusts the server, so the refusal is the server's).
    const rogue = parseOvsdbTarget(`ssl:127.0.0.1:${port}`, TlsCredentials.load({ ...pki.rogue, caCert: pki.controller.caCert }));
    const outcome = await OvsdbConnection.connect(rogue, { requestTimeoutMs: 5000 })
      .then((conn) => conn.request('list_dbs', []).then(() => 'answered', (e: Error) => e.message))
      .catch((e: Error) => e.message);
    expect(outcome).to.match(/tlsv1 alert unknown ca/);
    // ovsdb-server's own account of both refusals.
    const serverLog = (): string => readFileSync(join(ovs.dir, 'ovsdb-server.log'), 'utf8');
    await eventually(() => /SSL_accept: .*peer did not return a certificate/.test(serverLog()), 'ovsdb-server to log the anonymous client');
    await eventually(() => /SSL_accept: .*certificate verify failed/.test(serverLog()), 'ovsdb-server to log the rogue client');
  });

  it('we refuse an ovsdb-server whose certificate our CA did not sign', async () => {
    const roguePort = await freePort();
    // That server trusts our CA, so only our side can refuse.
    const rogueBox = await OvsSandbox.start({ ovsdbArgs: pssl(roguePort, { ...pki.rogue, caCert: pki.switch.caCert }) });
    try {
      const target = parseOvsdbTarget(`ssl:127.0.0.1:${roguePort}`, TlsCredentials.load(pki.controller));
      let outcome = '';
      await eventually(async () => {
        outcome = await OvsdbConnection.connect(target, { requestTimeoutMs: 5000 }).then(() => 'connected', (e: Error) => e.message);
        return !/ECONNREFUSED/.test(outcome);
      }, 'the rogue ovsdb-server to listen');
      expect(outcome).to.equal(`ssl:127.0.0.1:${roguePort}: unable to verify the first certificate`);
    } finally {
      await rogueBox.stop();
    }
  });
});
