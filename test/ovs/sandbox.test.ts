import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { OvsSandbox } from '../../testing/sandbox.js';

describe('OVS sandbox (real ovsdb-server + ovs-vswitchd)', () => {
  it('starts two sandboxes at once, each with its own bridge, and stops exactly its own processes', async () => {
    const [a, b] = await Promise.all([OvsSandbox.start({ bridges: ['br-tun'] }), OvsSandbox.start({ bridges: ['br-tun'] })]);
    try {
      expect(a.dir).to.not.equal(b.dir);
      // A fresh bridge is empty.
      // fail_mode=secure: a fresh bridge has no flows (standalone would add NORMAL).
      expect(await a.dumpFlowsSorted('br-tun')).to.deep.equal([]);
      await a.ofctl('add-flow', a.mgmtTarget('br-tun'), 'table=3,priority=7,actions=drop');
      expect(await a.dumpFlowsSorted('br-tun')).to.include(' table=3, priority=7 actions=drop');
      expect(await b.dumpFlowsSorted('br-tun')).to.deep.equal([]);
    } finally {
      await a.stop();
    }
    expect(existsSync(a.dir)).to.equal(false);
    // b is untouched by a's stop.
    expect(await b.dumpFlowsSorted('br-tun')).to.deep.equal([]);
    await b.stop();
  });
});
