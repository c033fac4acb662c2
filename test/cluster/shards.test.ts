// Shards and their owners (issue 18 point 3): a host's shard is fixed by its name; shards are shared
// out evenly among the live replicas, the same on every replica, and a replica joining or leaving
// moves few shards besides its own.
import { expect } from 'chai';
import { fnv1a, planShards, preference, shardOf } from '../../lib/cluster/shards.js';

const replicas = (n: number): string[] => Array.from({ length: n }, (_, i) => `replica-${i + 1}`);

describe('lib/cluster/shards', () => {
  it('hashes with FNV-1a 32 as its published test vectors say', () => {
    // From the FNV reference test suite (Noll, "FNV hash" test vectors, fnv1a32).
    expect(fnv1a('')).to.equal(0x811c9dc5);
    expect(fnv1a('a')).to.equal(0xe40c292c);
    expect(fnv1a('foobar')).to.equal(0xbf9cf968);
  });

  it('puts a host in the same shard every time, spread over all shards', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 1600; i++) counts[shardOf(`hv${i}`, 16)]!++;
    for (const c of counts) expect(c).to.be.within(60, 140);
    expect(shardOf('compute-17.example.org', 16)).to.equal(shardOf('compute-17.example.org', 16));
    expect(() => shardOf('hv1', 0)).to.throw(RangeError);
  });

  it('shares the shards out evenly whatever the counts, the same from any order of names', () => {
    for (const shards of [1, 2, 3, 7, 16, 64]) {
      for (let n = 1; n <= 6; n++) {
        const live = replicas(n);
        const plan = planShards(shards, live);
        const load = live.map((r) => plan.owner.filter((o) => o === r).length);
        expect(Math.max(...load) - Math.min(...load), `${shards} shards, ${n} replicas: ${load}`).to.be.at.most(1);
        expect(planShards(shards, [...live].reverse())).to.deep.equal(plan);
        plan.standby.forEach((s, i) => (n > 1 ? expect(s).to.be.a('string').and.not.equal(plan.owner[i]) : expect(s).to.equal(undefined)));
      }
    }
    expect(planShards(4, [])).to.deep.equal({ owner: [], standby: [] });
  });

  it('moves few shards but the leaving replica\'s when one leaves, and the standby is who takes over', () => {
    const shards = 64;
    for (let n = 2; n <= 6; n++) {
      const live = replicas(n);
      const before = planShards(shards, live);
      for (const gone of live) {
        const after = planShards(shards, live.filter((r) => r !== gone));
        let moved = 0;
        before.owner.forEach((o, s) => {
          if (o !== gone && after.owner[s] !== o) moved++;
          if (o === gone) expect(after.owner[s], `shard ${s}: its standby takes it`).to.equal(before.standby[s]);
        });
        // Rebalancing may move a few shards of the others (evenness wins), never many.
        expect(moved, `${n} replicas, ${gone} leaves`).to.be.at.most(Math.ceil(shards / n));
      }
    }
    const pref = preference(3, replicas(4));
    expect(pref).to.have.length(4);
    expect(new Set(pref).size).to.equal(4);
  });
});
