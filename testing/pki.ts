// Certificates for TLS tests, made by OVS's own ovs-pki in a temp directory (never its default
// /var/lib/openvswitch/pki): a PKI with its controller and switch CAs, a controller certificate and a
// switch certificate, and a "rogue" switch certificate from a second, unrelated PKI.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TlsFiles } from '../lib/tls.js';
import { OvsMissingError } from './sandbox.js';

const run = promisify(execFile);
const OVS_PKI = '/usr/bin/ovs-pki';

export class TestPki {
  private constructor(readonly dir: string) {}

  /** Ours: our certificate (controllerca) and the CA that signed the switches' and OVSDB servers' (switchca). */
  get controller(): TlsFiles {
    return this.files('ctl', join(this.dir, 'pki/switchca/cacert.pem'));
  }

  /** A hypervisor's (ovs-vswitchd, ovsdb-server): its certificate (switchca) and the CA that signed ours. */
  get switch(): TlsFiles {
    return this.files('sw', join(this.dir, 'pki/controllerca/cacert.pem'));
  }

  /** A switch certificate from another PKI; it trusts our CA, so a refusal can only come from our side. */
  get rogue(): TlsFiles {
    return this.files('rogue', join(this.dir, 'pki/controllerca/cacert.pem'));
  }

  /** Another PKI's switch CA (trusting it means trusting the rogue certificate, and not ours). */
  get rogueCaCert(): string {
    return join(this.dir, 'other-pki/switchca/cacert.pem');
  }

  static async create(): Promise<TestPki> {
    if (!existsSync(OVS_PKI)) throw new OvsMissingError(`${OVS_PKI} is missing: install openvswitch-common`);
    const pki = new TestPki(mkdtempSync(join(tmpdir(), 'ofctl-ts-pki-')));
    try {
      await pki.ovsPki('pki', 'init');
      await pki.ovsPki('pki', '-u', 'req+sign', 'ctl', 'controller');
      await pki.ovsPki('pki', '-u', 'req+sign', 'sw', 'switch');
      await pki.ovsPki('other-pki', 'init');
      await pki.ovsPki('other-pki', '-u', 'req+sign', 'rogue', 'switch');
    } catch (err) {
      pki.remove();
      throw err;
    }
    return pki;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private files(name: string, caCert: string): TlsFiles {
    return { privateKey: join(this.dir, `${name}-privkey.pem`), certificate: join(this.dir, `${name}-cert.pem`), caCert };
  }

  /** ovs-pki writes NAME-privkey.pem etc. in its working directory; its openssl log goes beside. */
  private async ovsPki(pkiDir: string, ...args: string[]): Promise<void> {
    await run(OVS_PKI, [`--dir=${join(this.dir, pkiDir)}`, `--log=${join(this.dir, `${pkiDir}.log`)}`, ...args], { cwd: this.dir });
  }
}
