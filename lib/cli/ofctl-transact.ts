// ovs-ofctl's two ways of talking to a switch for one command, with its output: a modification
// confirmed by a barrier (transact_noreply), and a request whose reply is printed (dump_transaction).
import { formatMessage, header, hexDump } from '../../codecs/ofctl/format-message.js';
import { errorName, RefusedMessage } from '../../codecs/openflow/errors.js';
import { decodeMessage, type OfMessage } from '../../codecs/openflow/messages.js';
import type { Outgoing } from '../switch/connection.js';
import { describeError, OpenFlowError } from '../switch/errors.js';
import { EXIT_FAILURE, EXIT_OK, withTarget } from './common.js';

/** The mods these commands send, by OpenFlow type, for an error that echoes one OVS refuses to decode. */
const MOD_NAMES: Readonly<Record<number, string>> = { 15: 'OFPT_GROUP_MOD', 29: 'OFPT_METER_MOD' };

/**
 * An OFPT_ERROR about a group or meter mod that ofp-print itself refuses to decode (an `all` group
 * with a watched bucket, a meter in both kbps and pktps): OVS prints the mod's header, its
 * `***decode error***` and its bytes.
 */
function refusedModError(m: Extract<OfMessage, { type: 'error' }>): string | undefined {
  const name = errorName(m.errType, m.code, m.experimenter);
  const modName = MOD_NAMES[m.data[1] ?? -1];
  if (name === undefined || modName === undefined || m.data.length < 8 || m.data.readUInt16BE(2) !== m.data.length) return undefined;
  const d = decodeMessage(m.data);
  if (d.ok || !(d.error instanceof RefusedMessage)) return undefined;
  return `${header('OFPT_ERROR', m.xid)} ${name}\n${header(modName, m.data.readUInt32BE(4))} ***decode error: ${d.error.ofpError}***\n${hexDump(m.data)}`;
}

/** A message as ofp-print prints it; a message the codec cannot print fails the command, never a guess. */
function printed(m: OfMessage): string {
  const s = formatMessage(m) ?? (m.type === 'error' ? refusedModError(m) : undefined);
  if (s !== undefined) return s;
  throw new Error(m.type === 'error' ? `switch refused: ${describeError(m)}` : `unprintable ${m.type} from the switch`);
}

/**
 * Sends each message in turn, each followed by a barrier, as ovs-ofctl sends group and meter mods.
 * The first the switch refuses stops it: its OFPT_ERROR is printed to `err` as ovs-ofctl prints it
 * (the refused message inside) and the exit code is 1; the ones before it stay applied.
 */
export async function transactEach(target: string, msgs: readonly Outgoing[], err: (s: string) => void): Promise<number> {
  return withTarget(target, async (c) => {
    for (const m of msgs) {
      let xid = -1;
      const errors: OfMessage[] = [];
      const sub = c.messages$.subscribe((r) => {
        if (r.type === 'error') errors.push(r);
      });
      try {
        await c.sendMany([m], (x) => (xid = x));
        await c.barrier();
      } finally {
        sub.unsubscribe();
      }
      const refused = errors.find((e) => e.xid === xid);
      if (refused) {
        err(printed(refused));
        return EXIT_FAILURE;
      }
    }
    return EXIT_OK;
  });
}

/**
 * Sends a request and prints each part of its reply as ofp-print prints it. An error reply is
 * printed the same way, to `out`, and the command still succeeds: ovs-ofctl's dump_transaction.
 */
export async function dumpTransaction(target: string, request: Outgoing, out: (s: string) => void): Promise<number> {
  return withTarget(target, async (c) => {
    try {
      await c.request(request, (part) => out(printed(part)));
    } catch (e) {
      if (!(e instanceof OpenFlowError) || !e.reply) throw e;
      out(printed(e.reply));
    }
    return EXIT_OK;
  });
}
