// A controller as one replica among several: joins the cluster (lib/cluster/cluster.ts) and tells
// the controller, host by host, whether it leads the host's shard. Leading, the host's agent asks
// for master with the shard's generation and takes the host over in OVSDB; otherwise it is slave
// and writes nothing. A step-down makes the bridges slave at once, before any pass runs.
// Under --neutron-rpc a HostSpeaker (the Neutron agent) is told too: it speaks for a host on
// Neutron's bus only while this replica leads the host's shard, and stops first on a step-down.
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

/** What speaks for hosts elsewhere (Neutron's bus) and must follow the shards' leadership. */
export interface HostSpeaker {
  readonly hosts: readonly string[];
  /** Asked before each write for a host. */
  follow(leadership: (host: string) => bigint | 'paused' | undefined): void;
  lead(hosts: readonly string[]): Promise<void>;
  stepDown(hosts: readonly string[]): void;
}

export async function joinCluster(o: ClusterOptions, speaker?: HostSpeaker): Promise<Replica> {
  let ctl: Controller | undefined;
  /** Set once joined: leads announced while joining are handed to the speaker after that. */
  const joining: { cluster?: Cluster } = {};
  const hostsOf = (shard: number): string[] => [...(ctl?.agents.keys() ?? [])].filter((h) => shardOf(h, o.shards) === shard);
  const spokenOf = (shard: number): string[] => (speaker?.hosts ?? []).filter((h) => shardOf(h, o.shards) === shard);
  const speakerLead = (shard: number): void => {
    const hosts = spokenOf(shard);
    if (hosts.length) void speaker!.lead(hosts);
  };
  speaker?.follow((host) => joining.cluster?.leadership(shardOf(host, o.shards)));
  const joined = await Cluster.start(o, {
    onLead: (shard) => {
      if (joining.cluster) speakerLead(shard);
      for (const h of hostsOf(shard)) ctl!.wake(h);
    },
    onStepDown: (shard) => {
      // The bus first: a host-directed message must not be taken from the next leader.
      speaker?.stepDown(spokenOf(shard));
      for (const h of hostsOf(shard)) {
        void ctl!.setRole(h, { role: 'slave' });
        ctl!.wake(h);
      }
    },
    onTargets: () => {
      for (const h of ctl?.agents.keys() ?? []) ctl!.wake(h);
    },
  });
  joining.cluster = joined;
  for (let s = 0; s < o.shards; s++) if (typeof joined.leadership(s) === 'bigint') speakerLead(s);
  return {
    cluster: joined,
    controllerOptions: { leader: (host) => joined.leadership(shardOf(host, o.shards)), targets: () => joined.memberTargets() },
    bind: (c) => {
      ctl = c;
    },
    status: () => ({ ...joined.status(), shards: o.shards }),
    stop: () => joined.stop(),
  };
}
