// ofctl-ts parse-flow FLOW — print the flow-mod FLOW makes, and the protocols that can carry it.
// Example: ofctl-ts parse-flow 'table=1,ip,nw_src=10.0.0.0/8,actions=output:2'
// ofctl-ts parse-flows FILE — the same for every flow of FILE (- for stdin), as one set.
// Example: ofctl-ts parse-flows br-int.flows
// As `ovs-ofctl -O OpenFlow13 parse-flow(s)` (ofctl_parse_flows__()): `usable protocols: SET` (what
// every field, flag, table and action of the flows allows, protocols.ts), `chosen protocol:
// OXM-OpenFlow13`, then each OFPT_FLOW_MOD as ofp-print prints it (xid counting from 1; -m adds
// what ofp-print's verbosity adds). A set without OpenFlow 1.3 prints its line, then fails with "no
// usable protocol". A file's lines are read as OVS reads them: `#` starts a comment, no line
// continuation, no add/modify/delete prefix; an error names FILE:LINE.
import { readFile } from 'node:fs/promises';
import { FlowSyntaxError, parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { encodeMessage, FlowModMessage } from '../../codecs/openflow/messages.js';
import { P_ANY, P_OF10_ANY, P_OF13_OXM, protocolName, protocolsToString, Usable } from '../../codecs/openflow/protocols.js';
import { NotPrintable, ofpToString } from './cmd-ofp-print.js';
import { openFailed } from '../strerror.js';
import { warnNormalized } from './common.js';

export interface ParseFlowOptions {
  /** -m/--more, counted: ofp-print's verbosity (0 by default, as ovs-ofctl). */
  readonly more?: number;
}

type Out = (s: string | Buffer) => void;

/** One flow, or why OVS accepts it but no protocol we speak can carry it (its usable set kept). */
type Parsed = { readonly fm: FlowModMessage } | { readonly fm?: undefined };

/**
 * parse_ofp_flow_mod_str(): the flow-mod, its usable protocols narrowed into `usable`. An action
 * our parser refuses as "no usable protocol" is one OVS accepts for OpenFlow 1.0 alone (its
 * inconsistent_match()): the set narrows to that, and OVS fails only when nothing is left.
 */
function parseOne(text: string, usable: Usable, where: string): Parsed {
  const mine: Usable = { protocols: P_ANY };
  try {
    const fm = parseFlow(text, { usable: mine, onNormalize: (pre, post) => warnNormalized(where, pre, post) });
    usable.protocols &= mine.protocols;
    return { fm };
  } catch (err) {
    if (!(err instanceof FlowSyntaxError)) throw err;
    if (!err.reason.startsWith('no usable protocol')) throw new Error(err.reason);
    // What the actions after the refused one would narrow is not known: OpenFlow 1.3 is out either way.
    mine.protocols &= P_OF10_ANY;
    if (!mine.protocols) throw new Error('actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)');
    usable.protocols &= mine.protocols;
    return {};
  }
}

/** ofctl_parse_flows__(): the usable set, the protocol chosen from it, each flow-mod printed. */
function printFlows(flows: readonly Parsed[], usable: number, verbosity: number, out: Out): number {
  out(`usable protocols: ${protocolsToString(usable)}\n`);
  if (!(usable & P_OF13_OXM)) throw new Error('no usable protocol');
  out(`chosen protocol: ${protocolName(P_OF13_OXM)}\n`);
  flows.forEach((f, i) => {
    try {
      out(ofpToString(encodeMessage({ ...f.fm!, xid: i + 1 }), verbosity));
    } catch (err) {
      if (err instanceof NotPrintable) throw new Error(err.message);
      throw err;
    }
  });
  return 0;
}

export async function parseFlowCommand(args: readonly string[], opts: ParseFlowOptions, out: Out): Promise<number> {
  if (args.length !== 1) throw new Error(`'parse-flow' command ${args.length ? 'takes at most 1 arguments' : 'requires at least 1 arguments'}`);
  const usable: Usable = { protocols: P_ANY };
  const flow = parseOne(args[0]!, usable, '');
  return printFlows([flow], usable.protocols, opts.more ?? 0, out);
}

async function readFlowsFile(file: string): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await readFile(file, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    // fopen() opens a directory, and reading it gives nothing: OVS reads no flows from it.
    if (code === 'EISDIR') return '';
    throw new Error(openFailed(file, err));
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}

export async function parseFlowsCommand(args: readonly string[], opts: ParseFlowOptions, out: Out): Promise<number> {
  if (args.length !== 1) throw new Error(`'parse-flows' command ${args.length ? 'takes at most 1 arguments' : 'requires at least 1 arguments'}`);
  const file = args[0]!;
  const text = await readFlowsFile(file);
  const usable: Usable = { protocols: P_ANY };
  const flows: Parsed[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    // ds_get_preprocessed_line(): a comment runs from `#` to the end of the line; blank lines are skipped.
    const hash = raw.indexOf('#');
    const line = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (!line) return;
    try {
      flows.push(parseOne(line, usable, `${file}:${i + 1}`));
    } catch (err) {
      throw new Error(`${file}:${i + 1}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return printFlows(flows, usable.protocols, opts.more ?? 0, out);
}
