// ofctl-ts add-flow TARGET FLOW / add-flows TARGET FILE|- [--no-bundle]
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import type { FlowModMessage } from '../../codecs/openflow/messages.js';
import { readFileSync } from 'node:fs';
import { iterateFlowFile } from '../flowset/flow-file.js';
import { BundleError, OpenFlowError } from '../switch/errors.js';
import { applyFlowMods } from '../switch/flow-ops.js';
import { EXIT_OK, withTarget } from './common.js';

export async function addFlowCommand(target: string, flow: string): Promise<number> {
  const fm = parseFlow(flow);
  await withTarget(target, (c) => applyFlowMods(c, [fm], false));
  return EXIT_OK;
}

/**
 * All flows of the file in one atomic bundle by default: either every flow is installed or none.
 * The file is parsed while earlier flows are already on their way, and a refused flow is reported
 * with its file and line.
 */
export async function addFlowsCommand(target: string, file: string, bundle: boolean): Promise<number> {
  // Only the line number of each sent flow is kept (the parsed flows die young, which keeps the
  // garbage collector cheap for big files); the text is read again if the switch refuses one.
  const sentLines: number[] = [];
  const sentTexts = new Map<number, string>();
  function* flows(): Generator<FlowModMessage> {
    for (const f of iterateFlowFile(file)) {
      sentLines.push(f.line);
      if (file === '-') sentTexts.set(f.line, f.text);
      yield f.flow;
    }
  }
  try {
    await withTarget(target, (c) => applyFlowMods(c, flows(), bundle));
  } catch (err) {
    if (err instanceof BundleError && err.failures.length) {
      const lines = file === '-' ? [] : readFileSync(file, 'utf8').split('\n');
      const where = err.failures.map(({ index, reason }) => {
        const line = sentLines[index];
        if (line === undefined) return `message ${index + 1}: ${reason}`;
        return `${file}:${line}: ${reason}: ${(sentTexts.get(line) ?? lines[line - 1] ?? '').trim()}`;
      });
      throw new OpenFlowError(`nothing was applied; the switch refused ${where.join('; ')}`);
    }
    throw err;
  }
  return EXIT_OK;
}
