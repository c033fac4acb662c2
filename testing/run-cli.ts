// Runs the built ofctl-ts binary as a user would, capturing exit code and output.
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/ofctl-ts.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return runNodeScript(BIN, args, env, input);
}

/** Runs a Node script (the binary, or one module of the CLI) with args, as runCli does. */
export function runNodeScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A command that exits before reading its input closes the pipe: not an error.
    p.stdin.on('error', () => undefined);
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

/** ovs-ofctl with these arguments (and stdin): its exit code and output. */
export function ovsOfctl(args: readonly string[], input?: string | Buffer, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = execFile('ovs-ofctl', args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    // ovs-ofctl may exit before it reads its input (a refused argument): no EPIPE for that.
    p.stdin!.on('error', () => undefined);
    p.stdin!.end(input ?? '');
  });
}
