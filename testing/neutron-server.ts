// A private neutron-server (Debian's package, 21.0.0 Zed) for tests: ML2 with vxlan, openvswitch and
// l2population, sqlite, no Keystone (auth_strategy = noauth), no Nova, one API, one RPC and one
// state-report worker, on 127.0.0.1, talking to the RabbitMQ it is given. Its config, database, lock
// files and log live in a fresh directory. It runs in a process group of its own (the parent forks
// its workers into it), so stop() ends exactly that group and nothing else, then removes the directory.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { procStat } from './proc.js';
import { eventually, freePort } from './wait.js';

const SERVER = '/usr/bin/neutron-server';
/** Debian's python3 (the PATH one may be a pyenv shim without Debian's modules). */
const PYTHON = '/usr/bin/python3';
const API_PASTE = '/etc/neutron/api-paste.ini';

/**
 * sqlite cannot run Neutron's migrations (`upgrade heads` fails: alembic cannot ALTER constraints in
 * SQLite), so the schema comes from Neutron's own models, as its unit tests do, and is then stamped
 * at the migration heads. One Python process for both: Neutron's imports are the slow part. It is
 * built once per test process (NeutronServer.prepare) and copied for each server.
 */
const BUILD_DB = `
import sys
import sqlalchemy
from neutron.db.migration.models import head
engine = sqlalchemy.create_engine(sys.argv[1])
head.get_metadata().create_all(engine)
engine.dispose()
from neutron.db.migration import cli
path = sys.argv[1][len('sqlite:///'):]
sys.argv = ['neutron-db-manage'] + sys.argv[2:] + ['stamp', 'heads']
try:
    cli.main()
except SystemExit as e:
    if e.code:
        raise
# WAL: readers never block a writer, so the server's processes (API, RPC, state reports) and the
# agents' heartbeats seldom meet sqlite's "database is locked" (kept in the file: the copies have it).
import sqlite3
c = sqlite3.connect(path)
assert c.execute('PRAGMA journal_mode=WAL').fetchone()[0] == 'wal'
c.close()
`;

/** Thrown when neutron-server is not installed: tests must fail loudly, never skip. */
export function assertNeutronInstalled(): void {
  for (const bin of [SERVER, PYTHON, API_PASTE]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: install neutron-server (see .ci/run: apt-get install --no-install-recommends neutron-server)`);
  }
}

export interface NeutronServerOptions {
  /** The broker, amqp://USER:PASS@HOST:PORT/VHOST (RabbitMq.url); given to oslo.messaging as rabbit://…. */
  readonly amqpUrl: string;
  /** Where the server's fresh directory is made (default: the OS temp dir). */
  readonly dir?: string;
  /**
   * Another database (an SQLAlchemy URL, e.g. testing/postgres.ts's), its schema made by Neutron's
   * own migrations; default: a sqlite file (built once per process, see BUILD_DB).
   */
  readonly database?: string;
  /** agent_down_time in seconds (Neutron's default 75): an agent without a heartbeat this long shows down. */
  readonly agentDownTimeS?: number;
  /** Until the API must answer; default 90 s (the machine is shared). */
  readonly timeoutMs?: number;
}

export class NeutronServer {
  private stopped = false;
  /** Milliseconds from start() (the database included) to the API's first 200 on GET /v2.0/networks. */
  startMs = 0;
  /** Of startMs, the part spent waiting for the empty database (built once per process, then copied). */
  dbMs = 0;

  private child: ChildProcess;
  private stderr: () => string;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly args: readonly string[],
  ) {
    [this.child, this.stderr] = this.spawn();
  }

  /** The server in a new session and process group it leads; its workers are forked into it. */
  private spawn(): [ChildProcess, () => string] {
    const child = spawn(SERVER, this.args, { cwd: this.dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString('utf8')).slice(-8000); });
    child.once('error', (e) => { stderr += `cannot run ${SERVER}: ${e.message}`; });
    return [child, () => stderr];
  }

  /**
   * Kills the server's whole process group (SIGKILL by default: a crash) and starts it again on
   * the same port, configuration and database; resolves once its API answers again.
   */
  async restart(signal: NodeJS.Signals = 'SIGKILL', downMs = 0): Promise<void> {
    const pgid = this.child.pid;
    if (pgid !== undefined) {
      signalGroup(pgid, signal);
      await eventually(() => groupMembers(pgid).length === 0, `neutron-server group ${pgid} to exit on ${signal}`, 15_000, undefined, 100);
    }
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    [this.child, this.stderr] = this.spawn();
    await this.waitForApi(90_000);
  }

  /** http://127.0.0.1:PORT (the API is under /v2.0). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The parent's pid; also its process group's id. */
  get pid(): number {
    return this.child.pid!;
  }

  get logFile(): string {
    return join(this.dir, 'neutron-server.log');
  }

  /**
   * Builds the empty database start() copies, once per process; a test may run it beside
   * RabbitMq.start() since it needs no broker. Throws when neutron-server is not installed.
   */
  static prepare(): Promise<string> {
    assertNeutronInstalled();
    TEMPLATE ??= buildTemplate();
    return TEMPLATE.promise;
  }

  static async start(opts: NeutronServerOptions): Promise<NeutronServer> {
    assertNeutronInstalled();
    const t0 = Date.now();
    const template = opts.database === undefined ? await NeutronServer.prepare() : undefined;
    const dir = mkdtempSync(join(opts.dir ?? tmpdir(), 'ofctl-ts-neutron-server-'));
    try {
      const port = await freePort();
      const database = opts.database ?? dbUrl(dir);
      const [conf, ml2] = writeConfig(dir, port, transportUrl(opts.amqpUrl), database, opts.agentDownTimeS);
      if (template) copyFileSync(template, join(dir, 'neutron.sqlite'));
      else {
        await new Promise<void>((resolve, reject) => execFile('/usr/bin/neutron-db-manage', ['--config-file', conf, 'upgrade', 'heads'], { cwd: dir, timeout: 300_000 },
          (err, _o, stderr) => (err ? reject(new Error(`neutron-db-manage upgrade heads failed: ${err.message}\n${stderr.slice(-3000)}`)) : resolve())));
      }
      const dbMs = Date.now() - t0;
      const server = new NeutronServer(dir, port, ['--config-file', conf, '--config-file', ml2]);
      LIVE.add(server);
      try {
        await server.waitForApi(opts.timeoutMs ?? 90_000);
      } catch (err) {
        const tail = server.logTail();
        await server.stop();
        throw new Error(`${(err as Error).message}\n--- neutron-server.log (tail) ---\n${tail}`);
      }
      server.dbMs = dbMs;
      server.startMs = Date.now() - t0;
      return server;
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private async waitForApi(timeoutMs: number): Promise<void> {
    await eventually(async () => (await fetch(`${this.url}/v2.0/networks`, { signal: AbortSignal.timeout(2000) })).status === 200,
      `neutron-server to answer GET ${this.url}/v2.0/networks with 200`, timeoutMs, async () => {
        if (this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) {
          throw new Error(`neutron-server exited (${this.child.exitCode ?? this.child.signalCode}) before its API answered; stderr: ${this.stderr() || '(empty)'}`);
        }
      }, 200);
  }

  /** The last lines of the server's log (every worker writes to it). */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Every live process of the server: its process group (the parent and the workers it forked). */
  pids(): number[] {
    return this.child.pid === undefined ? [] : groupMembers(this.child.pid);
  }

  /** Resident set of all its processes, in bytes. */
  rssBytes(): number {
    let total = 0;
    for (const pid of this.pids()) {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        total += kb ? Number(kb[1]) * 1024 : 0;
      } catch {
        // gone meanwhile
      }
    }
    return total;
  }

  /**
   * SIGTERM to the group (oslo.service's parent stops its workers on it), SIGKILL to the group
   * after 15 s, until no process of the group is left; then the directory.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    LIVE.delete(this);
    const pgid = this.child.pid;
    if (pgid !== undefined) {
      signalGroup(pgid, 'SIGTERM');
      try {
        await eventually(() => groupMembers(pgid).length === 0, `neutron-server group ${pgid} to exit on SIGTERM`, 15_000, undefined, 100);
      } catch {
        signalGroup(pgid, 'SIGKILL');
        await eventually(() => groupMembers(pgid).length === 0, `neutron-server group ${pgid} to exit on SIGKILL`, 10_000, undefined, 100);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** oslo.messaging reads amqp:// as its AMQP 1.0 driver (pyngus, not installed); RabbitMQ's driver is rabbit://. */
function transportUrl(amqpUrl: string): string {
  if (!amqpUrl.startsWith('amqp://')) throw new Error(`NeutronServer.start: amqpUrl must be amqp://USER:PASS@HOST:PORT/VHOST, not ${amqpUrl.split('@').pop()}`);
  return `rabbit://${amqpUrl.slice('amqp://'.length)}`;
}

function writeConfig(dir: string, port: number, transport: string, database: string, agentDownTimeS?: number): [string, string] {
  mkdirSync(join(dir, 'lock'));
  const conf = join(dir, 'neutron.conf');
  const ml2 = join(dir, 'ml2_conf.ini');
  writeFileSync(conf, `[DEFAULT]
core_plugin = ml2
auth_strategy = noauth
bind_host = 127.0.0.1
bind_port = ${port}
api_paste_config = ${API_PASTE}
state_path = ${dir}
log_dir = ${dir}
log_file = neutron-server.log
use_stderr = false
transport_url = ${transport}
rpc_response_timeout = 30
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
${agentDownTimeS !== undefined ? `agent_down_time = ${agentDownTimeS}\n` : ''}
[database]
connection = ${database}

[oslo_concurrency]
lock_path = ${join(dir, 'lock')}

# No per-project limits: a bench makes a thousand ports in one project (Neutron's default: 500).
[quotas]
quota_network = -1
quota_subnet = -1
quota_port = -1
quota_security_group = -1
quota_security_group_rule = -1
`);
  writeFileSync(ml2, `[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = openvswitch,l2population
extension_drivers = port_security

[ml2_type_vxlan]
vni_ranges = 1000:1999
`);
  return [conf, ml2];
}

function dbUrl(dir: string): string {
  return `sqlite:///${join(dir, 'neutron.sqlite')}`;
}

/** The empty database, in a directory of its own removed when the process exits. */
let TEMPLATE: { dir: string; promise: Promise<string> } | undefined;

function buildTemplate(): { dir: string; promise: Promise<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-neutron-db-'));
  const conf = join(dir, 'neutron.conf');
  writeFileSync(conf, `[database]\nconnection = ${dbUrl(dir)}\n`);
  const promise = new Promise<string>((resolve, reject) => {
    execFile(PYTHON, ['-c', BUILD_DB, dbUrl(dir), '--config-file', conf], { cwd: dir, timeout: 120_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve(join(dir, 'neutron.sqlite'));
      TEMPLATE = undefined; // the next start() tries again
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`building neutron-server's sqlite database (create_all + stamp heads) failed: ${err.message}\n${stderr.slice(-3000)}`));
    });
  });
  return { dir, promise };
}

/** Live (not zombie) processes whose process group is `pgid`, from /proc/PID/stat. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const [state, , pgrp] = procStat(name) ?? []; // none: gone meanwhile
    if (state !== undefined && state !== 'Z' && Number(pgrp) === pgid) out.push(Number(name));
  }
  return out;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

/** Servers this process started and has not stopped: their groups are killed if the process exits first. */
const LIVE = new Set<NeutronServer>();
process.on('exit', () => {
  for (const s of LIVE) signalGroup(s.pid, 'SIGKILL');
  if (TEMPLATE) rmSync(TEMPLATE.dir, { recursive: true, force: true });
});
