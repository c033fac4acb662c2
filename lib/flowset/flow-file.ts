// Reading flow files (ovs-ofctl add-flows syntax): one flow per line, blank lines and `#` comments
// ignored, a trailing backslash continues a line. Errors name the file, line and column.
import { isAscii } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { ActionsMemo, FlowSyntaxError, parseFlow, ParseOptions } from '../../codecs/ofctl/parse-flow.js';
import {
  FlowModMessage, OFPFC_ADD, OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPFC_MODIFY, OFPFC_MODIFY_STRICT,
} from '../../codecs/openflow/messages.js';
import { strerror } from '../strerror.js';
import { EncodedFlows } from './encoded-flows.js';

export interface FileFlow {
  readonly flow: FlowModMessage;
  readonly line: number;
  readonly text: string;
}

export class FlowFileError extends Error {}

/** Told of a flow whose match lost a field its protocol does not allow (see parseFlow), with its file:line. */
export type NormalizeWarning = (where: string, pre: string, post: string) => void;

/** add-flows' line keywords, in the order ovs-ofctl tries them (parse_ofp_str__ with command -2). */
const LINE_KEYWORDS: ReadonlyArray<readonly [string, ParseOptions]> = [
  ['add', { mode: 'add', command: OFPFC_ADD }],
  ['delete', { mode: 'match', command: OFPFC_DELETE }],
  ['delete_strict', { mode: 'match', command: OFPFC_DELETE_STRICT }],
  ['modify', { mode: 'modify', command: OFPFC_MODIFY }],
  ['modify_strict', { mode: 'modify', command: OFPFC_MODIFY_STRICT }],
];

/**
 * A line's keyword, as ovs-ofctl reads it: its first word (up to a space or a comma) when that is a
 * keyword or the start of one (`mod` is modify, `d` delete); the line is returned with the word
 * blanked out, so that error columns still count from the line's start. No keyword: an add.
 */
function lineKeyword(line: string): { line: string; opts: ParseOptions } {
  const start = line.search(/[^ \t\r\n]|$/);
  const rest = line.slice(start);
  const len = rest.search(/[, \t\r\n]|$/);
  const word = rest.slice(0, len);
  const k = word ? LINE_KEYWORDS.find(([name]) => name.startsWith(word)) : undefined;
  if (!k) return { line, opts: {} };
  return { line: line.slice(0, start) + ' '.repeat(len) + line.slice(start + len), opts: k[1] };
}

/**
 * Parses lazily, one flow per step, so a caller can send while the rest is still text. Lines are
 * cut as they are reached (no array of every line: for a big file that array alone would outlive
 * the young generation and cost a full collection).
 */
/**
 * keywords: true, lines may start with add, modify… (add-flows); a ParseOptions, every line is one
 * flow-mod of that command, without keywords (mod-flows and del-flows SWITCH -, as ovs-ofctl).
 */
export function* iterateFlowText(text: string, name: string, onNormalize?: NormalizeWarning, keywords: boolean | ParseOptions = false): Generator<FileFlow> {
  let pos = 0;
  let lineNo = 0;
  let first = 0;
  // One memo of action lists per text: its flows share a port-name context.
  const memo = new ActionsMemo();
  const opts = onNormalize ? { memo, onNormalize: (pre: string, post: string) => onNormalize(`${name}:${first}`, pre, post) } : { memo };
  /** The next line (as split('\n') would give it), or undefined after the last. */
  const nextLine = (): string | undefined => {
    if (pos > text.length) return undefined;
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    return line;
  };
  for (let line = nextLine(); line !== undefined; line = nextLine()) {
    first = lineNo;
    while (line.endsWith('\\') && pos <= text.length) line = line.slice(0, -1) + nextLine()!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    try {
      if (typeof keywords === 'object') {
        yield { flow: parseFlow(line, { ...opts, ...keywords }), line: first, text: trimmed };
      } else if (keywords) {
        const k = lineKeyword(line);
        yield { flow: parseFlow(k.line, { ...opts, ...k.opts }), line: first, text: trimmed };
      } else {
        yield { flow: parseFlow(line, opts), line: first, text: trimmed };
      }
    } catch (err) {
      if (err instanceof FlowSyntaxError) throw new FlowFileError(`${name}:${first}: ${err.message}`);
      throw err;
    }
  }
}

/** How errors name a flow file (`-`: standard input). */
const fileName = (path: string): string => (path === '-' ? '<stdin>' : path);

/**
 * A flow file's text (`-`: standard input); an unreadable one is an error naming it, in ovs-ofctl's
 * words: `FILE: open failed (No such file or directory)` (add-flows, add-groups), `FILE: open (…)`
 * with how: 'open' (replace-flows, diff-flows). A directory is an error (ours: ovs-ofctl reads it as
 * an empty file, and replace-flows would then empty the bridge). Flow files are ASCII as a rule:
 * read as Latin-1 then (the same string), which costs a tenth of a UTF-8 decode.
 */
export function readText(path: string, how: 'open failed' | 'open' = 'open failed'): string {
  try {
    const b = readFileSync(path === '-' ? 0 : path);
    return isAscii(b) ? b.toString('latin1') : b.toString('utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory' : `${how} (${strerror(err)})`;
    throw new FlowFileError(`${fileName(path)}: ${why}`);
  }
}

/** keywords: lines may start with add, modify, modify_strict, delete or delete_strict (add-flows' files). */
export function readFlowFile(path: string, onNormalize?: NormalizeWarning, keywords: boolean | ParseOptions = false): FileFlow[] {
  return [...iterateFlowFile(path, onNormalize, keywords)];
}

export function iterateFlowFile(path: string, onNormalize?: NormalizeWarning, keywords: boolean | ParseOptions = false): Generator<FileFlow> {
  const text = readText(path);
  return iterateFlowText(text, fileName(path), onNormalize, keywords);
}

/** A flow file as an encoded set (the flows as the switch is told them; see encoded-flows.ts). */
export function readEncodedFlowFile(path: string, onNormalize?: NormalizeWarning): EncodedFlows {
  // replace-flows and diff-flows: ovs-ofctl's read_flows_from_file says `FILE: open (…)`.
  const text = readText(path, 'open');
  return readEncodedFlowText(text, fileName(path), onNormalize);
}

/** Flow text already read (standard input, kept for a second pass) as an encoded set. */
export function readEncodedFlowText(text: string, name: string, onNormalize?: NormalizeWarning): EncodedFlows {
  // A flow's flow-mod takes 0.75 to 1.2 times its text (the l2pop bridges, the codec corpus).
  const set = new EncodedFlows(text.length * 1.5);
  for (const f of iterateFlowText(text, name, onNormalize)) set.add(f.flow);
  return set;
}
