// TLS configuration: key, certificate and CA files (made by ovs-pki) are checked at start with
// errors that name the file; the loaded credentials never show their key; targets without an
// address bind loopback; `ssl:` targets demand the credentials.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { formatOvsdbTarget, parseOvsdbTarget } from '../../lib/ovsdb/connection.js';
import { listen } from '../../lib/switch/listener.js';
import { formatTarget, parseListenTarget, parseTarget } from '../../lib/switch/target.js';
import { TlsConfigError, TlsCredentials } from '../../lib/tls.js';
import { TestPki } from '../../testing/pki.js';
import { runCli } from '../../testing/run-cli.js';
import { pemBodyLines } from './log-capture.js';

const run = promisify(execFile);

describe('TLS configuration', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let scratch: string;
  before(async () => {
    pki = await TestPki.create();
    scratch = mkdtempSync(join(tmpdir(), 'ofctl-ts-tls-'));
  });
  after(() => {
    pki?.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('loads ovs-pki files; JSON, inspect and the subject show file names, never the key', () => {
    const creds = TlsCredentials.load(pki.controller);
    expect(creds.subject).to.match(/CN=ctl/);
    const shown = `${JSON.stringify(creds)}\n${inspect(creds, { depth: 10, showHidden: true })}\n${JSON.stringify({ t: parseListenTarget('ssl:6653', creds) })}`;
    expect(shown).to.include(pki.controller.privateKey);
    const body = pemBodyLines(pki.controller.privateKey);
    expect(body.length).to.be.above(10);
    for (const l of body) expect(shown).not.to.include(l);
    expect(shown).not.to.match(/PRIVATE KEY/);
  });

  it('names the file in every error', async () => {
    const notPem = join(scratch, 'not-pem.txt');
    writeFileSync(notPem, 'hello\n');
    const encrypted = join(scratch, 'encrypted.pem');
    await run('openssl', ['pkey', '-in', pki.controller.privateKey, '-aes256', '-passout', 'pass:x', '-out', encrypted]);
    const cases: Array<[Partial<typeof pki.controller>, RegExp]> = [
      [{ privateKey: join(scratch, 'missing.pem') }, /^private key .*missing\.pem: no such file$/],
      [{ privateKey: notPem }, /^private key .*not-pem\.txt: not a PEM private key$/],
      [{ privateKey: encrypted }, /^private key .*encrypted\.pem: encrypted keys are not supported$/],
      [{ certificate: notPem }, /^certificate .*not-pem\.txt: no PEM certificate in it$/],
      [{ certificate: pki.switch.certificate }, /^certificate .*sw-cert\.pem does not match private key .*ctl-privkey\.pem$/],
      [{ caCert: scratch }, /^CA certificate .*: is a directory$/],
      [{ caCert: pki.controller.privateKey }, /^CA certificate .*ctl-privkey\.pem: no PEM certificate in it$/],
    ];
    for (const [files, re] of cases) {
      expect(() => TlsCredentials.load({ ...pki.controller, ...files })).to.throw(TlsConfigError, re);
    }
    // Ten years from now (ovs-pki signs for ten), the certificate has expired.
    const later = new Date(Date.now() + 11 * 365 * 86_400_000);
    expect(() => TlsCredentials.load(pki.controller, later)).to.throw(TlsConfigError, /^certificate .*ctl-cert\.pem: expired on /);
  });

  it('listen targets without an address bind loopback; ssl: needs the credentials', async () => {
    const creds = TlsCredentials.load(pki.controller);
    const loopback = ['tcp:6653', 'ssl:6653', 'ptcp:6653', 'pssl:6653'];
    for (const text of loopback) {
      const t = parseListenTarget(text, creds);
      expect(t.kind === 'unix' ? undefined : t.host, text).to.equal('127.0.0.1');
    }
    expect(formatTarget(parseListenTarget('pssl:6653', creds))).to.equal('ssl:127.0.0.1:6653');
    expect(formatTarget(parseListenTarget('pssl:6653:[::1]', creds))).to.equal('ssl:[::1]:6653');
    expect(formatTarget(parseListenTarget('ssl:0.0.0.0:6653', creds))).to.equal('ssl:0.0.0.0:6653');
    expect(formatTarget(parseListenTarget('ptcp:6653:10.0.0.1'))).to.equal('tcp:10.0.0.1:6653');
    for (const text of ['ssl:6653', 'pssl:6653', 'ssl:127.0.0.1:6653']) {
      expect(() => parseListenTarget(text), text).to.throw(/needs --private-key, --certificate and --ca-cert/);
    }
    expect(() => parseTarget('ssl:127.0.0.1:6653')).to.throw(/needs --private-key, --certificate and --ca-cert/);
    expect(parseTarget('ssl:127.0.0.1:6653', {}, creds)).to.include({ kind: 'ssl', host: '127.0.0.1', port: 6653 });
    expect(() => parseListenTarget('ssl:99999')).to.throw(/bad address or port/);
    expect(() => parseListenTarget('http:6653')).to.throw(/not a listen target/);
    expect(() => parseOvsdbTarget('ssl:127.0.0.1:6640')).to.throw(/needs --private-key, --certificate and --ca-cert/);
    expect(formatOvsdbTarget(parseOvsdbTarget('ssl:127.0.0.1:6640', creds))).to.equal('ssl:127.0.0.1:6640');
    // What the kernel really bound (getsockname), for `ssl:PORT` and `tcp:PORT`.
    for (const text of ['ssl:0', 'tcp:0']) {
      const l = await listen(parseListenTarget(text, creds));
      try {
        expect(l.server.address(), text).to.include({ address: '127.0.0.1', family: 'IPv4' });
      } finally {
        await l.close();
      }
    }
  });

  it('the controller command listens on loopback by default and refuses half a TLS configuration', async () => {
    const help = await runCli(['controller', '--help']);
    const def = /--listen[\s\S]*?\[default: "([^"]+)"\]/.exec(help.stdout)?.[1];
    expect(def, help.stdout + help.stderr).to.equal('tcp:127.0.0.1:6653');
    const half = await runCli(['controller', '--listen', 'ssl:0', '--topology', '/dev/null', '--private-key', pki.controller.privateKey]);
    expect(half.code).to.equal(1);
    expect(half.stderr).to.match(/--private-key, --certificate and --ca-cert go together/);
    const none = await runCli(['controller', '--listen', 'ssl:0', '--topology', '/dev/null']);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.match(/ssl:0: needs --private-key, --certificate and --ca-cert/);
    const bad = await runCli(['controller', '--listen', 'ssl:0', '--topology', '/dev/null', '--private-key', pki.switch.privateKey,
      '--certificate', pki.controller.certificate, '--ca-cert', pki.controller.caCert]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/certificate .*ctl-cert\.pem does not match private key .*sw-privkey\.pem/);
    for (const l of pemBodyLines(pki.switch.privateKey)) expect(bad.stderr).not.to.include(l);
  });
});
