// ofctl-ts diff-flows A B: each a target or a flow file. Exit 0 equal, 2 different, 1 error (as ovs-ofctl 3.1).
import { existsSync, statSync } from 'node:fs';
import { diffEncoded, EncodedFlows, formatEncodedDiffText, isEmptyEncodedDiff } from '../flowset/encoded-flows.js';
import { readEncodedFlowFile } from '../flowset/flow-file.js';
import { streamFlowReplies } from '../switch/flow-ops.js';
import { TargetError } from '../switch/target.js';
import { EXIT_OK, UsageError, withTarget } from './common.js';

/** ovs-ofctl diff-flows' exit code when the flows differ (its failures exit 1). */
const EXIT_FLOWS_DIFFER = 2;

function isFile(p: string): boolean {
  return p === '-' || (existsSync(p) && statSync(p).isFile());
}

/**
 * Flows of "a target or a file", as the switch holds them: each encoded as the flow-mod that
 * installs it (a file's flows go through the codec, as OVS's do).
 */
async function loadFlows(source: string): Promise<EncodedFlows> {
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

export async function diffFlowsCommand(a: string, b: string, out: (s: string | Buffer) => void): Promise<number> {
  if (a === '-' && b === '-') throw new UsageError('standard input (-) can be only one of the two flow sets');
  const [fa, fb] = await Promise.all([loadFlows(a), loadFlows(b)]);
  const d = diffEncoded(fa, fb);
  // One write for the whole diff, as bytes: a write per line was a tenth of the command's time.
  out(formatEncodedDiffText(fa, fb, d));
  return isEmptyEncodedDiff(d) ? EXIT_OK : EXIT_FLOWS_DIFFER;
}
