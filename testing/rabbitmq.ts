// A private RabbitMQ (Debian's rabbitmq-server) for tests: its own node name, ports, epmd, Mnesia
// and logs in a fresh temp directory, no plugins, guest/guest on 127.0.0.1. It stops exactly the
// processes it started (the Erlang VM and the epmd it runs beside it, by pid) and removes its directory.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { eventually, freePort } from './wait.js';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const EPMD = '/usr/bin/epmd';

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

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly nodename: string,
    private readonly epmd: ChildProcess,
    private readonly server: ChildProcess,
  ) {}

  /** amqp://guest:guest@127.0.0.1:PORT/ (guest may log in from loopback only). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`;
  }

  static async start(): Promise<RabbitMq> {
    assertRabbitInstalled();
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-rabbit-'));
    const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
    const nodename = `ofctl${process.pid}x${port}@localhost`;
    writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
    writeFileSync(join(dir, 'rabbitmq.conf'), 'loopback_users.guest = true\n');
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
    const t0 = Date.now();
    // Our own epmd, in the foreground: the node registers with it instead of spawning a daemon we could not name.
    const epmd = spawn(EPMD, ['-port', String(epmdPort), '-address', '127.0.0.1'], { env, stdio: 'ignore' });
    const server = spawn(SERVER, [], { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr?.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    const rabbit = new RabbitMq(dir, port, nodename, epmd, server);
    LIVE.add(rabbit);
    try {
      await rabbit.waitForAmqp(30_000, () => stderr);
    } catch (err) {
      await rabbit.stop();
      throw err;
    }
    rabbit.startMs = Date.now() - t0;
    return rabbit;
  }

  /** The rabbitmq-server script's pid (the Erlang VM is its child; it forwards SIGTERM to it). */
  get pid(): number | undefined {
    return this.server.pid;
  }

  /** Resident set of the script and everything under it (the VM, erl_child_setup), in bytes. */
  rssBytes(): number {
    let total = 0;
    const walk = (pid: number): void => {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        total += kb ? Number(kb[1]) * 1024 : 0;
        const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
        for (const kid of kids ? kids.split(/\s+/) : []) walk(Number(kid));
      } catch {
        // gone meanwhile
      }
    };
    if (this.server.pid !== undefined) walk(this.server.pid);
    return total;
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

/** Connects, sends "AMQP\0\0\9\1", and expects a method frame back (type 1). */
function amqpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = new Socket();
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('data', (d: Buffer) => done(d[0] === 1));
    sock.connect(port, '127.0.0.1', () => sock.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])));
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
