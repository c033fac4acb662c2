// A private etcd (Debian's etcd-server, 3.4) for tests and benches: one member or a cluster of
// several, each on free loopback ports with its data in a fresh temp directory. Members can be
// signalled (SIGKILL, SIGSTOP, SIGCONT) and restarted on the same ports and data. It stops exactly
// the processes it started (by pid) and removes its directory. Nothing here starts etcd as a
// service: Debian's package enables a systemd unit, which does not run without systemd.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { eventually, freePort } from './wait.js';

const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';
const run = promisify(execFile);

/** Thrown when etcd is not installed: tests must fail loudly, never skip. */
export function assertEtcdInstalled(): void {
  for (const bin of [ETCD, ETCDCTL]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: install etcd-server and etcd-client (apt-get install -y etcd-server etcd-client)`);
  }
}

interface Member {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  child: ChildProcess;
  stderr: string;
}

export class EtcdCluster {
  private stopped = false;

  private constructor(readonly dir: string, private readonly members: Member[], private readonly args: (m: Member) => string[]) {}

  /**
   * Starts `members` members (default 1) and waits until each reports itself healthy (a leader
   * exists). `maxTxnOps`: etcd's --max-txn-ops (default 128: one `topology import` writes at most
   * 127 keys), for benches that write more in one transaction.
   */
  static async start(opts: { members?: number; maxTxnOps?: number } = {}): Promise<EtcdCluster> {
    assertEtcdInstalled();
    const n = opts.members ?? 1;
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-etcd-'));
    const ports: { clientPort: number; peerPort: number }[] = [];
    for (let i = 0; i < n; i++) ports.push({ clientPort: await freePort(), peerPort: await freePort() });
    const initialCluster = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peerPort}`).join(',');
    const token = `ofctl-ts-${process.pid}-${ports[0]!.clientPort}`;
    const args = (m: Member): string[] => [
      '--name', m.name, '--data-dir', join(dir, m.name),
      '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-cluster', initialCluster, '--initial-cluster-token', token, '--initial-cluster-state', 'new',
      // Small and quiet: tests write little; the default 2 GiB quota and info logs are not needed.
      '--log-level', 'warn', '--logger', 'zap', '--snapshot-count', '10000',
      ...(opts.maxTxnOps !== undefined ? ['--max-txn-ops', String(opts.maxTxnOps)] : []),
    ];
    const members: Member[] = ports.map((p, i) => ({ name: `m${i}`, ...p, child: undefined as unknown as ChildProcess, stderr: '' }));
    const cluster = new EtcdCluster(dir, members, args);
    LIVE.add(cluster);
    try {
      for (const m of members) cluster.spawn(m);
      await Promise.all(members.map((m) => cluster.waitHealthy(m)));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Client endpoints, `127.0.0.1:PORT` each (what --topology etcd: and --etcd take, comma-separated). */
  get endpoints(): string[] {
    return this.members.map((m) => `127.0.0.1:${m.clientPort}`);
  }

  get size(): number {
    return this.members.length;
  }

  pid(member: number): number | undefined {
    return this.member(member).child.pid;
  }

  /** Sends a signal to one member (SIGKILL, SIGTERM, SIGSTOP, SIGCONT); resolves when a fatal one has ended it. */
  async kill(member: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const m = this.member(member);
    if (!running(m.child)) return;
    const exited = new Promise<void>((r) => m.child.once('exit', () => r()));
    m.child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') await exited;
  }

  /** Starts a member again (after kill) on its ports and data; waits until it is healthy. */
  async restart(member: number): Promise<void> {
    const m = this.member(member);
    if (running(m.child)) await this.kill(member, 'SIGKILL');
    this.spawn(m);
    await this.waitHealthy(m);
  }

  /** Runs etcdctl (API v3) against every member's endpoint; returns its stdout. */
  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await run(ETCDCTL, ['--endpoints', this.endpoints.join(','), ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 30_000 });
    return stdout;
  }

  /** Ends every member it started (SIGKILL, continuing a stopped one), waits for them, removes the directory. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    LIVE.delete(this);
    await Promise.all(this.members.map(async (m) => {
      if (!m.child || !running(m.child)) return;
      const exited = new Promise<void>((r) => m.child.once('exit', () => r()));
      m.child.kill('SIGKILL');
      await exited;
    }));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private member(i: number): Member {
    const m = this.members[i];
    if (!m) throw new Error(`etcd member ${i}: the cluster has ${this.members.length}`);
    if (this.stopped) throw new Error('etcd cluster is stopped');
    return m;
  }

  private spawn(m: Member): void {
    m.stderr = '';
    m.child = spawn(ETCD, this.args(m), { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    m.child.stderr!.setEncoding('utf8');
    m.child.stderr!.on('data', (d: string) => (m.stderr = (m.stderr + d).slice(-4000)));
  }

  /** Until the member's /health says true (it has a leader). */
  private async waitHealthy(m: Member): Promise<void> {
    await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${m.clientPort}/health`, { signal: AbortSignal.timeout(1000) });
      return ((await res.json()) as { health?: string }).health === 'true';
    }, `etcd member ${m.name} (127.0.0.1:${m.clientPort}) to be healthy`, 30_000, async () => {
      if (!running(m.child)) throw new Error(`etcd member ${m.name} exited ${m.child.exitCode ?? m.child.signalCode}: ${m.stderr}`);
    }, 100);
  }
}

function running(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null;
}

/** Clusters this process started and has not stopped: killed if the process exits first. */
const LIVE = new Set<EtcdCluster>();
process.on('exit', () => {
  for (const c of LIVE) for (const m of c['members']) if (m.child && running(m.child)) m.child.kill('SIGKILL');
});
