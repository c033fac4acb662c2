// ofctl-ts dump-flows TARGET [MATCH] [--no-stats] [--names|--no-names] [--diff FILE]
// A plain dump loads only the session and the printer: the flow parser and the diff (for MATCH and
// --diff) are loaded when asked for, as start-up time is part of every dump's time.
import { formatFlow, formatFlowStatsReply } from '../../codecs/ofctl/format-flow.js';
import { TextSink, writeFlowStatsReplyBytes } from '../../codecs/ofctl/format-flow-stats-bytes.js';
import { OFPTT_ALL } from '../../codecs/openflow/messages.js';
import { OfConnection, RawPartConsumer, SentRequest } from '../switch/connection.js';
import { asFlowStatsReply, DumpFilter, dumpFlowReplies, FlowStatsReply, streamFlowReplies } from '../switch/flow-ops.js';
import { formatTarget, parseTarget } from '../switch/target.js';
import { EXIT_DIFFERENT, EXIT_OK, flowToolLogger, UsageError, withTarget } from './common.js';
import type { SortKey } from './args.js';
import { EARLY_DUMP_XID, EarlyDump, takeEarlyDump } from './early-dump.js';
import { NamesOption, showNames, usePortNamesOf, withPortNames } from './port-names.js';

/** Text is handed to stdout in chunks of at least this many bytes (and at the end). */
const FLUSH_BYTES = 1 << 17;

export interface DumpFlowsArgs {
  readonly target: string;
  readonly match?: string;
  readonly stats: boolean;
  readonly diff?: string;
  /** --names / --no-names; undefined: names when stdout is a terminal (port-names.ts). */
  readonly names?: NamesOption;
  /** --sort/--rsort keys: the whole dump is read, then printed sorted, without reply headers (as ovs-ofctl). */
  readonly sort?: readonly SortKey[];
}

export async function dumpFlowsCommand(a: DumpFlowsArgs, out: (s: string) => void): Promise<number> {
  // Same text as `ovs-ofctl -O OpenFlow13 --no-names dump-flows [--no-stats]`, written reply by
  // reply as the switch sends them. Most replies print straight from their bytes into big byte
  // chunks for stdout (printBytes); the others, and any malformed one (which the decoder then
  // reports), are decoded first (print). Both write in the order the replies came.
  // With names shown every reply is decoded and printed with them, and, as ovs-ofctl prints a
  // dump with names, without the reply headers.
  const names = showNames(a.names);
  const sink = new TextSink((chunk) => process.stdout.write(chunk));
  const withStats = { stats: a.stats };
  const print = (r: FlowStatsReply): void => {
    sink.flush();
    if (a.stats && !names) out(formatFlowStatsReply(r.xid, r.flags, r.flows));
    else if (r.flows.length) out(r.flows.map((f) => ` ${formatFlow(f, withStats)}\n`).join(''));
  };
  const printBytes = (bytes: Buffer): boolean => {
    if (names || !writeFlowStatsReplyBytes(sink, bytes, a.stats)) return false;
    if (sink.pos >= FLUSH_BYTES) sink.flush();
    return true;
  };
  // `--diff ""` (an unset variable in a script) must not pass for "in sync".
  if (a.diff === '') throw new UsageError('--diff needs a FILE (- for standard input)');
  const early = !a.match && a.diff === undefined ? await takeEarlyDump(a.target) : undefined;
  if (early) {
    // Shown names are fetched while the early dump's replies wait unread in its socket.
    if (names) await usePortNamesOf(a.target);
    return finishEarlyDump(early, print, printBytes).finally(() => sink.flush());
  }
  // A MATCH may name ports (unless --no-names); shown names are fetched before the dump.
  return withPortNames(a.target, a.names, async () => {
    const filter = a.match ? await dumpFilter(a.match) : {};
    if (a.diff !== undefined) return diffWithGolden(a.target, filter, a.diff, out);
    if (a.sort?.length) return sortedDump(a.target, filter, a.sort, a.stats, out);
    return withTarget(a.target, async (conn) => {
      try {
        await streamFlowReplies(conn, filter, print, printBytes);
      } finally {
        sink.flush();
      }
      return EXIT_OK;
    });
  });
}

/** MATCH (ovs-ofctl syntax) as the request's filter. */
export async function dumpFilter(match: string): Promise<DumpFilter> {
  const { parseFlow } = await import('../../codecs/ofctl/parse-flow.js');
  const f = parseFlow(match, { mode: 'match' });
  return { table: f.table === 0xff ? OFPTT_ALL : f.table, match: f.match, cookie: f.cookie, cookieMask: f.cookieMask, outPort: f.outPort, outGroup: f.outGroup };
}

/** `--diff FILE`: the switch's flows against a golden file, printed as diff-flows prints them. */
async function diffWithGolden(target: string, filter: DumpFilter, file: string, out: (s: string) => void): Promise<number> {
  const [{ asSwitchHolds, diffFlows, formatDiff, isEmptyDiff }, { readFlowFile }] = await Promise.all([
    import('../flowset/flowset.js'), import('../flowset/flow-file.js'),
  ]);
  const want = readFlowFile(file).map((f) => asSwitchHolds(f.flow));
  return withTarget(target, async (conn) => {
    const d = diffFlows(want, (await dumpFlowReplies(conn, filter)).flatMap((r) => r.flows));
    for (const l of formatDiff(d)) out(l);
    return isEmptyDiff(d) ? EXIT_OK : EXIT_DIFFERENT;
  });
}

async function sortedDump(target: string, filter: DumpFilter, keys: readonly SortKey[], stats: boolean, out: (s: string) => void): Promise<number> {
  const { sortFlows } = await import('./sort-flows.js');
  return withTarget(target, async (conn) => {
    const flows = sortFlows((await dumpFlowReplies(conn, filter)).flatMap((r) => r.flows), keys);
    const opts = { stats };
    out(flows.map((f) => ` ${formatFlow(f, opts)}\n`).join(''));
    return EXIT_OK;
  });
}

/** The session of a dump whose HELLO and request went out before the CLI loaded (early-dump.ts). */
async function finishEarlyDump(e: EarlyDump, print: (r: FlowStatsReply) => void, printBytes: RawPartConsumer): Promise<number> {
  const logger = await flowToolLogger();
  const dump: SentRequest = { xid: EARLY_DUMP_XID, type: 'flow_stats_request', onPart: (r) => print(asFlowStatsReply(conn, r)), onRawPart: printBytes };
  const { conn, replies } = OfConnection.adopt(e.socket, formatTarget(parseTarget(e.target)), { nextXid: EARLY_DUMP_XID + 1, sent: [dump] }, {
    features: false, ...(logger ? { logger } : {}),
  });
  const done = Promise.all(replies);
  done.catch(() => undefined);
  try {
    await conn.handshake();
    await done;
    return EXIT_OK;
  } finally {
    conn.close('done');
  }
}
