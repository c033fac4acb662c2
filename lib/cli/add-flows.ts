// ofctl-ts add-flow TARGET FLOW|- / add-flows TARGET FILE|- [--no-bundle] / mod-flows [--strict] TARGET FLOW|-
import { parseFlow, ParseOptions } from '../../codecs/ofctl/parse-flow.js';
import { FlowModMessage, OFPFC_MODIFY, OFPFC_MODIFY_STRICT } from '../../codecs/openflow/messages.js';
import { FileFlow, iterateFlowFile, iterateFlowText, readText } from '../flowset/flow-file.js';
import { BundleError, OpenFlowError } from '../switch/errors.js';
import { applyFlowMods } from '../switch/flow-ops.js';
import { EXIT_OK, warnNormalized, withTarget } from './common.js';
import { NamesOption, withPortNames } from './port-names.js';

/** Options of add-flow(s): names: --names / --no-names (port names in the flows unless false). */
export interface AddFlowsOptions {
  readonly names?: NamesOption;
  /**
   * add-flows: undefined (a line may start with a keyword). mod-flows and del-flows SWITCH -: every
   * line is a flow-mod of this command, without keywords, as ovs-ofctl's ofctl_flow_mod_file().
   */
  readonly lines?: ParseOptions;
}

export async function addFlowCommand(target: string, flow: string, opts: AddFlowsOptions = {}): Promise<number> {
  // `-`: flows from standard input, as ovs-ofctl (keywords allowed, as there); in one bundle, as add-flows.
  if (flow === '-') return addFlowsCommand(target, '-', true, opts);
  const fm = await withPortNames(target, opts.names, async () => parseFlow(flow, { onNormalize: (pre, post) => warnNormalized('', pre, post) }));
  await withTarget(target, (c) => applyFlowMods(c, [fm], false));
  return EXIT_OK;
}

/** mod-flows: the actions (and cookie, timeouts, flags) of the matching flows; --strict: exactly this match and priority. */
export async function modFlowsCommand(target: string, flow: string, strict: boolean, opts: AddFlowsOptions = {}): Promise<number> {
  if (flow === '-') return addFlowsCommand(target, '-', true, { ...opts, lines: { mode: 'modify', command: strict ? OFPFC_MODIFY_STRICT : OFPFC_MODIFY } });
  const fm = await withPortNames(target, opts.names, async () => parseFlow(flow, { mode: 'modify', command: strict ? OFPFC_MODIFY_STRICT : OFPFC_MODIFY, onNormalize: (pre, post) => warnNormalized('', pre, post) }));
  await withTarget(target, (c) => applyFlowMods(c, [fm], false));
  return EXIT_OK;
}

/**
 * All flows of the file in one atomic bundle by default: either every flow is installed or none.
 * The file is parsed while earlier flows are already on their way (a syntax error discards the
 * bundle), and a refused flow is reported with its file and line. Without a bundle the whole file
 * is parsed first, as ovs-ofctl does, so a syntax error sends nothing; a refusal then says how
 * many flow-mods the switch did apply. A line may start with add, modify, modify_strict, delete or
 * delete_strict, as in ovs-ofctl; the flow-mods go in the file's order.
 */
export async function addFlowsCommand(target: string, file: string, bundle: boolean, opts: AddFlowsOptions = {}): Promise<number> {
  // Standard input can be read once only: its text is kept for a second pass (port names met).
  const text = file === '-' ? readText('-') : undefined;
  return withPortNames(target, opts.names, () => addFlows(target, file, bundle, text, opts.lines ?? true));
}

async function addFlows(target: string, file: string, bundle: boolean, stdinText: string | undefined, lines: true | ParseOptions): Promise<number> {
  const fileFlows = (): Generator<FileFlow> => (stdinText === undefined ? iterateFlowFile(file, warnNormalized, lines) : iterateFlowText(stdinText, '<stdin>', warnNormalized, lines));
  // Only the line number of each sent flow is kept (the parsed flows die young, which keeps the
  // garbage collector cheap for big files); the text is read again if the switch refuses one.
  const sentLines: number[] = [];
  const sentTexts = new Map<number, string>();
  const keep = (f: FileFlow): FlowModMessage => {
    sentLines.push(f.line);
    if (file === '-') sentTexts.set(f.line, f.text);
    return f.flow;
  };
  const refused = (failures: ReadonlyArray<{ index: number; reason: string }>): string => {
    const lines = file === '-' ? [] : readText(file).split('\n');
    return failures.map(({ index, reason }) => {
      const line = sentLines[index];
      if (line === undefined) return `message ${index + 1}: ${reason}`;
      return `${file === '-' ? '<stdin>' : file}:${line}: ${reason}: ${(sentTexts.get(line) ?? lines[line - 1] ?? '').trim()}`;
    }).join('; ');
  };
  if (!bundle) {
    // As ovs-ofctl without --bundle: one flow-mod at a time, each confirmed by a barrier, stopping
    // at the first the switch refuses (the ones before it stay applied, the rest is not sent).
    const mods = [...fileFlows()].map(keep);
    await withTarget(target, async (c) => {
      for (let i = 0; i < mods.length; i++) {
        const failures = await c.sendConfirmed([mods[i]!]);
        if (failures.length === 0) continue;
        const where = refused(failures.map((f) => ({ ...f, index: i })));
        throw new OpenFlowError(`${i} of ${mods.length} flow-mods were applied (--no-bundle: one at a time, stopping at the first refused, as ovs-ofctl); the switch refused ${where}; the ${mods.length - i - 1} after it were not sent`);
      }
    });
    return EXIT_OK;
  }
  function* flows(): Generator<FlowModMessage> {
    for (const f of fileFlows()) yield keep(f);
  }
  try {
    await withTarget(target, (c) => applyFlowMods(c, flows(), true));
  } catch (err) {
    if (err instanceof BundleError && err.failures.length) {
      throw new OpenFlowError(`nothing was applied; the switch refused ${refused(err.failures)}`);
    }
    throw err;
  }
  return EXIT_OK;
}
