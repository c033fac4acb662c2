// A file named by a command-line option, read whole; an unreadable one is an error naming the
// option, the path and the reason's code (`--neutron-hosts h.jsonl: ENOENT`).
import { readFileSync } from 'node:fs';

export function readOptionFile(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}
