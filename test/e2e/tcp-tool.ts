// A tiny TCP tool the bed runs inside a VM namespace (`ip netns exec NS node tcp-tool.js ...`), so the
// stateful tests need nothing beyond Node. It exits when its stdin closes: a test process that dies
// leaves no listener behind.
//   listen IP PORT          echo server; prints "listening" once bound
//   connect IP PORT MS      prints connected | refused | timeout (no answer within MS: a drop) | error CODE;
//                           once connected, each stdin line sends a token and prints ok | timeout | closed
//                           (ok: the token came back from the echo server within MS, so data passed both ways)
import { connect, createServer, Socket } from 'node:net';
import { createInterface } from 'node:readline';

const [mode, ip, portArg, msArg] = process.argv.slice(2);
const port = Number(portArg);
const ms = Number(msArg ?? 1000);
const say = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

if (mode === 'listen') {
  const server = createServer((s) => {
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  server.listen(port, ip, () => say('listening'));
} else if (mode === 'connect') {
  const s: Socket = connect({ host: ip!, port });
  const timer = setTimeout(() => {
    say('timeout');
    process.exit(0);
  }, ms);
  const beforeConnect = (e: NodeJS.ErrnoException): void => {
    clearTimeout(timer);
    say(e.code === 'ECONNREFUSED' ? 'refused' : `error ${e.code ?? e.message}`);
    process.exit(0);
  };
  s.once('error', beforeConnect);
  s.once('connect', () => {
    clearTimeout(timer);
    // Once connected, an error (EPIPE or ECONNRESET when the peer is gone) is a close, seen by exchanges().
    s.off('error', beforeConnect);
    say('connected');
    exchanges(s);
  });
} else {
  process.stderr.write(`tcp-tool: unknown mode ${mode ?? '(none)'}\n`);
  process.exit(2);
}

/** Answers each stdin line with one echo round trip, in order. */
function exchanges(s: Socket): void {
  let received = '';
  let closed = false;
  let waiting: (() => void) | undefined;
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    received += d;
    waiting?.();
  });
  s.on('close', () => {
    closed = true;
    waiting?.();
  });
  s.on('error', () => undefined);
  let n = 0;
  const lines = createInterface({ input: process.stdin });
  const queue: Promise<void>[] = [];
  lines.on('line', () => {
    // A token of its own per exchange: a late echo of an earlier one never counts for a later one.
    const token = `<${++n}>`;
    queue.push((queue.at(-1) ?? Promise.resolve()).then(() => new Promise<void>((done) => {
      const finish = (word: string): void => {
        clearTimeout(t);
        waiting = undefined;
        say(word);
        done();
      };
      const check = (): void => {
        if (received.includes(token)) finish('ok');
        else if (closed) finish('closed');
      };
      const t = setTimeout(() => finish('timeout'), ms);
      waiting = check;
      if (!closed) s.write(token);
      check();
    })));
  });
}
