// A command that fails exits only once what it logged is written, in order. The log writes to
// stderr asynchronously (libuv's thread pool); process.exit() would let its synchronous flush
// overtake a write still queued there, so a line came late or never (seen in CI as two rejected
// topology lines logged 8 then 7). At a terminal the lines are made pretty in the process itself:
// pino's transport, a worker thread, printed them after the command's last words.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { BIN } from '../../testing/run-cli.js';
import { tempDir } from '../../testing/temp-dir.js';

const dist = fileURLToPath(new URL('../../lib/', import.meta.url));

describe('a failing command exits after its log lines are written, in order', function () {
  this.timeout(30_000);

  it('with the thread pool busy when it fails, every line comes, then the error', async () => {
    const script = join(tempDir('ofctl-ts-logexit-'), 'fail.mjs');
    writeFileSync(script, [
      `import { createLogger } from ${JSON.stringify(pathToFileURL(join(dist, 'log.js')).href)};`,
      `import { run } from ${JSON.stringify(pathToFileURL(join(dist, 'cli/run.js')).href)};`,
      "import { pbkdf2 } from 'node:crypto';",
      // The only pool thread is busy for a while: the first line's write waits behind it.
      "pbkdf2('x', 'y', 400000, 32, 'sha256', () => {});",
      "const log = createLogger('t', 'info');",
      "await run('controller', async () => { for (let i = 1; i <= 3; i++) log.warn(`line ${i}`); throw new Error('3 rejected line(s)'); });",
    ].join('\n'));
    const child = spawn(process.execPath, [script], { env: { ...process.env, UV_THREADPOOL_SIZE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code, err).to.equal(1);
    const said = err.trimEnd().split('\n').map((l) => (l.startsWith('{') ? (JSON.parse(l) as { msg: string }).msg : l));
    expect(said).to.deep.equal(['line 1', 'line 2', 'line 3', 'ofctl-ts: controller: 3 rejected line(s)']);
  });

  it('at a terminal (pretty lines), the rejected lines come before the command\'s last words', async () => {
    const dir = tempDir('ofctl-ts-logtty-');
    const topo = join(dir, 'bad.jsonl');
    writeFileSync(topo, '{"type":"host","name":"a","tunnelIp":"10.0.0.1","colour":"red"}\n{"type":"host","name":"b","tunnelIp":"10.0.0.2",}\n');
    // util-linux script(1) gives the controller a terminal for stdout and stderr; -e: its exit code.
    const child = spawn('script', ['-qec', `${process.execPath} ${BIN} controller --topology ${topo} --listen ptcp:0`, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code, out).to.equal(1);
    const plain = stripVTControlCharacters(out);
    const at = (s: string): number => plain.indexOf(s);
    expect(at(`WARN (ofctl-ts/`), plain).to.be.above(-1);
    expect(at(`${topo}:1: unknown member "colour"`), plain).to.be.above(-1).and.below(at(`${topo}:2: not JSON`));
    expect(at(`${topo}:2: not JSON`), plain).to.be.below(at('ofctl-ts: controller: 2 rejected line(s)'));
  });
});
