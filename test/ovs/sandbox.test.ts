import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSandbox, sweepOrphanSandboxes } from '../../testing/sandbox.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
};

/** The pids in a sandbox's pidfiles: ovs-vswitchd, ovsdb-server. */
const daemonPids = (dir: string): number[] => ['ovs-vswitchd.pid', 'ovsdb-server.pid'].map((f) => Number(readFileSync(join(dir, f), 'utf8').trim()));

/** Those of `pids` still alive after up to 5 s. */
async function stillAlive(pids: readonly number[]): Promise<number[]> {
  const until = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return pids.filter(alive);
}

/** A bench-like program in its own process: a sandbox, then a wait that only a signal ends. */
async function sandboxProgram(): Promise<{ child: ChildProcess; dir: string; pids: number[] }> {
  const url = new URL('../../testing/sandbox.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `const { OvsSandbox } = await import(${JSON.stringify(url)}); const b = await OvsSandbox.start(); console.log(b.dir); setInterval(() => {}, 1000);`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { child, dir, pids: daemonPids(dir) };
}

describe('OVS sandbox (real ovsdb-server + ovs-vswitchd)', () => {
  it('starts two sandboxes at once, each with its own bridge, and stops exactly its own processes', async () => {
    const [a, b] = await Promise.all([OvsSandbox.start({ bridges: ['br-tun'] }), OvsSandbox.start({ bridges: ['br-tun'] })]);
    try {
      expect(a.dir).to.not.equal(b.dir);
      // A fresh bridge is empty.
      // fail_mode=secure: a fresh bridge has no flows (standalone would add NORMAL).
      expect(await a.dumpFlowsSorted('br-tun')).to.deep.equal([]);
      await a.ofctl('add-flow', a.mgmtTarget('br-tun'), 'table=3,priority=7,actions=drop');
      expect(await a.dumpFlowsSorted('br-tun')).to.include(' table=3, priority=7 actions=drop');
      expect(await b.dumpFlowsSorted('br-tun')).to.deep.equal([]);
    } finally {
      await a.stop();
    }
    expect(existsSync(a.dir)).to.equal(false);
    // b is untouched by a's stop.
    expect(await b.dumpFlowsSorted('br-tun')).to.deep.equal([]);
    await b.stop();
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`a program stopped by ${signal} stops the daemons its sandbox started`, async () => {
      const { child, pids } = await sandboxProgram();
      expect(pids.every(alive)).to.equal(true);
      const code = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      child.kill(signal);
      expect(await code).to.equal(signal === 'SIGINT' ? 130 : 143);
      expect(await stillAlive(pids)).to.deep.equal([]);
    });
  }

  it('a program SIGKILLed leaves its sandbox running; the next sweep stops it, and leaves a live owner\'s alone', async () => {
    const { child, dir, pids } = await sandboxProgram();
    const mine = await OvsSandbox.start();
    try {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
      expect(pids.every(alive), 'no handler ran: the daemons outlive their owner').to.equal(true);
      const removed = await sweepOrphanSandboxes();
      expect(removed).to.include(dir);
      expect(removed).to.not.include(mine.dir);
      expect(await stillAlive(pids)).to.deep.equal([]);
      expect(existsSync(dir)).to.equal(false);
      // This process's sandbox is untouched: its daemons run, a bridge can be added.
      expect(daemonPids(mine.dir).map(alive)).to.deep.equal([true, true]);
      await mine.addBridge('br-x');
      expect(await mine.dumpFlowsSorted('br-x')).to.deep.equal([]);
    } finally {
      await mine.stop();
    }
  });
});
