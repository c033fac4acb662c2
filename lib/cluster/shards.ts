// Hosts spread over a fixed number of shards, and shards shared out among the live replicas. Both
// are pure functions of names, so every replica computes the same answer from the same membership
// without asking anyone: a host's shard never changes (it depends on its name and the shard count
// only), and a shard's owner changes only when the set of live replicas does.

/** FNV-1a, 32 bits, over the UTF-8 bytes: stable across processes, machines and Node versions. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The shard of a host: its name's hash modulo the shard count. */
export function shardOf(host: string, shards: number): number {
  if (!Number.isSafeInteger(shards) || shards < 1) throw new RangeError(`shard count must be a positive integer, not ${shards}`);
  return fnv1a(host) % shards;
}

/**
 * The replicas in the order they should lead a shard (highest random weight): each replica's
 * weight for a shard is the hash of both names, so a replica joining or leaving moves only the
 * shards it takes or held, and the order is the same on every replica.
 */
export function preference(shard: number, replicas: Iterable<string>): string[] {
  return [...new Set(replicas)]
    .map((r) => ({ r, w: fnv1a(`${shard}\u0000${r}`) }))
    .sort((a, b) => b.w - a.w || (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .map((x) => x.r);
}

export interface ShardPlan {
  /** Each shard's intended leader. */
  readonly owner: readonly string[];
  /** Each shard's standby: the replica that campaigns beside the owner, ready to take over. */
  readonly standby: readonly (string | undefined)[];
}

/**
 * Shares the shards out evenly among the live replicas (no replica owns more than one shard more
 * than another): each shard goes to the first replica in its preference with room left, shards
 * taken in order, so most shards stay where they were when a replica joins or leaves.
 */
export function planShards(shards: number, live: Iterable<string>): ShardPlan {
  const replicas = [...new Set(live)].sort();
  const owner = owners(shards, replicas);
  // The standby of a shard is who would own it if its owner left: the one that takes over is
  // already campaigning, and keeps the shard once the plan is made again without the owner.
  const without = new Map(replicas.map((r) => [r, owners(shards, replicas.filter((x) => x !== r))]));
  return { owner, standby: owner.map((o, s) => without.get(o)![s]) };
}

/** Each shard's owner: the first replica of its preference with room left, shards taken in order. */
function owners(shards: number, replicas: readonly string[]): string[] {
  if (replicas.length === 0) return [];
  // Every replica gets `base` shards, and `extra` of them one more.
  const base = Math.floor(shards / replicas.length);
  let extra = shards % replicas.length;
  const load = new Map(replicas.map((r) => [r, 0]));
  const owner: string[] = [];
  for (let s = 0; s < shards; s++) {
    const o = preference(s, replicas).find((r) => load.get(r)! < base || (load.get(r) === base && extra > 0))!;
    if (load.get(o) === base) extra--;
    load.set(o, load.get(o)! + 1);
    owner.push(o);
  }
  return owner;
}
