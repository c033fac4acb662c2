// Reading flow files (ovs-ofctl add-flows syntax): one flow per line, blank lines and `#` comments
// ignored, a trailing backslash continues a line. Errors name the file, line and column.
import { readFileSync } from 'node:fs';
import { FlowSyntaxError, parseFlow } from '../../codecs/ofctl/parse-flow.js';
import type { FlowModMessage } from '../../codecs/openflow/messages.js';

export interface FileFlow {
  readonly flow: FlowModMessage;
  readonly line: number;
  readonly text: string;
}

export class FlowFileError extends Error {}

/** Parses lazily, one flow per step, so a caller can send while the rest is still text. */
export function* iterateFlowText(text: string, name: string): Generator<FileFlow> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    const first = i;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i];
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    try {
      yield { flow: parseFlow(line), line: first + 1, text: trimmed };
    } catch (err) {
      if (err instanceof FlowSyntaxError) throw new FlowFileError(`${name}:${first + 1}: ${err.message}`);
      throw err;
    }
  }
}

export function readFlowFile(path: string): FileFlow[] {
  return [...iterateFlowFile(path)];
}

export function iterateFlowFile(path: string): Generator<FileFlow> {
  const text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  return iterateFlowText(text, path === '-' ? '<stdin>' : path);
}
