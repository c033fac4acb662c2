// The reconciler's diff by object (plain flows compared with those last applied by object, not by
// identity) against a real ovs-vswitchd, over random sequences of desired sets: flows kept as the
// same object, replaced by an equal copy, given other actions, dropped, or two objects of one
// identity asked for at once. After each step the bridge holds exactly the desired flows and the
// flow-mods sent are exactly the difference (by text) from the step before.
import { expect } from 'chai';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import type { Flow } from '../../codecs/openflow/flow.js';
import { FlowReconciler } from '../../lib/flowset/reconciler.js';
import { connectSwitch } from '../../lib/switch/target.js';
import type { OfConnection } from '../../lib/switch/connection.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { Rng } from '../../testing/fuzz/rng.js';

const COOKIE = 0x1234n;

describe('flow reconciler: the diff by object, random steps on a real ovs-vswitchd', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;
  let conn: OfConnection;
  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br0'] });
    conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br0') });
  });
  after(async () => {
    conn?.close('test done');
    await ovs?.stop();
  });

  it('holds the desired flows after every step and sends exactly the difference', async () => {
    const r = await FlowReconciler.attach(conn, { cookie: COOKIE });
    const rng = new Rng(16);
    const next = (): number => rng.u32() / 0x100000000;
    // 30 identities, each with two action variants; objects are parsed anew when a step asks for a copy.
    const text = (id: number, variant: number): string =>
      `cookie=0x1234,table=${id % 3},priority=${10 + (id % 5)},ip,nw_src=10.0.${id}.0/24 actions=${variant ? `output:${id + 1}` : 'drop'}`;
    const objects = new Map<string, Flow>();
    const objectOf = (t: string, copy: boolean): Flow => {
      if (copy || !objects.has(t)) objects.set(t, parseFlow(t));
      return objects.get(t)!;
    };
    let before = new Set<string>();
    for (let step = 0; step < 40; step++) {
      const want: Flow[] = [];
      const texts = new Map<number, string>();
      for (let id = 0; id < 30; id++) {
        if (next() < 0.3) continue;
        const t = text(id, next() < 0.2 ? 1 : 0);
        texts.set(id, t);
        want.push(objectOf(t, next() < 0.1));
        // Now and then the other variant too, first: two objects of one identity, the last wins.
        if (next() < 0.03) want.splice(want.length - 1, 0, objectOf(text(id, texts.get(id) === text(id, 0) ? 1 : 0), false));
      }
      const res = await r.reconcile(want);
      const after = new Set([...texts.values()].map((t) => formatFlow(parseFlow(t))));
      const dump = (await ovs.dumpFlowsSorted('br0')).map((l) => l.trim());
      expect(dump, `step ${step}`).to.deep.equal([...after].sort());
      // What changed by identity: added, deleted, or replaced (one flow-mod each).
      const key = (l: string): string => l.replace(/ actions=.*/, '');
      const was = new Map([...before].map((l) => [key(l), l]));
      const now = new Map([...after].map((l) => [key(l), l]));
      let mods = 0;
      for (const [k, l] of now) if (was.get(k) !== l) mods++;
      for (const k of was.keys()) if (!now.has(k)) mods++;
      expect(res.flowMods, `step ${step}`).to.equal(mods);
      expect(r.size).to.equal(after.size);
      before = after;
    }
  });
});
