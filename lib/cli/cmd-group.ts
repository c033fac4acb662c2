// The group commands of ovs-ofctl (-O OpenFlow13): add-group, add-groups, mod-group, del-groups,
// dump-groups, dump-group-stats, dump-group-features. Each takes what ovs-ofctl takes, prints what
// it prints and exits as it exits; a text error names its column (a file's, its line too).
import { NeedsOf15Error, OFPGC_ADD_OR_MOD, parseGroupMod, parseGroupStatsId, type GroupMod } from '../../codecs/ofctl/parse-group.js';
import { parseGroupId } from '../../codecs/ofctl/values.js';
import { setPortNames } from '../../codecs/openflow/ports.js';
import { OFPG_ALL, OFPGC_ADD, OFPGC_DELETE, OFPGC_MODIFY } from '../../codecs/openflow/stats.js';
import { readText } from '../flowset/flow-file.js';
import { withTimeout } from './common.js';
import { dumpTransaction, transactEach } from './ofctl-transact.js';
import { NamesOption, PortNamesNeeded, showNames, usePortNamesOf, withPortNames } from './port-names.js';

export interface GroupOptions {
  /** mod-group --may-create: add the group if it does not exist. */
  readonly mayCreate?: boolean;
  /** --names/--no-names: port names in watch_port and bucket actions (accepted unless --no-names), and in dump-groups. */
  readonly names?: NamesOption;
  /** -t/--timeout SECS (lib/cli/common.ts withTimeout). */
  readonly timeoutS?: number;
}

type Out = (s: string | Buffer) => void;
const stderr = (s: string): void => void process.stderr.write(s);

/** A groups file's text (`file` names it) as ovs-ofctl reads it: `#` starts a comment, blank lines are skipped, no continuation lines. */
function parseGroupFile(file: string, text: string, command: number | 'line'): GroupMod[] {
  const name = file === '-' ? '<stdin>' : file;
  const mods: GroupMod[] = [];
  text.split('\n').forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (!line) return;
    try {
      mods.push(parseGroupMod(line, command));
    } catch (err) {
      if (err instanceof NeedsOf15Error || err instanceof PortNamesNeeded || !(err instanceof Error)) throw err;
      throw new Error(`${name}:${i + 1}: ${err.message}`);
    }
  });
  return mods;
}

/**
 * Sends the group mods of `parse` (run with the switch's port names, read first when shown or
 * when the text names a port), each confirmed, within -t/--timeout.
 */
async function sendMods(command: string, target: string, opts: GroupOptions, parse: () => GroupMod[]): Promise<number> {
  return withTimeout(command, opts.timeoutS, async () => {
    const mods = await withPortNames(target, opts.names, async () => parse());
    return transactEach(target, mods, stderr);
  });
}

/** GROUP is a group's text, or `-` for a file of them on standard input. */
async function groupMod(name: string, args: readonly string[], opts: GroupOptions, command: number): Promise<number> {
  const [target, text = ''] = args;
  // Standard input is read once, before any port names are fetched.
  const file = text === '-' ? readText('-') : undefined;
  return sendMods(name, target!, opts, () => (file !== undefined
    ? parseGroupFile('-', file, command === OFPGC_ADD ? 'line' : command) : [parseGroupMod(text, command)]));
}

/**
 * add-group SWITCH GROUP — add the group GROUP (`-`: the groups of standard input).
 * Example: ofctl-ts add-group br-int 'group_id=1,type=select,bucket=weight:2,output:1,bucket=output:2'
 */
export async function addGroupCommand(args: readonly string[], opts: GroupOptions, _out: Out): Promise<number> {
  return groupMod('add-group', args, opts, OFPGC_ADD);
}

/**
 * add-groups SWITCH FILE — add the groups of FILE, one a line (`-`: standard input); a line may
 * start with add, modify, add_or_mod or delete. Each is sent and confirmed in turn, as ovs-ofctl does.
 * Example: ofctl-ts add-groups br-int groups.txt
 */
export async function addGroupsCommand(args: readonly string[], opts: GroupOptions, _out: Out): Promise<number> {
  const text = readText(args[1]!);
  return sendMods('add-groups', args[0]!, opts, () => parseGroupFile(args[1]!, text, 'line'));
}

/**
 * mod-group SWITCH GROUP [--may-create] — replace the type and buckets of group GROUP.
 * Example: ofctl-ts mod-group br-int 'group_id=1,type=all,bucket=output:3'
 */
export async function modGroupCommand(args: readonly string[], opts: GroupOptions, _out: Out): Promise<number> {
  return groupMod('mod-group', args, opts, opts.mayCreate ? OFPGC_ADD_OR_MOD : OFPGC_MODIFY);
}

/**
 * del-groups SWITCH [GROUP] — delete group `group_id=N` (and the flows that use it), or all groups.
 * Example: ofctl-ts del-groups br-int group_id=1
 */
export async function delGroupsCommand(args: readonly string[], opts: GroupOptions, _out: Out): Promise<number> {
  return groupMod('del-groups', args, opts, OFPGC_DELETE);
}

/**
 * dump-groups SWITCH [GROUP] — print the groups (OpenFlow 1.3 asks for all of them: GROUP is
 * only checked, as ovs-ofctl does).
 * Example: ofctl-ts dump-groups br-int
 */
export async function dumpGroupsCommand(args: readonly string[], opts: GroupOptions, out: Out): Promise<number> {
  const [target, id] = args;
  if (id !== undefined && parseGroupId(id) === undefined) {
    stderr(`ofctl-ts: dump-groups: ${id} is not a valid group ID.  (Valid group IDs are 32-bit nonnegative integers or the keywords ANY or ALL.)\n`);
  }
  return withTimeout('dump-groups', opts.timeoutS, async () => {
    // Shown names print in watch_port and the bucket actions, as ovs-ofctl prints them.
    if (showNames(opts.names)) await usePortNamesOf(target!);
    else setPortNames(undefined);
    return dumpTransaction(target!, { type: 'group_desc_request', flags: 0 }, out);
  });
}

/**
 * dump-group-stats SWITCH [GROUP] — print the counters of group `group_id=N`, or of all groups.
 * Example: ofctl-ts dump-group-stats br-int group_id=1
 */
export async function dumpGroupStatsCommand(args: readonly string[], opts: GroupOptions, out: Out): Promise<number> {
  const [target, text] = args;
  const groupId = text === undefined ? OFPG_ALL : parseGroupStatsId(text);
  return withTimeout('dump-group-stats', opts.timeoutS, () => dumpTransaction(target!, { type: 'group_stats_request', flags: 0, groupId }, out));
}

/**
 * dump-group-features SWITCH — print the group types, capabilities and limits of the switch.
 * Example: ofctl-ts dump-group-features br-int
 */
export async function dumpGroupFeaturesCommand(args: readonly string[], opts: GroupOptions, out: Out): Promise<number> {
  return withTimeout('dump-group-features', opts.timeoutS, () => dumpTransaction(args[0]!, { type: 'group_features_request', flags: 0 }, out));
}

/** ovs-ofctl's argument counts (SWITCH included), for the command table. */
export const GROUP_COMMAND_ARITY: Readonly<Record<string, readonly [min: number, max: number]>> = {
  'add-group': [1, 2], 'add-groups': [2, 2], 'mod-group': [1, 2], 'del-groups': [1, 2], 'dump-groups': [1, 2],
  'dump-group-stats': [1, 2], 'dump-group-features': [1, 1],
};
