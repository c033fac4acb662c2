// ofctl-ts del-flows TARGET [MATCH|-] [--strict]
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { OFPFC_DELETE, OFPFC_DELETE_STRICT } from '../../codecs/openflow/messages.js';
import { applyFlowMods } from '../switch/flow-ops.js';
import { addFlowsCommand } from './add-flows.js';
import { EXIT_OK, warnNormalized, withTarget } from './common.js';
import { NamesOption, withPortNames } from './port-names.js';

/** names: --names / --no-names (port names in MATCH unless false). */
export async function delFlowsCommand(target: string, match: string | undefined, strict: boolean, opts: { readonly names?: NamesOption } = {}): Promise<number> {
  const command = strict ? OFPFC_DELETE_STRICT : OFPFC_DELETE;
  // `-`: one match a line from standard input, as ovs-ofctl (in one bundle, as add-flows).
  if (match === '-') return addFlowsCommand(target, '-', true, { ...opts, lines: { mode: 'match', command } });
  // No table is every table, for --strict too (OFPTT_ALL), as ovs-ofctl sends it.
  const fm = await withPortNames(target, opts.names, async () => parseFlow(match ?? '', { mode: 'match', command, onNormalize: (pre, post) => warnNormalized('', pre, post) }));
  await withTarget(target, (c) => applyFlowMods(c, [fm], false));
  return EXIT_OK;
}
