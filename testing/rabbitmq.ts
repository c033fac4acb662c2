// A private RabbitMQ (Debian's rabbitmq-server) for tests: its own node name, ports, epmd, Mnesia
// and logs in a fresh temp directory, no plugins, guest/guest on 127.0.0.1, optionally an amqps
// listener too. It can be restarted (same port, node name and Mnesia: durable queues survive) and
// driven with rabbitmqctl. It stops exactly the processes it started (the Erlang VM and the epmd it
// runs beside it, by pid) and removes its directory.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { eventually, freePort } from './wait.js';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const EPMD = '/usr/bin/epmd';
const CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';
const run = promisify(execFile);

/** An amqps listener: RabbitMQ's ssl_options, files in PEM. */
export interface RabbitTls {
  /** The CAs a client certificate must chain to (ssl_options.cacertfile). */
  readonly caCert: string;
  readonly certificate: string;
  readonly privateKey: string;
  /** verify_peer and fail_if_no_peer_cert (a client must present a certificate). Default true. */
  readonly requireClientCert?: boolean;
}

/** Thrown when RabbitMQ is not installed: tests must fail loudly, never skip. */
export function assertRabbitInstalled(): void {
  for (const bin of [SERVER, EPMD]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: install rabbitmq-server (apt-get install -y rabbitmq-server)`);
  }
}

export class RabbitMq {
  private stopped = false;
  /** Milliseconds from spawn to the first AMQP handshake accepted. */
  startMs = 0;
  private stderr = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    /** The amqps port, when started with `tls`. */
    readonly tlsPort: number | undefined,
    readonly nodename: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly epmd: ChildProcess,
    private server: ChildProcess,
  ) {}

  /** amqp://guest:guest@127.0.0.1:PORT/ (guest may log in from loopback only). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`;
  }

  /** amqps://guest:guest@127.0.0.1:TLSPORT/ (started with `tls` only). */
  get tlsUrl(): string {
    if (this.tlsPort === undefined) throw new Error(`rabbitmq ${this.nodename} was started without tls`);
    return `amqps://guest:guest@127.0.0.1:${this.tlsPort}/`;
  }

  static async start(opts: { tls?: RabbitTls } = {}): Promise<RabbitMq> {
    assertRabbitInstalled();
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-rabbit-'));
    const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
    const tlsPort = opts.tls ? await freePort() : undefined;
    const nodename = `ofctl${process.pid}x${port}@localhost`;
    writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
    const conf = ['loopback_users.guest = true'];
    if (opts.tls) {
      const verify = opts.tls.requireClientCert ?? true;
      conf.push(`listeners.ssl.default = 127.0.0.1:${tlsPort}`, `ssl_options.cacertfile = ${opts.tls.caCert}`,
        `ssl_options.certfile = ${opts.tls.certificate}`, `ssl_options.keyfile = ${opts.tls.privateKey}`,
        `ssl_options.verify = ${verify ? 'verify_peer' : 'verify_none'}`, `ssl_options.fail_if_no_peer_cert = ${verify}`);
    }
    writeFileSync(join(dir, 'rabbitmq.conf'), `${conf.join('\n')}\n`);
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: dir, // the Erlang cookie is written here, not in root's home
      ERL_EPMD_PORT: String(epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_NODENAME: nodename,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    };
    // Our own epmd, in the foreground: the node registers with it instead of spawning a daemon we could not name.
    const epmd = spawn(EPMD, ['-port', String(epmdPort), '-address', '127.0.0.1'], { env, stdio: 'ignore' });
    const rabbit = new RabbitMq(dir, port, tlsPort, nodename, env, epmd, spawnServer(env, dir));
    LIVE.add(rabbit);
    try {
      await rabbit.started();
    } catch (err) {
      await rabbit.stop();
      throw err;
    }
    return rabbit;
  }

  /** Collects the server's stderr and waits for AMQP (and amqps); sets startMs. */
  private async started(): Promise<void> {
    const t0 = Date.now();
    this.stderr = '';
    this.server.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString('utf8'); });
    await this.waitForAmqp(30_000, () => this.stderr);
    if (this.tlsPort !== undefined) {
      const tlsPort = this.tlsPort;
      await eventually(() => listening(tlsPort), `rabbitmq-server ${this.nodename} to listen for amqps on port ${tlsPort}`, 10_000);
    }
    this.startMs = Date.now() - t0;
  }

  /**
   * Stops the server (SIGTERM by pid: RabbitMQ closes its clients' connections with
   * CONNECTION_FORCED) and, after `downMs`, starts it again on the same ports, node name and Mnesia
   * directory; resolves once it answers AMQP again. Our epmd keeps running.
   */
  async restart(downMs = 0, how: 'stop' | 'kill' = 'stop'): Promise<void> {
    if (this.stopped) throw new Error(`rabbitmq ${this.nodename} is stopped`);
    if (how === 'kill') await this.killTree();
    else await terminate(this.server, 10_000);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    this.server = spawnServer(this.env, this.dir);
    await this.started();
  }

  /** SIGKILL to the script and everything under it (the Erlang VM, erl_child_setup), by pid: a crash, no goodbye to clients. */
  private async killTree(): Promise<void> {
    const pids = this.tree();
    const exited = this.server.exitCode !== null || this.server.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => this.server.once('exit', () => r()));
    for (const pid of pids.reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await exited;
    await eventually(() => pids.every((pid) => !existsSync(`/proc/${pid}`) || /^\S+ \(\S+\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))), 'the broker\'s processes to be gone', 10_000);
  }

  /** Runs rabbitmqctl against this node (its own cookie, epmd and node name); returns its stdout. */
  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await run(CTL, ['-n', this.nodename, ...args], { env: this.env, cwd: this.dir, timeout: 60_000 });
    return stdout;
  }

  /** The rabbitmq-server script's pid (the Erlang VM is its child; it forwards SIGTERM to it). */
  get pid(): number | undefined {
    return this.server.pid;
  }

  /** Resident set of the script and everything under it (the VM, erl_child_setup), in bytes. */
  rssBytes(): number {
    let total = 0;
    for (const pid of this.tree()) {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        total += kb ? Number(kb[1]) * 1024 : 0;
      } catch {
        // gone meanwhile
      }
    }
    return total;
  }

  /** The script's pid and its descendants' (from /proc), parents first. */
  private tree(): number[] {
    const pids: number[] = [];
    const walk = (pid: number): void => {
      pids.push(pid);
      try {
        const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
        for (const kid of kids ? kids.split(/\s+/) : []) walk(Number(kid));
      } catch {
        // gone meanwhile
      }
    };
    if (this.server.pid !== undefined) walk(this.server.pid);
    return pids;
  }

  /** Until the port answers AMQP's protocol header with a Connection.Start frame. */
  private async waitForAmqp(timeoutMs: number, stderr: () => string): Promise<void> {
    await eventually(() => amqpAnswers(this.port), `rabbitmq-server ${this.nodename} to answer AMQP on port ${this.port}`, timeoutMs, async () => {
      if (this.server.exitCode !== null) {
        throw new Error(`rabbitmq-server exited ${this.server.exitCode} (logs in ${this.dir}/log): ${stderr()}`);
      }
    }, 100);
  }

  /** SIGTERM (RabbitMQ stops cleanly on it), SIGKILL after 10 s; then our epmd; then the directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    LIVE.delete(this);
    await terminate(this.server, 10_000);
    await terminate(this.epmd, 2_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function spawnServer(env: NodeJS.ProcessEnv, dir: string): ChildProcess {
  return spawn(SERVER, [], { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Connects to 127.0.0.1:port and lets `connected` decide; false on an error or after 1 s. */
function probe(port: number, connected: (sock: Socket, done: (ok: boolean) => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.connect(port, '127.0.0.1', () => connected(sock, done));
  });
}

/** A TCP connect succeeds (the amqps listener: no TLS handshake needed to know it listens). */
export function listening(port: number): Promise<boolean> {
  return probe(port, (_sock, done) => done(true));
}

/** Connects, sends "AMQP\0\0\9\1", and expects a method frame back (type 1). */
function amqpAnswers(port: number): Promise<boolean> {
  return probe(port, (sock, done) => {
    sock.once('data', (d: Buffer) => done(d[0] === 1));
    sock.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]));
  });
}

async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Brokers this process started and has not stopped: killed if the process exits first. */
const LIVE = new Set<RabbitMq>();
process.on('exit', () => {
  for (const r of LIVE) {
    for (const child of [r['server'], r['epmd']]) if (child.exitCode === null) child.kill('SIGKILL');
  }
});
