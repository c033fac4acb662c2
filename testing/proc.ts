// A process's /proc/PID/stat (Linux), as the sandbox, the test servers and the benches read it;
// and the words of the *_ARGS variables that give the processes they start more arguments.
import { readFileSync } from 'node:fs';

/**
 * The fields after the command, or undefined once the process is gone: [0] is field 3 (the state),
 * [1] the parent, [2] the process group, [11] and [12] utime and stime, [19] the start time. The
 * command may hold spaces and parentheses: the split is after the last ')'.
 */
export function procStat(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A process as its pid and start time, or undefined once it is gone (a pid reused by another process is not it). */
export function processIdentity(pid: number): string | undefined {
  const f = procStat(pid);
  return f ? `${pid} ${f[19]}` : undefined;
}

/** sysconf(_SC_CLK_TCK) on Linux. */
const CLK_TCK = 100;

/** CPU seconds (user+sys) a process has used so far; throws once it is gone. */
export function processCpuSeconds(pid: number): number {
  const f = procStat(pid);
  if (!f) throw new Error(`process ${pid} is gone: no CPU time to read`);
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** The words of environment variable `name` (split at spaces), none when it is unset or empty. */
export function envWords(name: string): string[] {
  return (process.env[name] ?? '').split(' ').filter(Boolean);
}
