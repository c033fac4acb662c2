// The watch-lag check (lib/topology/etcd-lag.ts) against a real etcd and a real watch whose
// consumer the test pauses: writes outside the prefix are no lag; puts and a lone delete under it
// are, in revisions and growing in time, until the consumer applies them; then 0.
import { expect } from 'chai';
import { Etcd3, IWatchResponse, Watcher } from 'etcd3';
import { EtcdCluster } from '../../testing/etcd.js';
import { eventually } from '../../testing/wait.js';
import { etcdClient, parseEtcdTarget } from '../../lib/topology/etcd.js';
import { WatchLag } from '../../lib/topology/etcd-lag.js';

const P = '/lag/watched/';

/** A watch of P whose responses are applied (keys and revision) unless paused: then they wait. */
class Consumer {
  readonly keys = new Set<string>();
  revision = 0;
  paused = false;
  private readonly waiting: IWatchResponse[] = [];
  private watcher: Watcher | undefined;

  async start(client: Etcd3): Promise<void> {
    const res = await client.getAll().prefix(P).exec();
    for (const kv of res.kvs) this.keys.add(kv.key.toString());
    this.revision = Number(res.header.revision);
    this.watcher = await client.watch().prefix(P).startRevision(String(this.revision + 1)).create();
    this.watcher.on('data', (r: IWatchResponse) => (this.paused ? this.waiting.push(r) : this.apply(r)));
  }

  resume(): void {
    this.paused = false;
    for (const r of this.waiting.splice(0)) this.apply(r);
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel();
  }

  private apply(r: IWatchResponse): void {
    for (const ev of r.events) {
      if (ev.type === 'Delete') this.keys.delete(ev.kv.key.toString());
      else this.keys.add(ev.kv.key.toString());
      this.revision = Math.max(this.revision, Number(ev.kv.mod_revision));
    }
  }
}

describe('etcd watch lag', function () {
  this.timeout(60_000);
  let etcd: EtcdCluster;
  let client: Etcd3;

  before(async () => {
    etcd = await EtcdCluster.start();
    client = etcdClient(parseEtcdTarget(etcd.endpoints[0]!, 'test'));
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
  });

  it('is 0 while keys outside the prefix change; grows in revisions and time while the consumer is paused; 0 once it applied', async () => {
    await client.put(`${P}a`).value('1');
    const c = new Consumer();
    await c.start(client);
    const lag = new WatchLag(client, P, () => ({ revision: c.revision, keys: c.keys.size }), 200);
    try {
      // etcd's revision moves, the prefix does not: in step (etcd's revision minus ours would say 5).
      let outside = 0;
      for (let i = 0; i < 5; i++) outside = Number((await client.put(`/lag/other/${i}`).value('x').exec()).header.revision);
      await eventually(() => lag.status().etcdRevision >= outside, 'a check after the outside writes');
      expect(lag.status()).to.deep.include({ revisions: 0, seconds: 0 });
      expect(c.revision).to.be.below(outside);

      // Paused: three puts under the prefix wait in the consumer.
      c.paused = true;
      let last = 0;
      for (const k of ['b', 'c', 'a']) last = Number((await client.put(`${P}${k}`).value('2').exec()).header.revision);
      await eventually(() => lag.status().etcdRevision >= last, 'a check after the puts');
      expect(lag.status().revisions).to.equal(last - c.revision);
      await eventually(() => lag.status().seconds >= 1, 'the lag to last a second', 5000);
      const s1 = lag.status().seconds;
      await new Promise((r) => setTimeout(r, 300));
      expect(lag.status().seconds).to.be.above(s1);

      c.resume();
      expect(c.revision).to.equal(last);
      expect(lag.status()).to.deep.include({ revisions: 0, seconds: 0 });

      // A lone delete shows only in the key count: still a lag until applied.
      c.paused = true;
      await client.delete().key(`${P}b`).exec();
      await eventually(() => lag.status().revisions > 0, 'a lag for the delete');
      c.resume();
      // Its revision is known only at the next check's: in step again by then.
      await eventually(() => lag.status().revisions === 0 && lag.status().seconds === 0, 'in step after the delete is applied', 2000);
    } finally {
      lag.stop();
      await c.stop();
    }
  });

  it('in step with etcd (nothing written since the applied revision), a check reads the count alone, not the keys', async () => {
    const own = etcdClient(parseEtcdTarget(etcd.endpoints[0]!, 'test'));
    const sorted: number[] = [];
    const range = own.kv.range.bind(own.kv);
    own.kv.range = (req, opts) => {
      if (req.sort_target) sorted.push(Date.now());
      return range(req, opts);
    };
    const c = new Consumer();
    await c.start(own);
    // The consumer's revision is etcd's: in step.
    c.revision = Number((await own.get(`${P}a`).exec()).header.revision);
    const lag = new WatchLag(own, P, () => ({ revision: c.revision, keys: c.keys.size }), 100);
    try {
      const checked = lag.status().checkedAt;
      await eventually(() => lag.status().checkedAt !== checked && lag.status().etcdRevision === c.revision, 'a check');
      await new Promise((r) => setTimeout(r, 500));
      expect(lag.status()).to.deep.include({ etcdRevision: c.revision, revisions: 0, seconds: 0 });
      expect(sorted).to.deep.equal([]);
      // A write moves etcd on: the next check reads the keys (sorted) to tell where it was.
      c.paused = true;
      await own.put(`${P}z`).value('3');
      await eventually(() => lag.status().revisions > 0, 'the lag of the put');
      expect(sorted.length).to.be.above(0);
      c.resume();
      await eventually(() => lag.status().revisions === 0, 'in step again', 2000);
    } finally {
      lag.stop();
      await c.stop();
      own.close();
    }
  });
});
