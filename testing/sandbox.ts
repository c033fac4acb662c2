// A sandboxed real Open vSwitch: its own ovsdb-server + ovs-vswitchd in a fresh temp directory,
// userspace datapath, unix sockets only. Used by tests, benches and the demo. It stops exactly the
// processes it started (by the pids in its own pidfiles) and removes its directory.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { procStat, processIdentity } from './proc.js';

const run = promisify(execFile);
const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface SandboxOptions {
  /** Bridges to create (datapath_type=netdev, fail_mode=secure, OpenFlow10+13). */
  readonly bridges?: readonly string[];
  /**
   * Dummy datapath (`--enable-dummy=override`): no tap devices, so any number of sandboxes can
   * share a network namespace. OpenFlow tables and ofproto/trace behave as with netdev.
   */
  readonly dummy?: boolean;
  /** Run ovs-vswitchd inside this existing network namespace (needs root). */
  readonly netns?: string;
  /** Also listen for OVSDB on tcp 127.0.0.1:PORT. */
  readonly ovsdbTcpPort?: number;
  /** More ovsdb-server arguments, e.g. `--remote=pssl:PORT:127.0.0.1` with its key and certificates. */
  readonly ovsdbArgs?: readonly string[];
}

/** Thrown when OVS is not installed: tests must fail loudly, never skip. */
export class OvsMissingError extends Error {}

export function assertOvsInstalled(): void {
  for (const bin of ['/usr/sbin/ovs-vswitchd', '/usr/sbin/ovsdb-server', '/usr/bin/ovs-vsctl', '/usr/bin/ovs-ofctl']) {
    if (!existsSync(bin)) {
      throw new OvsMissingError(`${bin} is missing: install openvswitch-switch (apt-get install -y openvswitch-switch)`);
    }
  }
  if (!existsSync(SCHEMA)) throw new OvsMissingError(`${SCHEMA} is missing: install openvswitch-switch`);
}

export class OvsSandbox {
  private stopped = false;

  private constructor(
    readonly dir: string,
    private readonly options: SandboxOptions,
  ) {}

  get dbSock(): string {
    return join(this.dir, 'db.sock');
  }

  get dbTarget(): string {
    return `unix:${this.dbSock}`;
  }

  /** The OpenFlow management socket ovs-vswitchd opens for each bridge. */
  mgmt(bridge: string): string {
    return join(this.dir, `${bridge}.mgmt`);
  }

  static async start(options: SandboxOptions = {}): Promise<OvsSandbox> {
    assertOvsInstalled();
    await sweepOrphans();
    const dir = mkdtempSync(join(tmpdir(), PREFIX));
    // Who started it: a later process sweeps it if this one dies without stopping it (SIGKILL).
    writeFileSync(join(dir, OWNER), processIdentity(process.pid) ?? '');
    const box = new OvsSandbox(dir, options);
    LIVE.add(box);
    stopOnSignals();
    try {
      await box.startDaemons();
      for (const br of options.bridges ?? []) await box.addBridge(br);
    } catch (err) {
      await box.stop();
      throw err;
    }
    return box;
  }

  private env(): NodeJS.ProcessEnv {
    return { ...process.env, OVS_RUNDIR: this.dir, OVS_DBDIR: this.dir, OVS_LOGDIR: this.dir, OVS_SYSCONFDIR: this.dir };
  }

  private async startDaemons(): Promise<void> {
    const d = this.dir;
    const env = this.env();
    await run('ovsdb-tool', ['create', join(d, 'conf.db'), SCHEMA], { env });
    await this.startOvsdbServer();
    await this.vsctl('--no-wait', 'init');
    await this.startVswitchd();
  }

  /** Starts (or restarts) ovsdb-server on the same database and sockets. */
  async startOvsdbServer(): Promise<void> {
    const d = this.dir;
    const remotes = [`--remote=punix:${this.dbSock}`];
    if (this.options.ovsdbTcpPort) remotes.push(`--remote=ptcp:${this.options.ovsdbTcpPort}:127.0.0.1`);
    remotes.push(...(this.options.ovsdbArgs ?? []));
    await run('ovsdb-server', [join(d, 'conf.db'), ...remotes, `--pidfile=${join(d, 'ovsdb-server.pid')}`,
      `--unixctl=${join(d, 'ovsdb-server.ctl')}`, '--detach', '--no-chdir', '-vconsole:off',
      `--log-file=${join(d, 'ovsdb-server.log')}`], { env: this.env() });
  }

  /** SIGKILLs ovsdb-server (to test reconnects) and waits until it is gone. */
  async killOvsdbServer(): Promise<void> {
    await killPidfile(join(this.dir, 'ovsdb-server.pid'), 'SIGKILL');
  }

  /** Starts (or restarts) ovs-vswitchd; flows are lost, OVSDB and ofports stay. */
  async startVswitchd(): Promise<void> {
    const d = this.dir;
    const args = [`unix:${this.dbSock}`, `--pidfile=${join(d, 'ovs-vswitchd.pid')}`,
      `--unixctl=${join(d, 'ovs-vswitchd.ctl')}`, '--detach', '--no-chdir', '-vconsole:off',
      `--log-file=${join(d, 'ovs-vswitchd.log')}`, '--disable-system'];
    if (this.options.dummy ?? true) args.push('--enable-dummy=override');
    const cmd = this.options.netns ? 'ip' : 'ovs-vswitchd';
    const full = this.options.netns ? ['netns', 'exec', this.options.netns, 'ovs-vswitchd', ...args] : args;
    await run(cmd, full, { env: this.env() });
  }

  /** ovs-vswitchd's pid, to signal it (SIGSTOP: a switch that stops answering); throws when it is not running. */
  vswitchdPid(): number {
    const pid = readPid(join(this.dir, 'ovs-vswitchd.pid'));
    if (pid === undefined) throw new Error(`${this.dir}: ovs-vswitchd is not running`);
    return pid;
  }

  /** SIGKILLs ovs-vswitchd (to test restarts) and waits until it is gone. */
  async killVswitchd(): Promise<void> {
    await killPidfile(join(this.dir, 'ovs-vswitchd.pid'), 'SIGKILL');
  }

  async addBridge(name: string, ...extra: string[]): Promise<void> {
    await this.vsctl('add-br', name, '--', 'set', 'Bridge', name, 'datapath_type=netdev', 'fail_mode=secure',
      'protocols=OpenFlow10,OpenFlow13', 'other_config:disable-in-band=true', ...extra);
    await this.waitFor(() => existsSync(this.mgmt(name)), `${name}.mgmt`);
  }

  /** Nova plugging a VM interface into br-int (created if missing, as os-vif does), with its Neutron port id. */
  async plugVm(name: string, ifaceId: string, mac?: string): Promise<void> {
    await this.vsctl('--may-exist', 'add-br', 'br-int', '--', 'set', 'Bridge', 'br-int', 'datapath_type=netdev',
      '--', 'add-port', 'br-int', name, '--', 'set', 'Interface', name, 'type=internal', `external_ids:iface-id=${ifaceId}`,
      ...(mac ? [`external_ids:attached-mac="${mac}"`] : []));
  }

  /**
   * Points a bridge at several controller targets, out-of-band. set-controller makes in-band rows,
   * and once there are two `set controller BRIDGE` no longer names one: they are set by UUID.
   */
  async setControllers(bridge: string, targets: readonly string[]): Promise<void> {
    await this.vsctl('set-controller', bridge, ...targets);
    for (const uuid of (await this.vsctl('get', 'Bridge', bridge, 'controller')).replace(/[[\]\s]/g, '').split(',')) {
      await this.vsctl('set', 'Controller', uuid, 'connection_mode=out-of-band', 'max_backoff=1000');
    }
  }

  async vsctl(...args: string[]): Promise<string> {
    const { stdout } = await run('ovs-vsctl', [`--db=${this.dbTarget}`, '--timeout=10', ...args], { env: this.env() });
    return stdout;
  }

  /** ovs-ofctl speaking OpenFlow 1.3 without table-name lookups. */
  async ofctl(...args: string[]): Promise<string> {
    const { stdout } = await run('ovs-ofctl', ['-O', 'OpenFlow13', '--no-names', ...args],
      { env: this.env(), maxBuffer: 1 << 30 });
    return stdout;
  }

  async appctl(...args: string[]): Promise<string> {
    const { stdout } = await run('ovs-appctl', ['-t', join(this.dir, 'ovs-vswitchd.ctl'), ...args],
      { env: this.env(), maxBuffer: 1 << 28 });
    return stdout;
  }

  /** Flows of a bridge as `ovs-ofctl -O OpenFlow13 --no-names dump-flows --no-stats` prints them, sorted. */
  async dumpFlowsSorted(bridge: string): Promise<string[]> {
    const out = await this.ofctl('dump-flows', '--no-stats', this.mgmtTarget(bridge));
    return out.split('\n').filter((l) => l.length > 0).sort();
  }

  mgmtTarget(bridge: string): string {
    return `unix:${this.mgmt(bridge)}`;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    LIVE.delete(this);
    await killPidfile(join(this.dir, 'ovs-vswitchd.pid'), 'SIGTERM');
    await killPidfile(join(this.dir, 'ovsdb-server.pid'), 'SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** On a signal, with no time to wait: SIGTERM to both daemons (they exit on their own), the directory left. */
  signalDaemons(): void {
    this.stopped = true;
    for (const name of ['ovs-vswitchd.pid', 'ovsdb-server.pid']) {
      const pid = readPid(join(this.dir, name));
      if (pid !== undefined) process.kill(pid, 'SIGTERM');
    }
  }

  private async waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > until) throw new Error(`sandbox ${this.dir}: timed out waiting for ${what}`);
      await sleep(10);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Alive = exists and is not a zombie (the daemons are reparented to PID 1, which may reap late). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const state = procStat(pid)?.[0];
  return state !== undefined && state !== 'Z';
}

/** The live process a pidfile names, if any. */
function readPid(pidfile: string): number | undefined {
  if (!existsSync(pidfile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidfile, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 1 && pidAlive(pid) ? pid : undefined;
}

const PREFIX = 'ofctl-ts-ovs-';
const OWNER = 'owner';
let swept: Promise<void> | undefined;

/**
 * Once per process: the sandboxes of a process that died without stopping them (a test run
 * SIGKILLed, a machine's session ended) are stopped: their daemons, found by the pidfiles in their
 * directory and only while that process's command line names the directory, then the directory.
 * Sandboxes without an owner record, or whose owner lives, are left alone.
 */
function sweepOrphans(): Promise<void> {
  swept ??= sweepOrphanSandboxes().then(() => undefined, () => undefined);
  return swept;
}

/** The sweep itself (sweepOrphans runs it once per process): the directories it removed. */
export async function sweepOrphanSandboxes(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner: string;
    try {
      owner = readFileSync(join(dir, OWNER), 'utf8');
    } catch {
      continue;
    }
    const pid = Number.parseInt(owner, 10);
    if (!owner || processIdentity(pid) === owner) continue;
    for (const daemon of ['ovs-vswitchd.pid', 'ovsdb-server.pid']) {
      try {
        const d = readPid(join(dir, daemon));
        if (d !== undefined && readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(`${dir}/`)) await killPidfile(join(dir, daemon), 'SIGTERM');
      } catch { /* gone meanwhile */ }
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** The sandboxes this process started and has not stopped. */
const LIVE = new Set<OvsSandbox>();
let signalsHooked = false;

/**
 * A bench or script stopped by Ctrl-C or SIGTERM stops the daemons it started, as stop() would. A
 * program with its own handler for the signal (the demo, mocha) stops its sandboxes itself.
 */
function stopOnSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) > 1) return;
      for (const box of LIVE) box.signalDaemons();
      process.exit(code);
    });
  }
}

async function killPidfile(pidfile: string, signal: NodeJS.Signals): Promise<void> {
  const pid = readPid(pidfile);
  if (pid === undefined) return;
  process.kill(pid, signal);
  const until = Date.now() + 5000;
  while (pidAlive(pid)) {
    if (Date.now() > until) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await sleep(10);
  }
  rmSync(pidfile, { force: true });
}
