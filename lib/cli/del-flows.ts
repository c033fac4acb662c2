// ofctl-ts del-flows TARGET [MATCH] [--strict]
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { OFPFC_DELETE, OFPFC_DELETE_STRICT, OFPTT_ALL } from '../../codecs/openflow/messages.js';
import { applyFlowMods } from '../switch/flow-ops.js';
import { EXIT_OK, withTarget } from './common.js';

export async function delFlowsCommand(target: string, match: string | undefined, strict: boolean): Promise<number> {
  const fm = parseFlow(match ?? '', { mode: 'match', command: strict ? OFPFC_DELETE_STRICT : OFPFC_DELETE });
  const mod = { ...fm, table: strict && fm.table === OFPTT_ALL ? 0 : fm.table };
  await withTarget(target, (c) => applyFlowMods(c, [mod], false));
  return EXIT_OK;
}
