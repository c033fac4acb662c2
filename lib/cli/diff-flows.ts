// ofctl-ts diff-flows A B: each a target or a flow file. Exit 0 equal, 2 different, 1 error (as ovs-ofctl 3.1).
import { existsSync, statSync } from 'node:fs';
import { diffEncoded, EncodedFlows, formatEncodedDiffText, isEmptyEncodedDiff } from '../flowset/encoded-flows.js';
import { readEncodedFlowFile, readEncodedFlowText, readText } from '../flowset/flow-file.js';
import { streamFlowReplies } from '../switch/flow-ops.js';
import { TargetError } from '../switch/target.js';
import { EXIT_OK, UsageError, withTarget } from './common.js';
import { NamesOption, withPortNames } from './port-names.js';

/** ovs-ofctl diff-flows' exit code when the flows differ (its failures exit 1). */
const EXIT_FLOWS_DIFFER = 2;

/**
 * A flow file, as ovs-ofctl tells one from a switch: a path starting with / or . (so a missing one
 * is "FILE: open (No such file or directory)"), or an existing name without ':'. A socket stays a
 * switch (ours: ovs-ofctl would try to read it as a file).
 */
function isFile(p: string): boolean {
  if (p === '-') return true;
  const st = statSync(p, { throwIfNoEntry: false });
  if (st?.isSocket()) return false;
  return p.startsWith('/') || p.startsWith('.') || (st !== undefined && !p.includes(':'));
}

/**
 * Flows of "a target or a file", as the switch holds them: each encoded as the flow-mod that
 * installs it (a file's flows go through the codec, as OVS's do).
 */
async function loadFlows(source: string, stdinText: string | undefined): Promise<EncodedFlows> {
  if (source === '-' && stdinText !== undefined) return readEncodedFlowText(stdinText, '<stdin>');
  if (isFile(source)) return readEncodedFlowFile(source);
  const set = new EncodedFlows();
  await withTarget(source, (c) => streamFlowReplies(c, {}, (r) => { for (const f of r.flows) set.add(f); })).catch((err: unknown) => {
    // Neither an existing file nor a target (parseTarget's refusal): a mistyped file is the likelier
    // reading, so both are named.
    const notTarget = `${source}: not a target`;
    if (err instanceof TargetError && err.message.startsWith(notTarget) && !existsSync(source)) {
      throw new UsageError(`${source}: no such file, and${err.message.slice(source.length + 1)}`);
    }
    throw err;
  });
  return set;
}

/**
 * names: --names / --no-names. Port names are those of the first of A and B that is a switch:
 * accepted in the other's file unless --no-names (ovs-ofctl takes them there only when it shows
 * them), printed when shown.
 */
export async function diffFlowsCommand(a: string, b: string, out: (s: string | Buffer) => void, opts: { readonly names?: NamesOption } = {}): Promise<number> {
  if (a === '-' && b === '-') throw new UsageError('standard input (-) can be only one of the two flow sets');
  const text = a === '-' || b === '-' ? readText('-') : undefined;
  const target = [a, b].find((s) => !isFile(s));
  const [fa, fb] = await withPortNames(target, opts.names, () => Promise.all([loadFlows(a, text), loadFlows(b, text)]));
  const d = diffEncoded(fa, fb);
  // One write for the whole diff, as bytes: a write per line was a tenth of the command's time.
  out(formatEncodedDiffText(fa, fb, d));
  return isEmptyEncodedDiff(d) ? EXIT_OK : EXIT_FLOWS_DIFFER;
}
