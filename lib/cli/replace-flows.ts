// ofctl-ts replace-flows TARGET FILE: make the switch hold exactly the file's flows, with the
// minimal set of flow-mods (ADD for new or changed flows, DELETE_STRICT for stale ones) in one
// atomic bundle, so traffic never sees a half-replaced table. Prints what changed.
import { OFPFC_ADD, OFPFC_DELETE_STRICT } from '../../codecs/openflow/messages.js';
import { asSwitchHolds, diffFlows, formatDiff, toFlowMod } from '../flowset/flowset.js';
import { readFlowFile } from '../flowset/flow-file.js';
import { applyFlowMods, dumpFlows } from '../switch/flow-ops.js';
import { EXIT_OK, warnNormalized, withTarget } from './common.js';

export async function replaceFlowsCommand(target: string, file: string, out: (s: string) => void): Promise<number> {
  const want = readFlowFile(file, warnNormalized).map((f) => asSwitchHolds(f.flow));
  return withTarget(target, async (conn) => {
    const have = await dumpFlows(conn);
    const d = diffFlows(have, want);
    const mods = [
      ...d.onlyA.map((f) => toFlowMod(f, OFPFC_DELETE_STRICT)),
      ...d.changed.map(([, f]) => toFlowMod(f, OFPFC_ADD)),
      ...d.onlyB.map((f) => toFlowMod(f, OFPFC_ADD)),
    ];
    await applyFlowMods(conn, mods, true);
    const lines = formatDiff(d);
    if (lines.length) out(lines.join('\n'));
    out(`${mods.length} flow-mods: ${d.onlyB.length} added, ${d.changed.length} modified, ${d.onlyA.length} deleted`);
    return EXIT_OK;
  });
}
