// A port plugged while its shard is handed from one replica to another (issue 18): the first
// replica up leads every shard and hands shards over as the others join; one leaving (SIGTERM)
// hands its shards back. Simulated hypervisors (testing/sim, as bench/scale-out) under
// `ofctl-ts controller --etcd …` processes on a real etcd; VM ports are plugged on random hosts
// all along, and each must be tagged (the dead VLAN: it is not in the topology yet) within a few
// seconds, whoever leads its shard at that moment.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { optionalInt } from '../../codecs/ovsdb/protocol.js';
import { Fleet, sleep } from '../../bench/sim-fleet.js';
import { shardOf } from '../../lib/cluster/shards.js';
import { etcdClient, parseEtcdTarget } from '../../lib/topology/etcd.js';
import { writeLines } from '../../lib/topology/etcd-write.js';
import { mac } from '../../testing/big-topology.js';
import { ControllerProcess } from '../../testing/controller-process.js';
import { EtcdCluster } from '../../testing/etcd.js';
import { DEAD_VLAN } from '../../lib/controller/host-setup.js';
import type { SimHypervisor } from '../../testing/sim/hypervisor.js';
import { eventually, freePort } from '../../testing/wait.js';

const HOSTS = 24;
const SHARDS = 16;
/** How long a plugged port may wait for its tag, whatever the shards do meanwhile. */
const TAG_WITHIN_MS = 5000;

interface Status { readonly cluster?: { readonly leads: readonly { readonly shard: number }[] } }

describe('ofctl-ts controller --etcd: ports plugged while shards are handed over', function () {
  this.timeout(240_000);
  let etcd: EtcdCluster;
  let fleet: Fleet;
  let dir: string;
  const procs: ControllerProcess[] = [];
  const metrics: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-handover-'));
    [etcd, fleet] = await Promise.all([EtcdCluster.start(), Fleet.start(HOSTS, dir)]);
  });
  after(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await fleet?.stop();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every port plugged while replicas join and leave is tagged within a few seconds', async () => {
    const E = `${etcd.endpoints[0]!}/ho`;
    const kv = etcdClient(parseEtcdTarget(`${E}/topology`, 'test'));
    try {
      // etcd's default --max-txn-ops is 128, and a guarded write adds its guard key.
      for (let i = 0; i < fleet.lines.length; i += 127) await writeLines(kv, parseEtcdTarget(`${E}/topology`, 'test').prefix, fleet.lines.slice(i, i + 127), 'test');
    } finally {
      kv.close();
    }
    const start = async (id: string): Promise<ControllerProcess> => {
      const [of, m] = [await freePort(), await freePort()];
      const p = ControllerProcess.start(['--listen', `tcp:127.0.0.1:${of}`, '--etcd', E, '--replica-id', id, '--shards', String(SHARDS),
        '--metrics-port', String(m), '--datapath-type', 'netdev', '--l2pop', '--arp-responder']);
      procs.push(p);
      metrics.push(m);
      return p;
    };
    const leads = async (i: number): Promise<number> => {
      const s = await fetch(`http://127.0.0.1:${metrics[i]!}/status`, { signal: AbortSignal.timeout(2000) }).then((r) => r.json() as Promise<Status>, () => undefined);
      return s?.cluster?.leads.length ?? -1;
    };
    // A port plugged on a host the moment a replica is made master of its br-int (the simulated
    // switch tells synchronously, right after its ROLE_REPLY): its OVSDB update reaches that
    // replica while it takes the host over. And one on a random host every 50 ms besides.
    let next = 0;
    let armed = false;
    const late: string[] = [];
    const checks: Promise<void>[] = [];
    const t0 = Date.now();
    const plug = (h: SimHypervisor, why: string): void => {
      const id = `hp${next}`;
      h.plug([{ name: `tap-${id}`, ifaceId: id, mac: mac(0xf00000 + next++) }]);
      const at = Date.now() - t0;
      const tagged = (): boolean => h.db.rows('Port').some((p) => p.get('name') === `tap-${id}` && optionalInt(p.get('tag')) === DEAD_VLAN);
      checks.push(eventually(tagged, id, TAG_WITHIN_MS, undefined, 5).catch(async () => {
        const t = await eventually(tagged, id, 30_000, undefined, 5).then(() => `tagged after ${Date.now() - t0 - at} ms`, () => 'never tagged');
        late.push(`${id} on ${h.name} (shard ${shardOf(h.name, SHARDS)}), plugged ${why} at +${at} ms: ${t}`);
      }));
    };
    let handovers = 0;
    for (const h of fleet.hvs) {
      h.onSwitch = (bridge, sw) => {
        if (bridge !== 'br-int') return;
        let generation: bigint | undefined;
        sw.events$.subscribe((e) => {
          if (e.type !== 'master' || e.generationId === generation) return;
          generation = e.generationId;
          if (!armed) return;
          handovers++;
          plug(h, `as ${e.controller} became master with generation ${e.generationId}`);
        });
      };
    }
    const r1 = await start('r1');
    await eventually(() => fleet.synced(), 'r1 alone to sync every bridge', 60_000, r1.alive, 100);
    armed = true;
    let plugging = true;
    const plugger = (async () => {
      while (plugging) {
        plug(fleet.hvs[Math.floor(Math.random() * HOSTS)]!, 'at random');
        await sleep(50);
      }
    })();
    try {
      const r2 = await start('r2');
      await sleep(700);
      const r3 = await start('r3');
      await eventually(async () => (await Promise.all([0, 1, 2].map(leads))).every((n) => n > 0), 'every replica to lead some shards', 60_000, async () => {
        await r2.alive();
        await r3.alive();
      }, 100);
      await sleep(2000);
      // One leaves: its shards go to the others while ports keep coming.
      await r2.kill('SIGTERM');
      await eventually(async () => (await leads(0)) + (await leads(2)) === SHARDS, 'the two left to lead every shard', 30_000, undefined, 100);
      await sleep(2000);
    } finally {
      plugging = false;
      await plugger;
      await Promise.all(checks);
    }
    console.log(`      (${next} ports plugged, ${handovers} of them as a host changed master; ${late.length} not tagged within ${TAG_WITHIN_MS} ms)`);
    expect(handovers, 'hosts changed master').to.be.greaterThan(HOSTS / 2);
    expect(late, 'ports not tagged in time').to.deep.equal([]);
    // And the flows: every bridge exactly as rendered from the topology and its OVSDB.
    await eventually(() => fleet.wrongBridges() === 0, 'every bridge to hold exactly its rendered flows', 20_000, undefined, 200);
  });
});
