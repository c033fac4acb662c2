// `ofctl-ts controller` as a child process, for fault tests and benches that kill it: its JSON log
// lines are collected, and a test can wait for a line or for the exit.
import { ChildProcess, spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { envWords } from './proc.js';
import { BIN } from './run-cli.js';
import { eventually } from './wait.js';

export interface LogLine {
  readonly msg: string;
  readonly [key: string]: unknown;
}

export class ControllerProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private output = '';
  private exitCode: number | null | undefined;

  private constructor(private readonly proc: ChildProcess) {
    this.exited = new Promise((r) => proc.on('exit', (code, signal) => r(code ?? (signal ? -1 : null))));
    void this.exited.then((c) => (this.exitCode = c));
    proc.stderr!.setEncoding('utf8');
    let partial = '';
    proc.stderr!.on('data', (d: string) => {
      this.output += d;
      const parts = (partial + d).split('\n');
      partial = parts.pop()!;
      for (const p of parts) {
        try {
          this.lines.push(JSON.parse(p) as LogLine);
        } catch {
          // not a log line (e.g. a crash trace): kept in output only
        }
      }
    });
    proc.stdout!.resume();
  }

  /**
   * stdin 'pipe': the test writes the controller's standard input (`--topology -`) through `stdin`.
   * CONTROLLER_NODE_ARGS (space-separated) goes to node before the script, for profiling a bench's
   * controllers (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, which NODE_OPTIONS does not take).
   */
  static start(args: readonly string[], env: NodeJS.ProcessEnv = {}, stdin: 'ignore' | 'pipe' = 'ignore'): ControllerProcess {
    const nodeArgs = envWords('CONTROLLER_NODE_ARGS');
    const proc = spawn(process.execPath, [...nodeArgs, BIN, 'controller', ...args], {
      env: { ...process.env, OFCTL_TS_LOG: 'info', ...env }, stdio: [stdin, 'pipe', 'pipe'],
    });
    return new ControllerProcess(proc);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get stdin(): Writable {
    if (!this.proc.stdin) throw new Error('started without a stdin pipe');
    return this.proc.stdin;
  }

  get log(): string {
    return this.output;
  }

  /** Throws when the process has exited: pass as `check` to eventually(). */
  readonly alive = async (): Promise<void> => {
    if (this.exitCode !== undefined) throw new Error(`controller exited with ${this.exitCode}:\n${this.output}`);
  };

  /** A mark for waitForLine: only lines logged after it count. */
  mark(): number {
    return this.lines.length;
  }

  async waitForLine(pred: (l: LogLine) => boolean, what: string, since = 0, ms = 60_000): Promise<LogLine> {
    let found: LogLine | undefined;
    await eventually(() => (found = this.lines.slice(since).find(pred)) !== undefined, what, ms, this.alive, 5);
    return found!;
  }

  /** Sends a signal that does not end the process (SIGSTOP, SIGCONT): nothing to wait for. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (this.exitCode === undefined) this.proc.kill(signal);
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.exitCode === undefined) this.proc.kill(signal);
    return this.exited;
  }
}
