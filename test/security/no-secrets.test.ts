// Secrets stay secret: the log censors fields that may carry one; the HTTP topology endpoint binds
// loopback by default and demands its token; and the controller command, run end to end over TLS
// (OpenFlow and OVSDB) with a token file, logs neither the token (right or wrong) nor any key.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { TlsCredentials } from '../../lib/tls.js';
import { httpSource } from '../../lib/topology/sources.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { ControllerProcess } from '../../testing/controller-process.js';
import { TestPki } from '../../testing/pki.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';
import { captureLog, pemBodyLines } from './log-capture.js';

const TOKEN = 'tok-9f3c1e7a52d84b06';
const WRONG = 'tok-wrong-55aa11bb';

/** This machine's non-loopback IPv4 addresses (a service bound to loopback must refuse them). */
function externalIPv4(): string[] {
  return Object.values(networkInterfaces()).flatMap((l) => l ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address);
}

function tcpRefused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('no secret logged, loopback by default', function () {
  this.timeout(90_000);
  let pki: TestPki;
  before(async () => {
    pki = await TestPki.create();
  });
  after(() => pki?.remove());

  it('the log censors fields that may carry a secret, and TLS credentials show only file names', () => {
    const log = captureLog();
    const creds = TlsCredentials.load(pki.controller);
    log.logger.info({ token: 'S1-token', headers: { authorization: 'Bearer S2-auth' }, req: { headers: { authorization: 'Bearer S3-req' } },
      tls: creds, options: { key: 'S4-key', passphrase: 'S5-pass' }, password: 'S6-pw', httpToken: 'S7-http' }, 'something');
    const text = log.text();
    for (const s of ['S1-token', 'S2-auth', 'S3-req', 'S4-key', 'S5-pass', 'S6-pw', 'S7-http']) expect(text).not.to.include(s);
    expect(text.match(/\[redacted\]/g)).to.have.length(7);
    expect(text).to.include(pki.controller.privateKey); // the file name is not a secret
    for (const l of pemBodyLines(pki.controller.privateKey)) expect(text).not.to.include(l);
  });

  it('the HTTP topology endpoint binds loopback unless told otherwise and demands its token', async () => {
    const src = await httpSource(new TopologyStore(), { port: 0, token: TOKEN });
    try {
      expect(src.server.address()).to.include({ address: '127.0.0.1' });
      for (const ip of externalIPv4()) expect(await tcpRefused(ip, src.port), `${ip}:${src.port}`).to.equal(true);
      const url = `http://127.0.0.1:${src.port}/topology`;
      expect((await fetch(url)).status).to.equal(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${WRONG}` } })).status).to.equal(401);
      expect((await fetch(url, { headers: { authorization: TOKEN } })).status).to.equal(401); // not a bearer token
      expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status).to.equal(200);
    } finally {
      await src.stop();
    }
  });

  it('the controller command over TLS (OpenFlow and OVSDB) programs a host and logs no token and no key', async () => {
    const [ofPort, ovsdbPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    const sw = pki.switch;
    const ovs = await OvsSandbox.start({
      ovsdbArgs: [`--remote=pssl:${ovsdbPort}:127.0.0.1`, `--private-key=${sw.privateKey}`, `--certificate=${sw.certificate}`, `--ca-cert=${sw.caCert}`],
    });
    await ovs.vsctl('set-ssl', sw.privateKey, sw.certificate, sw.caCert);
    await ovs.plugVm('tap1', 'vm1', 'fa:16:3e:00:00:01');
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-secret-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const ctl = pki.controller;
    const proc = ControllerProcess.start(['--listen', `ssl:${ofPort}`, '--topology', `http:${httpPort}`,
      '--http-token-file', tokenFile, '--private-key', ctl.privateKey, '--certificate', ctl.certificate, '--ca-cert', ctl.caCert,
      '--datapath-type', 'netdev', '--l2pop'], { OFCTL_TS_LOG: 'debug' });
    const alive = proc.alive;
    const url = `http://127.0.0.1:${httpPort}`;
    try {
      await eventually(async () => (await fetch(`${url}/topology`, { headers: { authorization: `Bearer ${TOKEN}` } })).ok, 'the HTTP endpoint', 20_000, alive);
      // Refused requests first: no token, a wrong one.
      expect((await fetch(`${url}/events`, { method: 'POST', body: '{"type":"network","id":"x","vni":7}' })).status).to.equal(401);
      expect((await fetch(`${url}/events`, { method: 'POST', headers: { authorization: `Bearer ${WRONG}` }, body: '{"type":"network","id":"x","vni":7}' })).status).to.equal(401);
      const topology = [
        `{"type":"host","name":"h1","tunnelIp":"10.250.0.1","ovsdb":"ssl:127.0.0.1:${ovsdbPort}"}`,
        '{"type":"host","name":"h2","tunnelIp":"10.250.0.2"}',
        '{"type":"network","id":"red","vni":100}',
        '{"type":"port","id":"vm1","network":"red","host":"h1","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
        '{"type":"port","id":"vm2","network":"red","host":"h2","mac":"fa:16:3e:00:00:02","fixedIps":["10.1.0.2"]}',
      ].join('\n');
      const posted = await fetch(`${url}/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: topology });
      expect(posted.status).to.equal(200);
      // Set up over OVSDB/TLS (bridges, the controller target), then programmed over OpenFlow/TLS.
      await eventually(async () => (await ovs.dumpFlowsSorted('br-tun')).some((l) => l.includes('dl_dst=fa:16:3e:00:00:02')), 'the l2pop flow on br-tun', 30_000, alive);
      expect((await ovs.vsctl('get-controller', 'br-tun')).trim()).to.equal(`ssl:127.0.0.1:${ofPort}`);
      // A client with another CA's certificate is refused by the running controller.
      await new Promise<void>((resolve) => {
        const s = tlsConnect({ host: '127.0.0.1', port: ofPort, key: readFileSync(pki.rogue.privateKey), cert: readFileSync(pki.rogue.certificate),
          ca: readFileSync(pki.rogue.caCert), checkServerIdentity: () => undefined });
        s.on('error', () => undefined);
        s.on('close', () => resolve());
      });
      await eventually(() => /TLS peer refused/.test(proc.log), 'the refusal in the log', 10_000, alive);
    } finally {
      const code = await proc.kill('SIGTERM');
      await ovs.stop();
      rmSync(dir, { recursive: true, force: true });
      expect(code, proc.log).to.equal(0);
    }
    const stderr = proc.log;
    const lines = stderr.split('\n').filter((l) => l).map((l) => JSON.parse(l) as Record<string, unknown>);
    const msgs = lines.map((l) => l.msg);
    expect(msgs).to.include.members(['TLS credentials loaded', 'TLS peer accepted', 'TLS peer refused', 'controller running']);
    expect(lines.find((l) => l.msg === 'topology source')).to.include({ source: `http:127.0.0.1:${httpPort}`, tokenRequired: true });
    expect(lines.find((l) => l.msg === 'controller running')).to.include({ listen: `ssl:127.0.0.1:${ofPort}` });
    expect(lines.filter((l) => l.msg === 'TLS peer accepted').map((l) => l.subject)).to.satisfy((s: string[]) => s.length >= 2 && s.every((x) => /CN=sw$/.test(x)));
    expect(stderr).to.match(/connected to ssl:127\.0\.0\.1:\d+/); // the OVSDB session
    // And never a secret.
    for (const secret of [TOKEN, WRONG]) expect(stderr).not.to.include(secret);
    for (const key of [ctl.privateKey, sw.privateKey, pki.rogue.privateKey]) {
      for (const l of pemBodyLines(key)) expect(stderr).not.to.include(l);
    }
    expect(stderr).not.to.match(/PRIVATE KEY/);
  });
});
