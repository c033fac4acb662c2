// TLS for OpenFlow and OVSDB as Open vSwitch does it: mutual authentication against a CA (e.g.
// certificates made by ovs-pki). Each side presents its certificate and verifies the peer's chain
// against the CA; host names are not checked, since ovs-pki certificates name no host and OVS itself
// checks only the chain. The files are read and checked once, at start, with errors that name them.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ConnectionOptions, Server, TLSSocket } from 'node:tls';
import { inspect } from 'node:util';

/**
 * node:tls and node:crypto, loaded on first use: ~6 ms of Node's own modules that only ssl:
 * targets and listeners need, where every command starts in ~50 ms.
 */
let requireBuiltin: NodeJS.Require | undefined;
/** The require function itself made on first use too (a file URL and a Module: ~1 ms a command). */
const builtin = (id: string): unknown => (requireBuiltin ??= createRequire(import.meta.url))(id);
export const nodeTls = (): typeof import('node:tls') => builtin('node:tls') as typeof import('node:tls');
const nodeCrypto = (): typeof import('node:crypto') => builtin('node:crypto') as typeof import('node:crypto');

/** The three files, as `ovs-vsctl set-ssl KEY CERT CACERT` and ovsdb-server's options name them. */
export interface TlsFiles {
  readonly privateKey: string;
  readonly certificate: string;
  readonly caCert: string;
}

export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/** OVS 3.1 (OpenSSL 3) negotiates TLS 1.3, and 1.2 with older peers; nothing older is accepted. */
const MIN_VERSION = 'TLSv1.2';
/** A peer that connects and never completes the handshake is dropped after this. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new TlsConfigError(`${what} ${path}: ${why}`);
  }
}

function parseCertificates(pem: Buffer, path: string, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERT) ?? [];
  if (!blocks.length) throw new TlsConfigError(`${what} ${path}: no PEM certificate in it`);
  return blocks.map((b) => {
    try {
      return new (nodeCrypto().X509Certificate)(b);
    } catch {
      throw new TlsConfigError(`${what} ${path}: not a valid PEM certificate`);
    }
  });
}

function checkValidity(cert: X509Certificate, path: string, what: string, now: Date): void {
  if (new Date(cert.validFrom) > now) throw new TlsConfigError(`${what} ${path}: not valid before ${cert.validFrom}`);
  if (new Date(cert.validTo) < now) throw new TlsConfigError(`${what} ${path}: expired on ${cert.validTo}`);
}

/**
 * A loaded key, certificate and CA. The key material is held in private fields and never
 * serialised: logging or inspecting this object shows only the file names.
 */
export class TlsCredentials {
  readonly #key: Buffer;
  readonly #cert: Buffer;
  readonly #ca: Buffer;

  private constructor(
    readonly files: TlsFiles,
    key: Buffer,
    cert: Buffer,
    ca: Buffer,
    /** The subject of our own certificate (for the log). */
    readonly subject: string,
  ) {
    this.#key = key;
    this.#cert = cert;
    this.#ca = ca;
  }

  /** Reads and checks the files: the key must be a clear PEM key matching the certificate, all certificates valid now. */
  static load(files: TlsFiles, now = new Date()): TlsCredentials {
    const keyPem = readPem(files.privateKey, 'private key');
    const certPem = readPem(files.certificate, 'certificate');
    const caPem = readPem(files.caCert, 'CA certificate');
    // PKCS#8 or traditional (OpenSSL) encryption: there is no passphrase to give, as with OVS.
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyPem.toString('latin1'))) {
      throw new TlsConfigError(`private key ${files.privateKey}: encrypted keys are not supported`);
    }
    let key: KeyObject;
    try {
      key = nodeCrypto().createPrivateKey(keyPem);
    } catch {
      throw new TlsConfigError(`private key ${files.privateKey}: not a PEM private key`);
    }
    const [cert] = parseCertificates(certPem, files.certificate, 'certificate');
    if (!cert!.checkPrivateKey(key)) {
      throw new TlsConfigError(`certificate ${files.certificate} does not match private key ${files.privateKey}`);
    }
    checkValidity(cert!, files.certificate, 'certificate', now);
    for (const ca of parseCertificates(caPem, files.caCert, 'CA certificate')) checkValidity(ca, files.caCert, 'CA certificate', now);
    return new TlsCredentials(files, keyPem, certPem, caPem, oneLine(cert!.subject));
  }

  /**
   * Server side: present our certificate, require the peer's, and hand over only peers whose
   * certificate the CA signed. Node's own rejection (rejectUnauthorized) would drop such a peer
   * before we learn who it was; here the verdict is taken the same way, on the same verification,
   * but the refusal can name the peer's address and the certificate it showed.
   */
  createServer(onAccepted: (sock: TLSSocket, peer: PeerIdentity) => void, onRefused: (r: TlsRefusal) => void): Server {
    const server = nodeTls().createServer({
      key: this.#key, cert: this.#cert, ca: this.#ca, requestCert: true, rejectUnauthorized: false,
      minVersion: MIN_VERSION, handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    }, (sock) => {
      const peer = peerIdentity(sock);
      if (!sock.authorized) {
        // Nothing has been read or written yet: the peer gets no byte of the application protocol.
        sock.destroy();
        const reason = peer.subject === undefined ? 'no certificate' : `certificate refused (${String(sock.authorizationError)})`;
        onRefused({ ...peer, reason });
        return;
      }
      onAccepted(sock, peer);
    });
    // A peer that does not complete a TLS handshake at all (not TLS, no common version, timeout).
    server.on('tlsClientError', (err: Error, sock: TLSSocket) => onRefused({ address: addressOf(sock), reason: opensslReason(err) }));
    return server;
  }

  /** Client side: present our certificate and refuse a server whose chain the CA did not sign. */
  clientOptions(): ConnectionOptions {
    return {
      key: this.#key, cert: this.#cert, ca: this.#ca, rejectUnauthorized: true, minVersion: MIN_VERSION,
      checkServerIdentity: () => undefined,
    };
  }

  toJSON(): TlsFiles {
    return { ...this.files };
  }

  [inspect.custom](): string {
    return `TlsCredentials(${JSON.stringify(this.files)})`;
  }
}

/** Who is on the other end: its address, and the subject and SHA-256 fingerprint of the certificate it showed. */
export interface PeerIdentity {
  readonly address: string;
  readonly subject?: string;
  readonly fingerprint?: string;
  /** The TLS version agreed on. */
  readonly protocol?: string;
}

export interface TlsRefusal extends PeerIdentity {
  readonly reason: string;
}

function addressOf(sock: TLSSocket): string {
  return sock.remoteAddress ? `${sock.remoteAddress}:${sock.remotePort}` : 'unknown';
}

function peerIdentity(sock: TLSSocket): PeerIdentity {
  const c = sock.getPeerX509Certificate();
  return {
    address: addressOf(sock), ...(c ? { subject: oneLine(c.subject), fingerprint: c.fingerprint256 } : {}),
    ...(sock.getProtocol() ? { protocol: sock.getProtocol()! } : {}),
  };
}

/** OpenSSL's reason text ("wrong version number") without its error-stack decoration. */
export function opensslReason(err: Error): string {
  return /SSL routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message.trim();
}

function oneLine(subject: string): string {
  return subject.split('\n').filter((l) => l.length > 0).join(', ');
}

/** The message of an option error when a TLS target is used without credentials. */
export const TLS_OPTIONS_NEEDED = 'needs --private-key, --certificate and --ca-cert';

/** The three command-line options: all of them (credentials loaded and checked) or none. */
export function loadTlsOptions(o: { readonly privateKey?: string | undefined; readonly certificate?: string | undefined; readonly caCert?: string | undefined }): TlsCredentials | undefined {
  const given = [o.privateKey, o.certificate, o.caCert].filter((f) => f !== undefined).length;
  if (given === 0) return undefined;
  if (given < 3) throw new TlsConfigError('--private-key, --certificate and --ca-cert go together');
  return TlsCredentials.load({ privateKey: o.privateKey!, certificate: o.certificate!, caCert: o.caCert! });
}
