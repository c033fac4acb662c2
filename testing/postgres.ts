// A private PostgreSQL (Debian's postgresql-15) for the Neutron rig when sqlite's locking is in the
// way (bench/neutron at scale): its own cluster in a fresh temp directory, owned by the postgres
// user (initdb refuses root), listening on a unix socket there only, trust auth, one database.
// stop() stops exactly that cluster (its postmaster, by the pid pg_ctl keeps) and removes the directory.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './wait.js';

const BIN = '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);

export class Postgres {
  private stopped = false;

  private constructor(readonly dir: string, readonly port: number) {}

  /** The SQLAlchemy URL of the database (psycopg2, through the unix socket). */
  get url(): string {
    return `postgresql+psycopg2://neutron@/neutron?host=${this.dir}&port=${this.port}`;
  }

  static async start(): Promise<Postgres> {
    for (const b of ['initdb', 'pg_ctl', 'createdb']) {
      if (!existsSync(join(BIN, b))) throw new Error(`${join(BIN, b)} is missing: apt-get install -y postgresql-15 python3-psycopg2`);
    }
    const { stdout } = await run('id', ['-u', 'postgres']);
    const uid = Number(stdout.trim());
    const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-pg-'));
    chownSync(dir, uid, uid);
    const pg = new Postgres(dir, await freePort());
    try {
      await pg.as(join(BIN, 'initdb'), '-D', join(dir, 'data'), '-A', 'trust', '-U', 'neutron');
      await pg.as(join(BIN, 'pg_ctl'), '-D', join(dir, 'data'), '-w', '-l', join(dir, 'pg.log'), '-o', `-k ${dir} -p ${pg.port} -c listen_addresses= -c fsync=off`, 'start');
      await pg.as(join(BIN, 'createdb'), '-h', dir, '-p', String(pg.port), '-U', 'neutron', 'neutron');
    } catch (err) {
      await pg.stop();
      throw err;
    }
    return pg;
  }

  /** Runs a PostgreSQL program as the postgres user. */
  private async as(...cmd: string[]): Promise<void> {
    await run('runuser', ['-u', 'postgres', '--', ...cmd], { cwd: this.dir, timeout: 60_000 });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (existsSync(join(this.dir, 'data', 'postmaster.pid'))) {
      await this.as(join(BIN, 'pg_ctl'), '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop').catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
