// Table features and table stats as `ovs-ofctl ofp-print` prints them (OVS 3.1 lib/ofp-table.c,
// ofputil_table_features_format): each table against the one before ("ditto", "(same …)"), runs of
// unnamed tables like their predecessor as "tables N...M: ditto", field lists in mf_field order with
// OVS's abbreviations (`tun_{id,src}`, `reg0...reg7`).
import { mfFields } from '../openflow/mf-fields.js';
import {
  ActionFeatures, FeatureSets, featureSets, InstructionFeatures, OF13_ACTION_TYPES, TableFeatures,
} from '../openflow/table-features.js';

/** ofpact_bitmap_format's names of the OpenFlow 1.3 action types, in OF13_ACTION_TYPES order. */
const ACTION_NAMES = ['output', 'group', 'set_field', 'strip_vlan', 'push_vlan', 'mod_nw_ttl', 'dec_ttl', 'set_mpls_ttl',
  'dec_mpls_ttl', 'push_mpls', 'pop_mpls', 'set_queue'];
const INSTRUCTION_NAMES = ['meter', 'apply_actions', 'clear_actions', 'write_actions', 'write_metadata', 'goto_table'];

/** ofpact_bitmap_format for OpenFlow 1.3 action type bits: names in ofpact order, `<none>` for none. */
export function actionBitmap(bits: number): string {
  return OF13_ACTION_TYPES.flatMap((t, i) => (bits & (1 << t) ? [ACTION_NAMES[i]!] : [])).join(' ') || '<none>';
}

const allDigits = (s: string): boolean => /^[0-9]+$/.test(s);

/** are_names_sequential: b is a with its number one larger ("reg0", "reg1"). */
function sequential(a: string, b: string): boolean {
  let i = 0;
  while (a[i] === b[i]) {
    if (i >= a.length) return false;
    i++;
  }
  const x = a.slice(i);
  const y = b.slice(i);
  return allDigits(x) && allDigits(y) && x.length < 10 && y.length < 10 && Number(x) + 1 === Number(y);
}

/** count_common_prefix: the longest common prefix of a and b that ends in "_". */
function commonPrefix(a: string, b: string): number {
  let n = 0;
  for (let i = 0; ; i++) {
    if (a[i] !== b[i] || i >= a.length) return n;
    if (a[i] === '_') n = i + 1;
  }
}

/** print_names: names after `skip` characters, common prefixes as `p_{a,b}`, sequential ones as `x0...x3`. */
function printNames(ids: readonly string[], skip: number): string {
  let s = '';
  let rest = ids;
  for (let group = 0; rest.length > 0; group++) {
    if (group) s += skip ? ',' : ' ';
    let prefixRun = rest.length < 2 ? rest.length : 1;
    const extra = rest.length < 2 ? 0 : commonPrefix(rest[0]!.slice(skip), rest[1]!.slice(skip));
    if (extra) {
      prefixRun = 2;
      while (prefixRun < rest.length && commonPrefix(rest[0]!.slice(skip), rest[prefixRun]!.slice(skip))) prefixRun++;
    }
    let suffixRun = 1;
    while (suffixRun < rest.length && sequential(rest[suffixRun - 1]!, rest[suffixRun]!)) suffixRun++;
    // "x0...x1" is worse than "x0 x1".
    if (suffixRun === 2) suffixRun = 1;
    const run = Math.max(prefixRun, suffixRun);
    if (suffixRun >= prefixRun) {
      s += rest[0]!.slice(skip);
      if (run > 1) s += `...${rest[run - 1]!.slice(skip)}`;
    } else {
      s += `${rest[0]!.slice(skip, skip + extra)}{${printNames(rest.slice(0, run), skip + extra)}}`;
    }
    rest = rest.slice(run);
  }
  return s;
}

/** print_mf_bitmap: " names" in mf_field order, or nothing. */
function fieldList(ids: ReadonlySet<number>): string {
  return ids.size ? ` ${printNames([...ids].sort((a, b) => a - b).map((id) => mfFields()[id]!.name), 0)}` : '';
}

const sameSet = (a: ReadonlySet<number>, b: ReadonlySet<number>): boolean => a.size === b.size && [...a].every((x) => b.has(x));
const actionsEqual = (a: ActionFeatures, b: ActionFeatures): boolean => a.actions === b.actions && sameSet(a.setFields, b.setFields);
const actionsEmpty = (a: ActionFeatures): boolean => !a.actions && !a.setFields.size;

function actionFeatures(a: ActionFeatures): string {
  let s = '';
  if (a.actions) s += `        actions: ${actionBitmap(a.actions)}\n`;
  if (a.setFields.size) s += `        supported on Set-Field:${fieldList(a.setFields)}\n`;
  return s;
}

function instructionFeatures(f: InstructionFeatures, prev: InstructionFeatures | undefined): string {
  let s = '';
  if (f.next.some(Boolean)) {
    const ranges: string[] = [];
    for (let start = f.next.indexOf(true); start >= 0 && start < 255;) {
      let end = start + 1;
      while (end < 255 && f.next[end]) end++;
      ranges.push(end === start + 1 ? `${start}` : `${start}-${end - 1}`);
      start = f.next.indexOf(true, end);
    }
    s += `      next tables: ${ranges.join(',')}\n`;
  }
  if (f.instructions) {
    s += prev && f.instructions === prev.instructions ? '      (same instructions)\n'
      : `      instructions: ${INSTRUCTION_NAMES.filter((_, i) => f.instructions & (1 << i)).join(' ')}\n`;
  }
  if (prev && actionsEqual(f.write, prev.write) && actionsEqual(f.apply, prev.apply) && f.write.setFields.size) {
    s += '      (same actions)\n';
  } else if (!actionsEqual(f.write, f.apply)) {
    s += `      Write-Actions features:\n${actionFeatures(f.write)}      Apply-Actions features:\n${actionFeatures(f.apply)}`;
  } else if (!actionsEmpty(f.write)) {
    s += `      Write-Actions and Apply-Actions features:\n${actionFeatures(f.write)}`;
  }
  return s;
}

/**
 * table_instruction_features_next_equal: the next tables of consecutive tables a and b are equal
 * also when only a lists b (a table cannot go to itself or back).
 */
function nextEqual(a: readonly boolean[], aId: number, b: readonly boolean[], bId: number): boolean {
  if (bId === aId + 1 && a[bId] && !b[bId]) return a.every((x, i) => i === bId || x === b[i]);
  if (aId === bId + 1) return nextEqual(b, bId, a, aId);
  return a.every((x, i) => x === b[i]);
}

const instructionsEqual = (a: InstructionFeatures, aId: number, b: InstructionFeatures, bId: number): boolean =>
  nextEqual(a.next, aId, b.next, bId) && a.instructions === b.instructions && actionsEqual(a.write, b.write) && actionsEqual(a.apply, b.apply);
const instructionsEmpty = (f: InstructionFeatures): boolean =>
  !f.next.some(Boolean) && !f.instructions && actionsEmpty(f.write) && actionsEmpty(f.apply);

const NO_INSTRUCTIONS: InstructionFeatures = {
  instructions: 0, next: new Array<boolean>(255).fill(false),
  write: { actions: 0, setFields: new Set() }, apply: { actions: 0, setFields: new Set() },
};
const NO_SETS: FeatureSets = { nonmiss: NO_INSTRUCTIONS, miss: NO_INSTRUCTIONS, match: new Set(), mask: new Set(), wildcard: new Set() };

/** One table as ofputil_table_features_format sees it: features (all empty for table stats) and maybe stats. */
export interface TableView {
  readonly table: number;
  readonly name: string;
  readonly metadataMatch: bigint;
  readonly metadataWrite: bigint;
  readonly maxEntries: number;
  readonly sets: FeatureSets;
  readonly stats?: { readonly activeCount: number; readonly lookupCount: bigint; readonly matchedCount: bigint };
}

const featuresEqual = (a: TableView, b: TableView): boolean =>
  a.metadataMatch === b.metadataMatch && a.metadataWrite === b.metadataWrite && a.maxEntries === b.maxEntries
  && instructionsEqual(a.sets.nonmiss, a.table, b.sets.nonmiss, b.table) && instructionsEqual(a.sets.miss, a.table, b.sets.miss, b.table)
  && sameSet(a.sets.match, b.sets.match);
const featuresEmpty = (t: TableView): boolean => !t.metadataMatch && !t.metadataWrite && !t.maxEntries
  && instructionsEmpty(t.sets.nonmiss) && instructionsEmpty(t.sets.miss) && !t.sets.match.size;

/** The name as OVS prints it: up to its first NUL, its bytes as they are (UTF-8 here). */
const tableName = (name: string): string => Buffer.from(name.split('\0')[0]!, 'latin1').toString('utf8');

/** print_matches: the matchable fields with or without an arbitrary mask / wildcard. */
function matches(sets: FeatureSets, mask: boolean, wc: boolean, title: string): string {
  const ids = new Set([...sets.match].filter((id) => sets.mask.has(id) === mask && sets.wildcard.has(id) === wc));
  return ids.size ? `      ${title}:${fieldList(ids)}\n` : '';
}

function hex64(v: bigint): string {
  return v ? `0x${v.toString(16)}` : '0';
}

/** ofputil_table_features_format over a whole message, with format_finish at its end. */
export function formatTables(tables: readonly TableView[]): string {
  let s = '';
  let firstDitto = -1;
  let lastDitto = -1;
  const finish = (): void => {
    if (firstDitto < 0) return;
    s += firstDitto === lastDitto ? `\n  table ${firstDitto}: ditto\n` : `\n  tables ${firstDitto}...${lastDitto}: ditto\n`;
  };
  tables.forEach((t, i) => {
    const prev = i ? tables[i - 1] : undefined;
    const name = tableName(t.name);
    const sameStats = !t.stats || (prev?.stats !== undefined && t.stats.activeCount === prev.stats.activeCount
      && t.stats.lookupCount === prev.stats.lookupCount && t.stats.matchedCount === prev.stats.matchedCount);
    const sameFeatures = prev !== undefined && featuresEqual(t, prev);
    if (sameStats && sameFeatures && !name) {
      if (firstDitto < 0) firstDitto = t.table;
      lastDitto = t.table;
      return;
    }
    finish();
    firstDitto = -1;
    s += `\n  table ${t.table}${name ? ` ("${name}")` : ''}:`;
    if (sameStats && sameFeatures) {
      s += ' ditto';
      return;
    }
    s += '\n';
    if (t.stats) s += `    active=${t.stats.activeCount}, lookup=${t.stats.lookupCount}, matched=${t.stats.matchedCount}\n`;
    if (sameFeatures) {
      if (!featuresEmpty(t)) s += '    (same features)\n';
      return;
    }
    if (t.metadataMatch || t.metadataWrite) s += `    metadata: match=${hex64(t.metadataMatch)} write=${hex64(t.metadataWrite)}\n`;
    if (t.maxEntries) s += `    max_entries=${t.maxEntries}\n`;
    const { nonmiss, miss } = t.sets;
    if (prev && instructionsEqual(nonmiss, t.table, prev.sets.nonmiss, prev.table) && instructionsEqual(miss, t.table, prev.sets.miss, prev.table)) {
      if (!instructionsEmpty(nonmiss)) s += '    (same instructions)\n';
    } else if (!instructionsEqual(nonmiss, t.table, miss, t.table)) {
      s += `    instructions (other than table miss):\n${instructionFeatures(nonmiss, prev?.sets.nonmiss)}`
        + `    instructions (table miss):\n${instructionFeatures(miss, prev?.sets.miss)}`;
    } else if (!instructionsEmpty(nonmiss)) {
      s += `    instructions (table miss and others):\n${instructionFeatures(nonmiss, prev?.sets.nonmiss)}`;
    }
    if (t.sets.match.size) {
      if (prev && sameSet(t.sets.match, prev.sets.match)) {
        s += '    (same matching)\n';
      } else {
        s += `    matching:\n${matches(t.sets, true, true, 'arbitrary mask')}${matches(t.sets, false, true, 'exact match or wildcard')}`
          + `${matches(t.sets, false, false, 'must exact match')}`;
      }
    }
  });
  finish();
  return s;
}

/** A table features entry as formatTables reads it. */
export function featuresView(t: TableFeatures): TableView {
  return { table: t.table, name: t.name, metadataMatch: t.metadataMatch, metadataWrite: t.metadataWrite, maxEntries: t.maxEntries, sets: featureSets(t) };
}

/** An OpenFlow 1.3 table stats entry: no features, only counters. */
export function statsView(t: NonNullable<TableView['stats']> & { readonly table: number }): TableView {
  return { table: t.table, name: '', metadataMatch: 0n, metadataWrite: 0n, maxEntries: 0, sets: NO_SETS, stats: t };
}
