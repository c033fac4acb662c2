// ofctl-ts diff-flows A B: each a target or a flow file. Exit 0 equal, 1 different, 2 error.
import { diffFlows, formatDiff, isEmptyDiff } from '../flowset/flowset.js';
import { EXIT_DIFFERENT, EXIT_OK, loadFlows } from './common.js';

export async function diffFlowsCommand(a: string, b: string, out: (s: string) => void): Promise<number> {
  const [fa, fb] = await Promise.all([loadFlows(a), loadFlows(b)]);
  const d = diffFlows(fa, fb);
  for (const l of formatDiff(d)) out(l);
  return isEmptyDiff(d) ? EXIT_OK : EXIT_DIFFERENT;
}
