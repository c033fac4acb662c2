// `ofctl-ts topology put|import|delete|get --etcd …` against a real etcd: a write is checked
// against what etcd holds and goes in one transaction, or nothing is written; a write that another
// slips in front of is checked again (etcd-write.ts).
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdCluster } from '../../testing/etcd.js';
import { runCli } from '../../testing/run-cli.js';
import { freePort } from '../../testing/wait.js';
import { etcdClient, parseEtcdTarget } from '../../lib/topology/etcd.js';
import { writeLines, WriteRefused } from '../../lib/topology/etcd-write.js';

const P = '/ofctl-ts/topology';
const LINES = [
  '{"type":"host","name":"h1","tunnelIp":"10.9.0.1"}',
  '{"type":"network","id":"n1","vni":100}',
  '{"type":"port","id":"p1","network":"n1","host":"h1","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
];

describe('ofctl-ts topology (etcd)', function () {
  this.timeout(60_000);
  let etcd: EtcdCluster;
  let client: Etcd3;
  let dir: string;
  let E: string;
  const keys = async (): Promise<string[]> => (await client.getAll().prefix(`${P}/`).keys()).sort();
  const revision = async (): Promise<number> => Number((await client.get('nothing').exec()).header.revision);

  before(async () => {
    etcd = await EtcdCluster.start();
    E = etcd.endpoints[0]!;
    client = etcdClient(parseEtcdTarget(E, 'test'));
    dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-topology-'));
  });
  afterEach(async () => {
    await client.delete().prefix(P).exec();
  });
  after(async () => {
    client?.close();
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('import writes a file in one transaction; get prints it back in dependency order; delete refuses what is still used', async () => {
    const file = join(dir, 'ok.jsonl');
    writeFileSync(file, `# a comment\n\n${LINES.join('\n')}\n`);
    const before = await revision();
    const r = await runCli(['topology', 'import', file, '--etcd', E]);
    expect(r.code, r.stderr).to.equal(0);
    // One transaction: 3 entity keys and the guard, at one revision.
    expect(r.stdout).to.equal(`3 key(s) written at revision ${before + 1}\n`);
    expect(await keys()).to.deep.equal([`${P}/host/h1`, `${P}/network/n1`, `${P}/port/p1`]);
    const got = await runCli(['topology', 'get', '--etcd', E]);
    expect(got.code, got.stderr).to.equal(0);
    const printed = got.stdout.trim().split('\n');
    expect(printed.map((l) => (JSON.parse(l) as { type: string }).type)).to.deep.equal(['host', 'network', 'port']);
    expect(JSON.parse(printed[2]!)).to.deep.include({ id: 'p1', network: 'n1', portSecurity: true });
    expect((await runCli(['topology', 'get', 'network', 'n1', '--etcd', E])).stdout).to.equal(`${LINES[1]}\n`);
    const missing = await runCli(['topology', 'get', 'port', 'p9', '--etcd', E]);
    expect([missing.code, missing.stderr]).to.deep.equal([1, `ofctl-ts: topology: no ${P}/port/p9 in etcd (revision ${before + 1})\n`]);

    const used = await runCli(['topology', 'delete', 'network', 'n1', '--etcd', E]);
    expect(used.code).to.equal(1);
    expect(used.stderr).to.include('remove network n1: port p1 still uses it');
    expect(await keys()).to.have.length(3);
    // The port first, then the network (and a line from stdin through `put`).
    expect((await runCli(['topology', 'delete', 'port', 'p1', '--etcd', E])).code).to.equal(0);
    const put = await runCli(['topology', 'put', '--etcd', E], {}, '{"type":"remove","kind":"network","id":"n1"}\n');
    expect(put.code, put.stderr).to.equal(0);
    expect(await keys()).to.deep.equal([`${P}/host/h1`]);
  });

  it('import refuses a file with a dangling reference or a "rev", naming FILE:LINE, and writes nothing', async () => {
    expect((await runCli(['topology', 'put', LINES[0]!, LINES[1]!, '--etcd', E])).code).to.equal(0);
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, [
      '{"type":"network","id":"n2","vni":200}',
      '{"type":"port","id":"p1","network":"n1","host":"h1","mac":"fa:16:3e:00:00:01"}',
      '{"type":"port","id":"p2","network":"n3","host":"h1","mac":"fa:16:3e:00:00:02"}',
      '{"type":"port","id":"p3","network":"n2","host":"h1","mac":"fa:16:3e:00:00:03","rev":7}',
      '',
    ].join('\n'));
    const before = await revision();
    const r = await runCli(['topology', 'import', file, '--etcd', E]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`ofctl-ts: topology: 2 rejected line(s); nothing was written:\n  ${file}:3: port p2: unknown network n3\n`
      + `  ${file}:4: "rev" is etcd's (each key's mod_revision): remove it from the line\n`);
    expect(await revision()).to.equal(before);
    expect(await keys()).to.deep.equal([`${P}/host/h1`, `${P}/network/n1`]);
  });

  it('import of a file it cannot read says so as ovs-ofctl does, and writes nothing', async () => {
    const before = await revision();
    const missing = join(dir, 'no-such.jsonl');
    const r = await runCli(['topology', 'import', missing, '--etcd', E]);
    expect([r.code, r.stderr]).to.deep.equal([1, `ofctl-ts: topology: ${missing}: open failed (No such file or directory)\n`]);
    expect(await revision()).to.equal(before);
  });

  it('says plainly when a write is more keys than etcd takes in one transaction (--max-txn-ops), and writes nothing', async () => {
    const hosts = Array.from({ length: 130 }, (_, i) => JSON.stringify({ type: 'host', name: `h${i}`, tunnelIp: `10.9.1.${i + 1}` }));
    const r = await runCli(['topology', 'import', '-', '--etcd', E], {}, `${hosts.join('\n')}\n`);
    expect([r.code, r.stderr]).to.deep.equal([1, 'ofctl-ts: topology: 130 keys in one transaction: more than etcd\'s --max-txn-ops allows (128 by default); split the input or raise it\n']);
    expect(await keys()).to.deep.equal([]);
  });

  it('says in one line which etcd (as --etcd named it) could not be reached and what that means: nothing listening, or a stopped etcd', async () => {
    const port = await freePort();
    const refused = `127\\.0\\.0\\.1:${port}`;
    const put = await runCli(['topology', 'put', LINES[0]!, '--etcd', `127.0.0.1:${port}/my/topo`]);
    expect(put.code).to.equal(1);
    expect(put.stderr).to.match(new RegExp(`^ofctl-ts: topology: --etcd ${refused}/my/topo: etcd could not be reached; nothing was written: the topology and the hosts' flows are as they were `
      + `\\(etcd3: 14 UNAVAILABLE: No connection established\\. Last error: Error: connect ECONNREFUSED ${refused}\\)\\n$`));
    const get = await runCli(['topology', 'get', '--etcd', `127.0.0.1:${port}`]);
    expect(get.code).to.equal(1);
    expect(get.stderr).to.match(new RegExp(`^ofctl-ts: topology: --etcd ${refused}: etcd could not be reached; nothing was read \\(etcd3: 14 UNAVAILABLE: .*ECONNREFUSED.*\\)\\n$`));

    // A stopped etcd (SIGSTOP: it takes the connection and never answers): each call's deadline.
    const before = await revision();
    await etcd.kill(0, 'SIGSTOP');
    try {
      const hung = await runCli(['topology', 'put', LINES[0]!, '--etcd', E]);
      expect(hung.code).to.equal(1);
      expect(hung.stderr).to.match(new RegExp(`^ofctl-ts: topology: --etcd ${E.replace(/\./g, '\\.')}: etcd could not be reached; nothing was written: .* \\(etcd3: 4 DEADLINE_EXCEEDED: .*\\)\\n$`));
    } finally {
      await etcd.kill(0, 'SIGCONT');
    }
    expect(await revision()).to.equal(before);
  });

  it('a write another slips in front of is checked again: an unrelated put lets it through, a removal it depended on refuses it', async () => {
    const target = parseEtcdTarget(E, 'test');
    await writeLines(client, target.prefix, LINES.slice(0, 2), 'setup');
    // A raw put by someone else (etcdctl) between the check and the transaction: tried again, written.
    const ok = await writeLines(client, target.prefix, [LINES[2]!], 'file', {
      beforeCommit: async (attempt) => {
        if (attempt === 1) await etcd.ctl('put', `${P}/network/n2`, '{"type":"network","id":"n2","vni":200}');
      },
    });
    expect(ok.attempts).to.equal(2);
    expect(await keys()).to.include(`${P}/port/p1`);
    // Another of our writers removes the network the port names: the second check refuses the port.
    const err = await writeLines(client, target.prefix, ['{"type":"port","id":"p2","network":"n2","host":"h1","mac":"fa:16:3e:00:00:02"}'], 'file', {
      beforeCommit: async (attempt) => {
        if (attempt === 1) await writeLines(client, target.prefix, ['{"type":"remove","kind":"network","id":"n2"}'], 'other');
      },
    }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(WriteRefused);
    expect((err as WriteRefused).rejected.map((r) => `${r.source}:${r.lineNo}: ${r.error}`)).to.deep.equal(['file:1: port p2: unknown network n2']);
    expect(await keys()).to.deep.equal([`${P}/host/h1`, `${P}/network/n1`, `${P}/port/p1`]);
  });
});
