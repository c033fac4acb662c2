// Temp directories for tests, removed when the test process exits (passed, failed or interrupted
// by mocha), so that runs leave nothing in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();
process.once('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under the system's temp directory, named PREFIXxxxxxx. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.add(d);
  return d;
}
