// Fault: a topology source that disconnects in the middle of a line. Whatever was cut off is
// reported and applied nowhere (a cut line may still parse: `..."vni":10` cut from `"vni":1001`);
// the complete lines before it stand, and the source's peers after it are served.
import { expect } from 'chai';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { httpSource, streamSource } from '../../lib/topology/sources.js';
import { TopologyStore } from '../../lib/topology/store.js';
import { eventually } from '../../testing/wait.js';

const HOST = '{"type":"host","name":"h1","tunnelIp":"10.0.0.1"}';

describe('fault: a topology source disconnects mid-line', () => {
  it('a stream (stdin) that ends mid-line: the cut line is rejected with a reason, never applied', async () => {
    const store = new TopologyStore();
    const rejected: string[] = [];
    store.rejected$.subscribe((r) => rejected.push(r.error));
    const input = new PassThrough();
    const started = streamSource(store, input, '<stdin>');
    // The cut line is valid JSON and a valid event by itself — it must still not be applied.
    input.write(`${HOST}\n{"type":"network","id":"red","vni":10`);
    input.end();
    const src = await started;
    expect(rejected).to.have.length(1);
    expect(rejected[0]).to.match(/ended mid-line .*not applied/);
    // It belongs to the start-up snapshot, which a controller then refuses whole.
    expect(src.snapshot.map((r) => `${r.source}:${r.lineNo}`)).to.deep.equal(['<stdin>:2']);
    expect([...store.topology.hosts.keys()]).to.deep.equal(['h1']);
    expect(store.topology.networks.size).to.equal(0);
    expect(store.rejected).to.equal(1);
    await src.stop();
  });

  it('an HTTP client that disconnects mid-body: nothing of that request is applied; the next client is served', async () => {
    const store = new TopologyStore();
    const rejected: string[] = [];
    store.rejected$.subscribe((r) => rejected.push(r.error));
    const src = await httpSource(store, { port: 0 });
    try {
      // Announces 10 kB, sends two complete lines, then goes away.
      const body = `${HOST}\n{"type":"network","id":"red","vni":1001}\n`;
      await new Promise<void>((resolve, reject) => {
        const s = connect(src.port, '127.0.0.1', () => {
          s.write(`POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: 10000\r\n\r\n${body}`, () => s.destroy());
        });
        s.on('close', () => resolve());
        s.on('error', reject);
      });
      await eventually(() => rejected.length === 1, 'the aborted request to be reported');
      expect(rejected[0]).to.match(/disconnected before the end of the request body .*; nothing applied/);
      expect(store.topology.hosts.size).to.equal(0);
      expect(store.topology.networks.size).to.equal(0);
      const res = await fetch(`http://127.0.0.1:${src.port}/events`, { method: 'POST', body });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ accepted: 2 });
      expect(store.topology.networks.get('red')?.vni).to.equal(1001);
    } finally {
      await src.stop();
    }
  });
});
