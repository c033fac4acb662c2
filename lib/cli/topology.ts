// ofctl-ts topology put|import|delete|get --etcd HOST:PORT[,HOST:PORT…][/PREFIX]: the topology kept
// in etcd (lib/topology/etcd.ts), written only after the whole input is checked against what etcd
// holds, in one transaction (lib/topology/etcd-write.ts).
import { readFileSync } from 'node:fs';
import { GRPCGenericError } from 'etcd3';
import { entityKey, etcdClient, etcdFailure, isUnreachable, KINDS, Kind, parseEtcdTarget, readPrefix } from '../topology/etcd.js';
import { writeLines } from '../topology/etcd-write.js';
import { openFailed } from '../strerror.js';

export interface TopologyArgs {
  readonly action: 'put' | 'import' | 'delete' | 'get';
  /** put: event lines (none: stdin); import: FILE (or -); delete: KIND ID; get: [KIND [ID]]. */
  readonly args: readonly string[];
  readonly etcd: string;
}

function kindOf(s: string | undefined): Kind {
  if (!KINDS.includes(s as Kind)) throw new Error(`${JSON.stringify(s ?? '')} is not a kind (${KINDS.join(', ')})`);
  return s as Kind;
}

function readInput(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    // As ovs-ofctl words a file it cannot read.
    throw new Error(openFailed(path, err));
  }
}

export async function topologyCommand(a: TopologyArgs, out: (s: string) => void): Promise<number> {
  const target = parseEtcdTarget(a.etcd, '--etcd');
  const wanted = { put: [0, Infinity], import: [1, 1], delete: [2, 2], get: [0, 2] }[a.action];
  if (a.args.length < wanted[0]! || a.args.length > wanted[1]!) {
    throw new Error({ put: '', import: 'import takes one FILE (- for stdin)', delete: 'delete takes KIND ID', get: 'get takes [KIND [ID]]' }[a.action]);
  }
  const client = etcdClient(target);
  try {
    if (a.action === 'get') {
      const kinds = a.args[0] !== undefined ? [kindOf(a.args[0])] : KINDS;
      const read = await readPrefix(client, target.prefix);
      const byKey = new Map(read.changes.map((c) => [c.key, c.value!]));
      if (a.args[1] !== undefined) {
        const key = entityKey(target.prefix, kinds[0]!, a.args[1]);
        const v = byKey.get(key);
        if (v === undefined) throw new Error(`no ${key} in etcd (revision ${read.revision})`);
        out(v);
        return 0;
      }
      // Dependency order (hosts, networks, groups, ports): the output imports as it is.
      for (const kind of kinds) {
        const start = `${target.prefix}/${kind}/`;
        for (const key of [...byKey.keys()].filter((k) => k.startsWith(start)).sort()) out(byKey.get(key)!);
      }
      return 0;
    }
    let lines: string[];
    let source: string;
    if (a.action === 'delete') {
      lines = [JSON.stringify({ type: 'remove', kind: kindOf(a.args[0]), id: a.args[1] })];
      source = `delete ${a.args[0]} ${a.args[1]}`;
    } else if (a.action === 'import') {
      source = a.args[0] === '-' ? '<stdin>' : a.args[0]!;
      lines = readInput(a.args[0]!).split('\n');
    } else if (a.args.length) {
      source = 'argument';
      lines = [...a.args];
    } else {
      source = '<stdin>';
      lines = readInput('-').split('\n');
    }
    const r = await writeLines(client, target.prefix, lines, source);
    out(`${r.keys} key(s) written at revision ${r.revision}`);
    return 0;
  } catch (err) {
    // etcd not there (or refusing): said in our words, naming the etcd as the operator did.
    if (err instanceof GRPCGenericError || isUnreachable(err)) {
      throw new Error(etcdFailure(`--etcd ${a.etcd}`, a.action === 'get' ? 'nothing was read' : 'nothing was written: the topology and the hosts\' flows are as they were', err));
    }
    throw err;
  } finally {
    client.close();
  }
}
