// One cluster member in a process of its own, for tests that kill it (SIGKILL, SIGSTOP): joins
// with the arguments given, prints each lead and step-down as a JSON line with its time, and
// leaves cleanly on SIGTERM.
// Usage: node dist/testing/cluster-replica.js ENDPOINTS PREFIX ID TARGET SHARDS
import { pino } from 'pino';
import { Cluster } from '../lib/cluster/cluster.js';

const [endpoints, prefix, replicaId, target, shards] = process.argv.slice(2);
const say = (o: object): void => void process.stdout.write(`${JSON.stringify({ ...o, t: Date.now() })}\n`);
const cluster = await Cluster.start(
  { endpoints: endpoints!.split(','), prefix: prefix!, replicaId: replicaId!, target: target!, shards: Number(shards),
    ...(process.env.CLUSTER_DEBUG ? { log: pino({ level: 'debug' }, pino.destination(2)) } : {}) },
  {
    onLead: (shard, generation) => say({ event: 'lead', shard, generation: generation.toString() }),
    onStepDown: (shard, reason) => say({ event: 'stepDown', shard, reason }),
  },
).catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
say({ event: 'joined' });
process.on('SIGTERM', () => void cluster.stop().then(() => process.exit(0)));
