// A controller as one replica among several: joins the cluster (lib/cluster/cluster.ts) and tells
// the controller, host by host, whether it leads the host's shard. Leading, the host's agent asks
// for master with the shard's generation and takes the host over in OVSDB; otherwise it is slave
// and writes nothing. A step-down makes the bridges slave at once, before any pass runs.
import type { Controller, ControllerOptions } from '../controller/controller.js';
import { Cluster, ClusterOptions, ClusterStatus } from './cluster.js';
import { shardOf } from './shards.js';

export interface Replica {
  readonly cluster: Cluster;
  /** What the controller takes as its `cluster` option. */
  readonly controllerOptions: NonNullable<ControllerOptions['cluster']>;
  /** Hands the controller the cluster's news (leads, step-downs, targets). */
  bind(ctl: Controller): void;
  status(): ClusterStatus & { readonly shards: number };
  stop(): Promise<void>;
}

export async function joinCluster(o: ClusterOptions): Promise<Replica> {
  let ctl: Controller | undefined;
  const hostsOf = (shard: number): string[] => [...(ctl?.agents.keys() ?? [])].filter((h) => shardOf(h, o.shards) === shard);
  const cluster = await Cluster.start(o, {
    onLead: (shard) => {
      for (const h of hostsOf(shard)) ctl!.wake(h);
    },
    onStepDown: (shard) => {
      for (const h of hostsOf(shard)) {
        void ctl!.setRole(h, { role: 'slave' });
        ctl!.wake(h);
      }
    },
    onTargets: () => {
      for (const h of ctl?.agents.keys() ?? []) ctl!.wake(h);
    },
  });
  return {
    cluster,
    controllerOptions: { leader: (host) => cluster.leadership(shardOf(host, o.shards)), targets: () => cluster.memberTargets() },
    bind: (c) => {
      ctl = c;
    },
    status: () => ({ ...cluster.status(), shards: o.shards }),
    stop: () => cluster.stop(),
  };
}
