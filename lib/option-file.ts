// A file named by a command-line option, read whole; an unreadable one is an error naming the
// option, the path and the reason (`--neutron-hosts h.jsonl: open failed (No such file or directory)`).
import { readFileSync } from 'node:fs';
import { openFailed } from './strerror.js';

export function readOptionFile(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${option} ${openFailed(path, err)}`);
  }
}
