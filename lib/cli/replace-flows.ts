// ofctl-ts replace-flows TARGET FILE: make the switch hold exactly the file's flows, with the
// minimal set of flow-mods (ADD for new or changed flows, DELETE_STRICT for stale ones) in one
// atomic bundle, so traffic never sees a half-replaced table. Prints what changed.
// Both sets are held as flow-mod bytes (encoded-flows.ts): the file's flows are sent as encoded
// when read, the dump's are kept as the bytes that would install them, not as objects.
import { OFPFC_ADD, OFPFC_DELETE_STRICT } from '../../codecs/openflow/messages.js';
import { diffEncoded, EncodedFlows, formatEncodedDiffText } from '../flowset/encoded-flows.js';
import { readEncodedFlowFile, readEncodedFlowText, readText } from '../flowset/flow-file.js';
import { streamFlowReplies } from '../switch/flow-ops.js';
import { EXIT_OK, warnNormalized, withTarget } from './common.js';
import { NamesOption, withPortNames } from './port-names.js';

/** names: --names / --no-names (port names in FILE unless false; the changes printed with names when shown). */
export async function replaceFlowsCommand(target: string, file: string, out: (s: string | Buffer) => void, opts: { readonly names?: NamesOption } = {}): Promise<number> {
  const text = file === '-' ? readText('-') : undefined;
  const want = await withPortNames(target, opts.names, async () => (text === undefined ? readEncodedFlowFile(file, warnNormalized) : readEncodedFlowText(text, '<stdin>', warnNormalized)));
  return withTarget(target, async (conn) => {
    // The switch's flows take about what the file's do (a replace changes some of them).
    const have = new EncodedFlows(want.byteLength * 1.25);
    await streamFlowReplies(conn, {}, (r) => { for (const f of r.flows) have.add(f); });
    const d = diffEncoded(have, want);
    const mods = [
      ...d.onlyA.map((i) => have.message(i, OFPFC_DELETE_STRICT)),
      ...d.changed.map(([, j]) => want.message(j, OFPFC_ADD)),
      ...d.onlyB.map((j) => want.message(j, OFPFC_ADD)),
    ];
    // One atomic bundle of the encoded flow-mods (applyFlowMods' atomic case, for messages as bytes).
    await conn.bundle(mods);
    out(formatEncodedDiffText(have, want, d));
    out(`${mods.length} flow-mods: ${d.onlyB.length} added, ${d.changed.length} modified, ${d.onlyA.length} deleted`);
    return EXIT_OK;
  });
}
