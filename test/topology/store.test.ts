// 50 malformed topology events, through the store and through the HTTP endpoint: each rejected with
// its reason, the topology unchanged, the process alive; and the file source follows appends.
import { expect } from 'chai';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileSource, httpSource } from '../../lib/topology/sources.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { tempDir } from '../../testing/temp-dir.js';

const BASE = [
  '{"type":"host","name":"a","tunnelIp":"10.0.0.1"}',
  '{"type":"host","name":"b","tunnelIp":"10.0.0.2"}',
  '{"type":"network","id":"n1","vni":1001}',
  '{"type":"port","id":"p1","network":"n1","host":"a","mac":"fa:16:3e:00:00:01","fixedIps":["10.1.0.1"]}',
];

/** 50 malformed events: bad MACs, VNIs, references, duplicates, types and truncated JSON. */
function malformed(): string[] {
  const port = (o: Record<string, unknown>): string => JSON.stringify({ type: 'port', id: 'p9', network: 'n1', host: 'a', mac: 'fa:16:3e:00:00:09', ...o });
  return [
    ...['fa:16:3e:00:00', 'fa:16:3e:00:00:00:01', 'zz:16:3e:00:00:01', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', 'fa-16-3e-00-00-01', '', 'fa:16:3e:0:0:1']
      .map((mac) => port({ mac })),
    ...[0, -1, 16777216, 2 ** 24, 1.5, '1001', null, true].map((vni) => JSON.stringify({ type: 'network', id: 'n9', vni })),
    port({ network: 'nope' }), port({ host: 'nope' }), port({ mac: 'fa:16:3e:00:00:01' }), port({ fixedIps: ['10.1.0.1'] }),
    '{"type":"network","id":"n2","vni":1001}', '{"type":"host","name":"c","tunnelIp":"10.0.0.1"}',
    port({ fixedIps: '10.1.0.9' }), port({ fixedIps: [10] }), port({ fixedIps: ['10.1.0.256'] }), port({ fixedIps: ['224.0.0.5'] }),
    port({ allowedAddressPairs: [{ mac: 'fa:16:3e:00:00:aa' }] }), port({ allowedAddressPairs: {} }), port({ portSecurity: 'yes' }),
    port({ ofport: 0 }), port({ ofport: 1 }), port({ id: '' }), port({ extra: 1 }),
    '{"type":"host","name":"c","tunnelIp":"300.0.0.1"}', '{"type":"host","name":"c","tunnelIp":"127.0.0.1"}',
    '{"type":"host","name":"c"}', '{"type":"host","name":"bad name","tunnelIp":"10.0.0.9"}',
    '{"type":"remove","kind":"port","id":"ghost"}', '{"type":"remove","kind":"network","id":"n1"}', '{"type":"remove","kind":"vm","id":"p1"}',
    '{"type":"remove","kind":"host","id":"a"}', '{"type":"bogus"}', '{}', '[]', '42', 'null',
    '{"type":"port","id":"p9"', '{"type":"network","id":"n9","vni":', 'not json at all',
  ];
}

describe('topology store and sources', () => {
  it('rejects 50 malformed events, each with a reason, leaving the topology unchanged', () => {
    const store = new TopologyStore();
    for (const l of BASE) expect(store.applyLine(l).ok).to.equal(true);
    const before = store.snapshot();
    const bad = malformed();
    expect(bad).to.have.length(50);
    for (const l of bad) {
      const r = store.applyLine(l);
      expect(r.ok, l).to.equal(false);
      if (!r.ok) expect(r.error, l).to.match(/\S{3,}/);
    }
    expect(store.rejected).to.equal(50);
    expect(store.snapshot()).to.equal(before);
  });

  it('HTTP: POST /events is all or nothing (400 lists every rejected line), GET /topology, bearer token', async () => {
    const store = new TopologyStore();
    const src = await httpSource(store, { port: 0, token: 's3cret' });
    try {
      const url = `http://127.0.0.1:${src.port}`;
      const auth = { authorization: 'Bearer s3cret' };
      const post = async (body: string): Promise<{ status: number; body: unknown }> => {
        const res = await fetch(`${url}/events`, { method: 'POST', headers: auth, body });
        return { status: res.status, body: await res.json() };
      };
      expect((await fetch(`${url}/topology`)).status).to.equal(401);
      expect(await post(BASE.join('\n'))).to.deep.equal({ status: 200, body: { accepted: 4 } });
      const snap = async (): Promise<string> => (await fetch(`${url}/topology`, { headers: auth })).text();
      const before = await snap();
      // Three bad lines and a good one: 400 naming each bad line, and the good one not applied.
      const bad = await post(`${malformed().slice(0, 3).join('\n')}\n{"type":"network","id":"n2","vni":2002}`);
      expect(bad.status).to.equal(400);
      const body = bad.body as { accepted: number; rejected: Array<{ line: number; error: string }> };
      expect(body.accepted).to.equal(0);
      expect(body.rejected.map((r) => r.line)).to.deep.equal([1, 2, 3]);
      expect(body.rejected[0]!.error).to.match(/"mac" must be a MAC address/);
      expect(await snap()).to.equal(before);
      expect(store.topology.networks.has('n2')).to.equal(false);
      // Each line is checked against the topology as the lines before it leave it: line 2 uses
      // line 1's network, line 4 reuses line 1's VNI (line numbers count blank lines too).
      const dependent = await post([
        '{"type":"network","id":"n3","vni":3003}',
        '{"type":"port","id":"p3","network":"n3","host":"b","mac":"fa:16:3e:00:00:03","fixedIps":["10.3.0.3"]}',
        '',
        '{"type":"network","id":"n4","vni":3003}',
        '{"type":"port","id":"p4","network":"n3","host":"b","mac":"fa:16:3e:00:00:04",}',
      ].join('\n'));
      expect(dependent.status).to.equal(400);
      expect((dependent.body as { rejected: Array<{ line: number; error: string }> }).rejected).to.deep.equal([
        { line: 4, error: 'network n4: VNI 3003 is already network n3\'s' },
        { line: 5, error: (dependent.body as { rejected: Array<{ error: string }> }).rejected[1]!.error },
      ]);
      expect((dependent.body as { rejected: Array<{ error: string }> }).rejected[1]!.error).to.match(/^not JSON/);
      expect(await snap()).to.equal(before);
      expect(store.rejected).to.equal(5);
      // The same batch without its bad lines: 200, all applied, in order.
      const good = await post(['{"type":"network","id":"n3","vni":3003}',
        '{"type":"port","id":"p3","network":"n3","host":"b","mac":"fa:16:3e:00:00:03","fixedIps":["10.3.0.3"]}'].join('\n'));
      expect(good).to.deep.equal({ status: 200, body: { accepted: 2 } });
      expect(store.topology.ports.get('p3')?.network).to.equal('n3');
      expect((await snap()).split('\n').filter((l) => l)).to.have.length(6);
    } finally {
      await src.stop();
    }
  });

  it('follows appends to a topology file and applies only complete lines', async () => {
    const dir = tempDir('ofctl-ts-topo-');
    const file = join(dir, 't.jsonl');
    writeFileSync(file, `${BASE.slice(0, 3).join('\n')}\n`);
    const store = new TopologyStore();
    const src = fileSource(store, file, 20);
    try {
      expect(store.topology.networks.size).to.equal(1);
      appendFileSync(file, '{"type":"network","id":"n2",');
      await new Promise((r) => setTimeout(r, 100));
      expect(store.topology.networks.size).to.equal(1); // half a line: nothing yet
      appendFileSync(file, '"vni":2002}\n');
      await new Promise((r) => setTimeout(r, 100));
      expect(store.topology.networks.get('n2')?.vni).to.equal(2002);
    } finally {
      await src.stop();
    }
  });
});
