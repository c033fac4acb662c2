// Shared helpers for the benches: timing child processes, medians, formatting.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunResult {
  readonly ms: number;
  readonly code: number | null;
  readonly stderr: string;
}

/**
 * Runs cmd with args, stdout to /dev/null (as `> /dev/null`), and returns the wall time of the
 * whole process (spawn to exit). Rejects on a non-zero exit.
 */
export function timeProcess(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const devnull = openSync('/dev/null', 'w');
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', devnull, 'pipe'] });
    closeSync(devnull);
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`));
      else resolve({ ms, code, stderr });
    });
  });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function fmtMs(ms: number): string {
  return `${ms.toFixed(0)} ms`;
}

export function fmtRuns(xs: readonly number[]): string {
  return `[${xs.map((x) => x.toFixed(0)).join(', ')}]`;
}

/** 100k (by default) distinct simple flows in ovs-ofctl add-flows syntax, spread over tables. */
export function generateFlows(n = 100_000): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const table = i % 8;
    const priority = 1 + (i % 1000);
    const tunId = 0x1000 + i;
    const mac = (0x020000000000 + i).toString(16).padStart(12, '0').match(/../g)!.join(':');
    const port = 1 + (i % 16);
    lines.push(`table=${table},priority=${priority},tun_id=0x${tunId.toString(16)},dl_dst=${mac} actions=output:${port}`);
  }
  return `${lines.join('\n')}\n`;
}

export function verdict(ratio: number, target: number): string {
  return ratio <= target ? `OK (target <= ${target}x)` : `MISSED (target <= ${target}x)`;
}

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux

/** CPU seconds (user+sys) a process has used so far, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function vswitchdPid(sandboxDir: string): number {
  return Number.parseInt(readFileSync(join(sandboxDir, 'ovs-vswitchd.pid'), 'utf8').trim(), 10);
}

/** Median wall time of `node -e 0` and of `ofctl-ts --help`: the fixed start-up cost in our figures. */
export async function startupReference(bin: string, runs = 5): Promise<{ node: number; ofctlTs: number }> {
  const node: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push((await timeProcess(process.execPath, ['-e', '0'], process.env)).ms);
    ours.push((await timeProcess(process.execPath, [bin, '--help'], process.env)).ms);
  }
  return { node: median(node), ofctlTs: median(ours) };
}
