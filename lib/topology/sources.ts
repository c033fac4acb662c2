// Topology sources feeding a TopologyStore: a file (read, then follow appends), stdin, and an HTTP
// endpoint (POST /events with JSON lines, GET /topology). Lines are only applied when complete, so a
// source that stops mid-line applies nothing of that line.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { TopologyStore } from './store.js';

export interface Source {
  readonly name: string;
  stop(): Promise<void>;
}

/** Splits a byte stream into complete lines; the unfinished tail waits for more. */
class LineBuffer {
  private tail = '';
  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const lines = text.split('\n');
    this.tail = lines.pop()!;
    return lines;
  }

  /** What is left when the input ends: an unfinished line that must not be applied. */
  get unfinished(): string {
    return this.tail;
  }
}

/** Reads a file, then polls it for appended lines until stopped. */
export function fileSource(store: TopologyStore, path: string, pollMs = 200): Source {
  let offset = 0;
  const lines = new LineBuffer();
  const readMore = (): void => {
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return;
    }
    if (size < offset) offset = 0; // truncated or replaced: read again from the start
    if (size === offset) return;
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      const n = readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      for (const l of lines.push(buf.subarray(0, n).toString('utf8'))) store.applyLine(l, path);
    } finally {
      closeSync(fd);
    }
  };
  readMore();
  const timer = setInterval(readMore, pollMs);
  timer.unref();
  return { name: `file:${path}`, stop: async () => clearInterval(timer) };
}

export function streamSource(store: TopologyStore, stream: NodeJS.ReadableStream, name = 'stdin'): Source {
  const lines = new LineBuffer();
  stream.setEncoding('utf8');
  const onData = (d: string | Buffer): void => {
    for (const l of lines.push(String(d))) store.applyLine(l, name);
  };
  // A stream that ends mid-line (the sender died) leaves a line that may be cut anywhere, even
  // where it still parses: it is rejected, never applied.
  const onEnd = (): void => {
    const tail = lines.unfinished;
    if (tail.trim()) store.reject(name, tail, `input ended mid-line (${tail.length} characters without a newline): not applied`);
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  return { name, stop: async () => void stream.off('data', onData).off('end', onEnd) };
}

export interface HttpSourceOptions {
  readonly port: number;
  /** Defaults to loopback: the topology endpoint is not for the world. */
  readonly host?: string;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Largest accepted request body. */
  readonly maxBodyBytes?: number;
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
 * POST /events: a body of JSON lines, applied in order; 200 with {"accepted": n} when all were
 * accepted, else 400 with the reasons of the rejected lines (the others were applied).
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
        const errors: Array<{ line: number; error: string }> = [];
        let accepted = 0;
        body.split('\n').forEach((l, i) => {
          if (!l.trim()) return;
          const r = store.applyLine(l, 'http');
          if (r.ok) accepted++;
          else errors.push({ line: i + 1, error: r.error });
        });
        res.writeHead(errors.length ? 400 : 200, { 'content-type': 'application/json' })
          .end(`${JSON.stringify(errors.length ? { accepted, rejected: errors } : { accepted })}\n`);
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
