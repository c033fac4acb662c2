// Topology sources feeding a TopologyStore: a file (read whole at start, then follow appends), stdin,
// and an HTTP endpoint (POST /events with JSON lines, GET /topology). Lines are only applied when
// complete, so a source that stops mid-line applies nothing of that line. A file or stdin starts with
// a snapshot, read whole before anything acts on it: its rejected lines are returned, for the caller
// to refuse the start (or to freeze what they name). Line numbers count from the source's start.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { openFailed } from '../strerror.js';
import { createServer, IncomingMessage, Server } from 'node:http';
import { isEventLine } from './events.js';
import type { Rejection, TopologyStore } from './store.js';

export interface Source {
  readonly name: string;
  stop(): Promise<void>;
}

export interface SnapshotSource extends Source {
  /** The start-up snapshot's rejected lines (empty: all of it was accepted). */
  readonly snapshot: readonly Rejection[];
}

/** Splits a byte stream into complete lines, numbered from 1; the unfinished tail waits for more. */
class LineBuffer {
  private tail = '';
  /** The number of the next complete line. */
  next = 1;
  push(chunk: string): { readonly lines: string[]; readonly first: number } {
    const lines = (this.tail + chunk).split('\n');
    this.tail = lines.pop()!;
    const first = this.next;
    this.next += lines.length;
    return { lines, first };
  }

  /** What is left when the input ends: an unfinished line that must not be applied. */
  get unfinished(): string {
    return this.tail;
  }
}

/**
 * Reads a file whole (the snapshot), then polls it for appended lines until stopped. A last line
 * without its newline may still be being written: it is not applied, and rejected from the snapshot
 * (it applies when its newline comes).
 */
export function fileSource(store: TopologyStore, path: string, pollMs = 200): SnapshotSource {
  let offset = 0;
  let lines = new LineBuffer();
  const readMore = (): Rejection[] => {
    const size = statSync(path).size;
    if (size < offset) {
      // Truncated or replaced: read again from the start.
      offset = 0;
      lines = new LineBuffer();
    }
    if (size === offset) return [];
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      const n = readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      const { lines: complete, first } = lines.push(buf.subarray(0, n).toString('utf8'));
      return store.applyLines(complete, path, first);
    } finally {
      closeSync(fd);
    }
  };
  let snapshot: Rejection[];
  try {
    snapshot = readMore();
  } catch (err) {
    throw new Error(`--topology ${openFailed(path, err)}`);
  }
  const tail = lines.unfinished;
  if (tail.trim()) {
    const error = `no newline at the end of the file (${tail.length} characters): the line may be still being written; not applied`;
    store.reject(path, tail, error, lines.next);
    snapshot.push({ source: path, lineNo: lines.next, line: tail, error });
  }
  const timer = setInterval(() => {
    try {
      readMore();
    } catch {
      // gone for a moment (being replaced): polled again
    }
  }, pollMs);
  timer.unref();
  return { name: `file:${path}`, snapshot, stop: async () => clearInterval(timer) };
}

/**
 * A stream (stdin). Its snapshot ends at the end of the input or at the first empty line: a feeder
 * that keeps the stream open marks the end of its snapshot with an empty line, and each line after it
 * applies (or is rejected) alone as it arrives. Resolves when the snapshot has been read.
 */
export function streamSource(store: TopologyStore, stream: NodeJS.ReadableStream, name = '<stdin>'): Promise<SnapshotSource> {
  const lines = new LineBuffer();
  const snapshot: Rejection[] = [];
  let inSnapshot = true;
  let onData: (d: string | Buffer) => void = () => {};
  let onEnd: () => void = () => {};
  const source: SnapshotSource = { name, snapshot, stop: async () => void stream.off('data', onData).off('end', onEnd) };
  return new Promise((resolve, reject) => {
    const endSnapshot = (): void => {
      if (!inSnapshot) return;
      inSnapshot = false;
      resolve(source);
    };
    onData = (d) => {
      const { lines: complete, first } = lines.push(String(d));
      complete.forEach((l, i) => {
        if (inSnapshot && l.trim() === '') endSnapshot();
        const rejected = store.applyLines([l], name, first + i);
        if (inSnapshot) snapshot.push(...rejected);
      });
    };
    // A stream that ends mid-line (the sender died) leaves a line that may be cut anywhere, even
    // where it still parses: it is rejected, never applied.
    onEnd = () => {
      const tail = lines.unfinished;
      if (tail.trim()) {
        const error = `input ended mid-line (${tail.length} characters without a newline): not applied`;
        store.reject(name, tail, error, lines.next);
        if (inSnapshot) snapshot.push({ source: name, lineNo: lines.next, line: tail, error });
      }
      endSnapshot();
    };
    stream.setEncoding('utf8');
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', (err: Error) => (inSnapshot ? reject(new Error(`${name}: ${err.message}`)) : store.reject(name, '', `${err.message}; the stream is no longer read`)));
  });
}

export interface HttpSourceOptions {
  readonly port: number;
  /** Defaults to loopback: the topology endpoint is not for the world. */
  readonly host?: string;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Largest accepted request body. */
  readonly maxBodyBytes?: number;
  /**
   * Where POST /events goes instead of the store (etcd: the store learns them from its watch):
   * resolves to the rejected lines (none: all written), rejects when the lines could not be written.
   */
  readonly write?: (lines: readonly string[], source: string) => Promise<readonly Rejection[]>;
}

function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > max) {
        resolve(undefined);
        req.destroy();
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    // A client that disconnects before the end of its body sent nothing usable: apply nothing.
    const cut = (why: string): void => reject(new Error(`client disconnected before the end of the request body (${why})`));
    req.on('close', () => {
      if (!req.complete) cut('closed');
    });
    req.on('error', (err) => cut(err.message));
  });
}

/**
 * POST /events: a body of JSON lines, all or nothing: 200 with {"accepted": n} when every line was
 * accepted and applied, else 400 with {"accepted": 0, "rejected": [{"line", "error"}…]} listing every
 * rejected line (each checked against the topology as the lines before it would leave it), and
 * nothing of the body applied. With `write` (an etcd topology), the body is written there instead,
 * all or nothing as well; 503 when it could not be written.
 * GET /topology: the current topology as JSON lines.
 */
export function httpSource(store: TopologyStore, o: HttpSourceOptions): Promise<Source & { server: Server; port: number }> {
  const server = createServer((req, res) => {
    void (async () => {
      if (o.token && req.headers.authorization !== `Bearer ${o.token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"missing or wrong bearer token"}\n');
        return;
      }
      if (req.method === 'GET' && req.url === '/topology') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(store.snapshot());
        return;
      }
      if (req.method === 'POST' && req.url === '/events') {
        const body = await readBody(req, o.maxBodyBytes ?? 16 << 20).catch((err: unknown) => {
          store.reject('http', '', `POST /events: ${err instanceof Error ? err.message : String(err)}; nothing applied`);
          return null;
        });
        if (body === null) return;
        if (body === undefined) {
          res.writeHead(413, { 'content-type': 'application/json' }).end('{"error":"body too large"}\n');
          return;
        }
        const lines = body.split('\n');
        let rejected: readonly Rejection[];
        try {
          rejected = o.write ? await o.write(lines, 'http') : store.applyBatch(lines, 'http');
        } catch (err) {
          res.writeHead(503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ error: `not written: ${err instanceof Error ? err.message : String(err)}` })}\n`);
          return;
        }
        const answer = rejected.length
          ? { accepted: 0, rejected: rejected.map((r) => ({ line: r.lineNo, error: r.error })) }
          : { accepted: lines.filter(isEventLine).length };
        res.writeHead(rejected.length ? 400 : 200, { 'content-type': 'application/json' }).end(`${JSON.stringify(answer)}\n`);
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"POST /events or GET /topology"}\n');
    })();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : o.port;
      resolve({ name: `http:${o.host ?? '127.0.0.1'}:${port}`, server, port, stop: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
