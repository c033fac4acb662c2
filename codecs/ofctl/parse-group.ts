// A group as ovs-ofctl 3.1 takes it (lib/ofp-group.c parse_ofp_group_mod_str, for OpenFlow 1.3):
// `group_id=N,type=all|select|indirect|ff,bucket=…,bucket=…`, each bucket `weight:W`,
// `watch_port:P`, `watch_group:G`, `bucket_id:N` and its actions (`actions=…` or bare, as
// `bucket=output:1`). Bucket actions are read by the flow action parser, as OVS reads them: each of
// the bucket's other keys becomes `key(value)`, and the whole goes through ofpacts_parse_actions.
import { Action } from '../actions/index.js';
import { parseActions } from './parse-actions.js';
import { splitKeyValues } from './lexer.js';
import { FlowSyntaxError, fail, inColumn } from './syntax.js';
import { parsePortNumber, parseU64 } from './values.js';
import { strToSmallUint, strToU32 } from './c-ints.js';
import {
  Bucket, OFPG_ALL, OFPG_ANY, OFPG_MAX, OFPGC_ADD, OFPGC_DELETE, OFPGC_MODIFY, OFPGT_ALL, OFPGT_FF, OFPGT_INDIRECT,
  OFPGT_SELECT, OFPP_ANY, StatsMessage,
} from '../openflow/stats.js';
import { OFPP_MAX } from '../openflow/ports.js';

export type GroupMod = Extract<StatsMessage, { type: 'group_mod' }>;

/** OVS's add-or-modify group command (mod-group --may-create, `add_or_mod` in a groups file). */
export const OFPGC_ADD_OR_MOD = 0x8000;
const OFPGC15_INSERT_BUCKET = 3;
const OFPGC15_REMOVE_BUCKET = 4;
/** OpenFlow 1.5's largest bucket id (OFPG15_BUCKET_MAX). */
const BUCKET_MAX = 0xffffff00;
/** NTR_MAX_SELECTION_METHOD_LEN, with its NUL. */
const SELECTION_METHOD_MAX = 16;

/**
 * Something the text asks for that OpenFlow 1.3 cannot carry: ovs-ofctl -O OpenFlow13 refuses it
 * with this message and no line number.
 */
export class NeedsOf15Error extends Error {}

/** The command words a line of a groups file may start with (parse_ofp_group_mod_str with command -2), in OVS's order. */
const LINE_COMMANDS: ReadonlyArray<readonly [string, number]> = [
  ['add', OFPGC_ADD], ['delete', OFPGC_DELETE], ['modify', OFPGC_MODIFY], ['add_or_mod', OFPGC_ADD_OR_MOD],
  ['insert_bucket', OFPGC15_INSERT_BUCKET], ['remove_bucket', OFPGC15_REMOVE_BUCKET],
];

const GROUP_TYPES: Readonly<Record<string, number>> = {
  all: OFPGT_ALL, select: OFPGT_SELECT, indirect: OFPGT_INDIRECT, ff: OFPGT_FF, fast_failover: OFPGT_FF,
};

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

/**
 * A group mod from its text. `command` is the command of the tool (add-group: OFPGC_ADD, …), or
 * 'line' for a line of a groups file, which may start with its own command word (default add).
 * Throws FlowSyntaxError (with the column) or Error for what ovs-ofctl refuses, with its message.
 */
export function parseGroupMod(text: string, command: number | 'line'): GroupMod {
  let base = 0;
  if (command === 'line') {
    while (isSpace(text[base])) base++;
    let end = base;
    while (end < text.length && text[end] !== ',' && !isSpace(text[end])) end++;
    const word = text.slice(base, end);
    // strncmp(string, name, len): the first word is a prefix of the command's name.
    const named = LINE_COMMANDS.find(([name]) => name.startsWith(word));
    command = named ? named[1] : OFPGC_ADD;
    if (named) base = end;
  }
  if (command === OFPGC15_INSERT_BUCKET) throw new NeedsOf15Error("insert-bucket needs OpenFlow 1.5 or later ('-O OpenFlow15')");
  if (command === OFPGC15_REMOVE_BUCKET) {
    throw new NeedsOf15Error('none of the usable flow formats (OpenFlow10,NXM,OXM-OpenFlow15) is among the allowed flow formats (OXM-OpenFlow13)');
  }
  const s = text.slice(base);
  const withBody = command !== OFPGC_DELETE;
  if (command === OFPGC_DELETE && s === '') return { type: 'group_mod', command, groupType: 0, groupId: OFPG_ALL, buckets: [] };

  // The buckets start at the first `bucket=` anywhere (even inside another word, as in OVS).
  const firstBucket = s.indexOf('bucket=');
  if (firstBucket >= 0 && !withBody) fail('bucket is not needed', base + firstBucket);
  let groupId = OFPG_ANY;
  let groupType: number | undefined;
  let selectionMethod = '';
  let selectionParam = 0n;
  let fieldsAt = -1;
  for (const kv of splitKeyValues(firstBucket >= 0 ? s.slice(0, firstBucket) : s, base)) {
    const needsBody = (what: string): void => {
      if (!withBody) fail(`${what} not needed`, kv.keyAt);
    };
    switch (kv.key) {
      case 'command_bucket_id':
        fail('command bucket id is not needed', kv.keyAt);
        break;
      case 'group_id':
        if (kv.value === 'all') {
          groupId = OFPG_ALL;
        } else {
          groupId = inColumn(kv.valueAt, () => strToU32(kv.value));
          if (groupId !== OFPG_ALL && groupId > OFPG_MAX) fail(`invalid group id ${groupId}`, kv.valueAt);
        }
        break;
      case 'type':
        needsBody('type is');
        groupType = GROUP_TYPES[kv.value];
        if (groupType === undefined || !Object.hasOwn(GROUP_TYPES, kv.value)) fail(`invalid group type ${kv.value}`, kv.valueAt);
        break;
      case 'selection_method':
        // OpenFlow 1.5's; -O OpenFlow13 checks it and then sends the group without it.
        needsBody('selection method is');
        if (kv.value.length >= SELECTION_METHOD_MAX) fail(`selection method is longer than ${SELECTION_METHOD_MAX - 1} bytes long`, kv.valueAt);
        selectionMethod = kv.value;
        break;
      case 'selection_method_param':
        needsBody('selection method param is');
        selectionParam = inColumn(kv.valueAt, () => parseU64(kv.value));
        break;
      case 'fields':
        // OpenFlow 1.5's hash fields: dropped in OpenFlow 1.3 (their syntax is not checked here).
        needsBody('fields are');
        fieldsAt = kv.keyAt;
        break;
      default:
        fail(`unknown keyword ${kv.key}`, kv.keyAt);
    }
  }
  if (groupId === OFPG_ANY) fail('must specify a group_id', base);
  if (withBody && groupType === undefined) fail('must specify a type', base);
  if (fieldsAt >= 0 && selectionMethod !== 'hash') fail('fields may only be specified with "selection_method=hash"', fieldsAt);
  if (!selectionMethod && selectionParam !== 0n) fail('selection_method_param is only allowed with "selection_method"', base);

  const type = groupType ?? 0;
  const buckets: Bucket[] = [];
  for (let at = firstBucket; at >= 0;) {
    const start = at + 'bucket='.length;
    const next = s.indexOf('bucket=', start);
    const bucket = parseBucket(s.slice(start, next < 0 ? undefined : next), base + start, type);
    if (type !== OFPGT_SELECT && bucket.weight) fail('Only select groups can have bucket weights.', base + start);
    buckets.push(bucket);
    at = next;
  }
  if (type === OFPGT_INDIRECT && buckets.length > 1) fail('Indirect groups can have at most one bucket.', base + firstBucket);
  return { type: 'group_mod', command, groupType: type, groupId, buckets };
}

/** parse_bucket_str: one bucket's text, which starts at `at` in the group's text. */
function parseBucket(text: string, at: number, groupType: number): Bucket {
  let weight = groupType === OFPGT_SELECT ? 1 : 0;
  let watchPort = OFPP_ANY;
  let watchGroup = OFPG_ANY;
  // The actions text OVS assembles, and where each piece of it came from (for error columns).
  let actions = '';
  const origins: Array<readonly [from: number, to: number]> = [];
  const put = (piece: string, origin: number): void => {
    origins.push([actions.length, origin]);
    actions += piece;
  };
  for (const kv of splitKeyValues(text, at)) {
    switch (kv.key.toLowerCase()) {
      case 'weight':
        weight = inColumn(kv.valueAt, () => strToSmallUint(kv.value, 'weight', 0xffff));
        break;
      case 'watch_port': {
        const p = parsePortNumber(kv.value);
        watchPort = p === undefined || (p >= OFPP_MAX && p !== OFPP_ANY) ? fail(`${kv.value}: invalid watch_port`, kv.valueAt) : p;
        break;
      }
      case 'watch_group':
        watchGroup = inColumn(kv.valueAt, () => strToU32(kv.value));
        if (watchGroup > OFPG_MAX) fail(`invalid watch_group id ${watchGroup}`, kv.valueAt);
        break;
      case 'bucket_id': {
        // OpenFlow 1.5's; -O OpenFlow13 checks it and then sends the bucket without it.
        const id = inColumn(kv.valueAt, () => strToU32(kv.value));
        if (id > BUCKET_MAX) fail(`invalid bucket_id id ${id}`, kv.valueAt);
        break;
      }
      case 'action': case 'actions':
        put(kv.value, kv.valueAt);
        put(',', kv.valueAt + kv.value.length);
        break;
      default:
        put(kv.key, kv.keyAt);
        put('(', kv.keyAt + kv.key.length);
        put(kv.value, kv.valueAt);
        put('),', kv.valueAt + kv.value.length);
    }
  }
  if (!actions) fail('bucket must specify actions', at);
  if (groupType === OFPGT_FF && watchPort === OFPP_ANY && watchGroup === OFPG_ANY) {
    fail('fast failover bucket requires watch_port or watch_group', at);
  }
  actions = actions.slice(0, -1);
  const column = (o: number): number => {
    let i = origins.length - 1;
    while (i > 0 && origins[i]![0] > o) i--;
    return origins[i]![1] + o - origins[i]![0];
  };
  // An OpenFlow 1.5 meter action (a meter is an instruction in 1.3, and a bucket has none).
  const meter = splitKeyValues(actions).find((kv) => kv.key.toLowerCase() === 'meter');
  if (meter) {
    throw new NeedsOf15Error('none of the usable flow formats (OXM-OpenFlow15) is among the allowed flow formats (OXM-OpenFlow13)');
  }
  let parsed: readonly Action[];
  try {
    // A bucket holds actions, not instructions: read as the inside of write_actions, unchecked (no flow around it).
    parsed = parseActions(actions, 0, new Map(), true, false, undefined, true).apply;
  } catch (err) {
    if (err instanceof FlowSyntaxError) throw new FlowSyntaxError(err.reason, column(err.offset));
    throw err;
  }
  return { weight, watchPort, watchGroup, actions: parsed };
}

/** What dump-group-stats reads of its GROUP argument (a group mod text, as ovs-ofctl reads it): the group id. */
export function parseGroupStatsId(text: string): number {
  return parseGroupMod(text, OFPGC_DELETE).groupId;
}
