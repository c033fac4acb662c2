// ofctl-ts add-flow TARGET FLOW / add-flows TARGET FILE|- [--no-bundle]
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { readFlowFile } from '../flowset/flow-file.js';
import { applyFlowMods } from '../switch/flow-ops.js';
import { EXIT_OK, withTarget } from './common.js';

export async function addFlowCommand(target: string, flow: string): Promise<number> {
  const fm = parseFlow(flow);
  await withTarget(target, (c) => applyFlowMods(c, [fm], false));
  return EXIT_OK;
}

/** All flows of the file in one atomic bundle by default: either every flow is installed or none. */
export async function addFlowsCommand(target: string, file: string, bundle: boolean): Promise<number> {
  const flows = readFlowFile(file);
  await withTarget(target, (c) => applyFlowMods(c, flows.map((f) => f.flow), bundle));
  return EXIT_OK;
}
