// Python's oslo.messaging as the other side of the Neutron RPC tests (testing/oslo-peer.py): its own
// functions encode and decode bodies, its RPC server answers our calls, its client casts to us.
import { ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
// Debian's interpreter: the one python3-oslo.messaging installs into (a pyenv python on PATH has none).
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../testing/oslo-peer.py', import.meta.url));

/** Thrown when Python's oslo.messaging is missing: tests fail loudly, never skip. */
export async function assertOsloInstalled(): Promise<void> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install -y python3-oslo.messaging`);
  try {
    await run(PYTHON, ['-c', 'import oslo_messaging']);
  } catch {
    throw new Error(`${PYTHON} cannot import oslo_messaging: apt-get install -y python3-oslo.messaging`);
  }
}

/** Runs one short peer command; `input` goes to its stdin. Returns its stdout. */
export function osloPeer(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [SCRIPT, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`oslo-peer ${args[0] ?? ''}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(input ?? '');
  });
}

/** oslo's control exchange and [oslo_messaging_rabbit] options (by oslo's names) for a peer. */
export interface OsloSettings {
  readonly exchange?: string;
  readonly rabbit?: Readonly<Record<string, boolean | number | string>>;
}

/**
 * A Python oslo.messaging RPC server on `topic` (exchange neutron unless `settings` says, server=host);
 * it declares its queues as oslo does with those settings. Each line it prints is kept.
 */
export class OsloServer {
  readonly lines: Record<string, unknown>[] = [];
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {}

  static async start(url: string, topic: string, host: string, settings: OsloSettings = {}): Promise<OsloServer> {
    const child = spawn(PYTHON, [SCRIPT, 'server', url, topic, host, JSON.stringify(settings)]);
    const server = new OsloServer(child);
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        server.lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
    });
    child.stderr.on('data', (d: Buffer) => { server.stderr += d.toString('utf8'); });
    await server.waitFor((l) => l.ready === true, 15_000);
    return server;
  }

  /** The first line that satisfies `pred`, waiting for it. */
  async waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (this.child.exitCode !== null) throw new Error(`oslo-peer server exited ${this.child.exitCode}: ${this.stderr}`);
      if (Date.now() > until) throw new Error(`oslo-peer server: timed out; stderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Closes its stdin (it stops its server) and waits for it to exit; SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
