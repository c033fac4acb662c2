// Flows compared up to a consistent renaming of conjunction ids. Neutron numbers its conjunctions in
// Python's set order (fixtures/neutron-examples/README.md), so two correct pipelines may differ in
// the ids alone: `conjunction(ID,k/n)` actions, `conj_id=ID` matches and the `set_field:ID->reg7` that
// carries the id in accept flows. This finds a bijection of ids under which the two sets of lines
// are equal, or says why there is none.

const ID = /conjunction\((\d+),|conj_id=(\d+)|set_field:(0x[0-9a-f]+|\d+)->reg7/g;

/** The ids a line names. */
export function idsOf(line: string): number[] {
  return [...line.matchAll(ID)].map((m) => Number(m[1] ?? m[2] ?? m[3]));
}

/** The line with its ids renamed, in place (the order of its conjunction actions kept). */
export function renameIds(line: string, rename: (id: number) => number): string {
  return line.replace(ID, (_all, a: string | undefined, b: string | undefined, c: string | undefined) => {
    if (a !== undefined) return `conjunction(${rename(Number(a))},`;
    if (b !== undefined) return `conj_id=${rename(Number(b))}`;
    return `set_field:0x${rename(Number(c)).toString(16)}->reg7`;
  });
}

/** The line with its ids renamed; runs of conjunction actions sorted (OVS holds them as a set). */
export function renameConjIds(line: string, rename: (id: number) => number): string {
  return renameIds(line, rename).replace(/conjunction\(\d+,\d+\/\d+\)(,conjunction\(\d+,\d+\/\d+\))*/g, (run) =>
    run.split(/,(?=conjunction)/).sort((x, y) => idOfAction(x) - idOfAction(y) || (x < y ? -1 : 1)).join(','));
}

const idOfAction = (a: string): number => Number(/\((\d+),/.exec(a)![1]);

const SELF = 0xffffffff;
const OTHER = 0xfffffffe;

/** Each id's neighbourhood with ids hidden: the lines it is in, itself as `#`, any other as `*`. */
function signatures(lines: readonly string[]): Map<number, string> {
  const byId = new Map<number, string[]>();
  for (const l of lines) {
    for (const id of new Set(idsOf(l))) {
      const masked = renameConjIds(l, (x) => (x === id ? SELF : OTHER))
        .replace(/4294967295|0xffffffff/g, '#').replace(/4294967294|0xfffffffe/g, '*');
      let list = byId.get(id);
      if (!list) byId.set(id, (list = []));
      list.push(masked);
    }
  }
  return new Map([...byId].map(([id, l]) => [id, l.sort().join('\n')]));
}

/**
 * A renaming of `got`'s ids into `want`'s under which the two are equal as sets of lines, or
 * undefined. Ids are paired by signature first; among ids of equal signature every pairing is tried.
 */
export function conjIdBijection(got: readonly string[], want: readonly string[]): Map<number, number> | undefined {
  const sg = signatures(got);
  const sw = signatures(want);
  if (sg.size !== sw.size) return undefined;
  const groups = new Map<string, { got: number[]; want: number[] }>();
  for (const [id, s] of sg) {
    let g = groups.get(s);
    if (!g) groups.set(s, (g = { got: [], want: [] }));
    g.got.push(id);
  }
  for (const [id, s] of sw) {
    const g = groups.get(s);
    if (!g) return undefined;
    g.want.push(id);
  }
  const list = [...groups.values()];
  if (list.some((g) => g.got.length !== g.want.length)) return undefined;
  const wanted = new Set(want.map((l) => renameConjIds(l, (x) => x)));
  const map = new Map<number, number>();
  let tries = 0;
  const search = (i: number): boolean => {
    if (i === list.length) {
      if (++tries > 100_000) throw new Error('conjIdBijection: too many candidate renamings');
      const renamed = got.map((l) => renameConjIds(l, (x) => map.get(x)!));
      return renamed.length === want.length && new Set(renamed).size === wanted.size && renamed.every((l) => wanted.has(l));
    }
    const g = list[i]!;
    return permutations(g.want).some((perm) => {
      g.got.forEach((id, k) => map.set(id, perm[k]!));
      return search(i + 1);
    });
  };
  return search(0) ? new Map(map) : undefined;
}

function permutations(xs: readonly number[]): number[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}
