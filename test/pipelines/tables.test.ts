// Table declarations are enforced: at compile time (the @ts-expect-error lines below must be
// errors, or tsc fails the build) and at run time for specs the types cannot see.
import { expect } from 'chai';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { BR_INT } from '../../pipelines/br-int.js';
import { BR_TUN } from '../../pipelines/br-tun.js';
import { PipelineError, tables } from '../../pipelines/table.js';

describe('typed table declarations', () => {
  it('reject undeclared matches, continuations, writes and outputs at compile time', () => {
    const t = BR_TUN;
    const attempts = [
      // @ts-expect-error table 4 (VXLAN_TUN_TO_LV) does not declare dl_src
      () => t.vxlanTunToLv.flow({ priority: 1, match: { dl_src: 'fa:16:3e:00:00:01' }, actions: [{ goto: t.learnFromTun }] }),
      // @ts-expect-error table 4 may only continue to LEARN_FROM_TUN
      () => t.vxlanTunToLv.flow({ priority: 1, match: { tun_id: 5 }, actions: [{ goto: t.ucastToTun }] }),
      // @ts-expect-error table 0 may not set the tunnel ID
      () => t.localSwitching.flow({ priority: 1, actions: [{ setTunnel: 5, set: 'tun_id' }] }),
      // @ts-expect-error table 23 of br-int declares no continuation at all
      () => BR_INT.canary.flow({ priority: 0, actions: [{ goto: BR_INT.packetRateLimit }] }),
      // @ts-expect-error a table is named, never numbered
      () => t.vxlanTunToLv.flow({ priority: 1, match: { tun_id: 5 }, actions: [{ goto: 10 }] }),
      // @ts-expect-error table 10 learns only into UCAST_TO_TUN
      () => t.learnFromTun.flow({ priority: 1, actions: [{ learn: 'priority=1', into: t.floodToTun }] }),
    ];
    // The same mistakes are also caught at run time, naming the table and the field.
    const messages = attempts.map((f) => {
      try {
        f();
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(messages).to.deep.equal([
      'table 4 (VXLAN_TUN_TO_LV): may not match dl_src',
      'table 4 (VXLAN_TUN_TO_LV): may not continue to table 20 (UCAST_TO_TUN)',
      'table 0 (LOCAL_SWITCHING): may not set tun_id',
      'table 23 (CANARY): may not continue to table 59 (PACKET_RATE_LIMIT)',
      'table 4 (VXLAN_TUN_TO_LV): may not continue to 10',
      'table 10 (LEARN_FROM_TUN): may not learn into table 22 (FLOOD_TO_TUN)',
    ]);
  });

  it('reject computed specs at run time with the table and field named', () => {
    const { t7: t, t8 } = tables({
      t7: { id: 7, name: 'T7', purpose: 'test', matches: ['in_port'], sets: [], next: ['t8'], learnsInto: ['t8'], outputs: ['patch'] },
      t8: { id: 8, name: 'T8', purpose: 'test', matches: [], sets: [], next: [] },
    });
    const computed = JSON.parse('{"priority":1,"match":{"tun_id":5},"actions":[]}') as Parameters<typeof t.flow>[0];
    expect(() => t.flow(computed)).to.throw(PipelineError, 'table 7 (T7): may not match tun_id');
    expect(() => t.flow({ priority: 1, actions: [{ output: 3, to: 'tunnel' }] })).to.throw(PipelineError, 'table 7 (T7): may not output to a tunnel port');
    expect(t.flow({ priority: 1, actions: [{ goto: t8 }] }).flow.instructions.gotoTable).to.equal(8);
    // A table of the same name on another bridge type-checks, but is not the declared one.
    const other = tables({ t8: { id: 9, name: 'T9', purpose: 'test', matches: [], sets: [], next: [] } });
    expect(() => t.flow({ priority: 1, actions: [{ goto: other.t8 }] })).to.throw(PipelineError, 'table 7 (T7): may not continue to table 9 (T9)');
    expect(() => t.flow({ priority: 1, actions: [{ learn: 'priority=1', into: other.t8 }] })).to.throw(PipelineError, 'may not learn into table 9 (T9)');
  });

  it('refuse a declaration naming a table the bridge does not have', () => {
    // @ts-expect-error a literal name fails tsc; a computed one fails here
    expect(() => tables({ a: { id: 1, name: 'A', purpose: 'test', matches: [], sets: [], next: ['b'] } }))
      .to.throw(PipelineError, 'table 1 (A): no table named b');
  });

  it('build flows that parse as OVS would read them', () => {
    const f = BR_TUN.vxlanTunToLv.flow({ cookie: 0x10n, priority: 1, match: { tun_id: 1001 }, actions: [{ pushVlan: 1, set: 'vlan' }, { goto: BR_TUN.learnFromTun }] });
    expect(formatFlow(f.flow)).to.equal('cookie=0x10, table=4, priority=1,tun_id=0x3e9 actions=push_vlan:0x8100,set_field:4097->vlan_vid,goto_table:10');
    expect(f.flow.instructions.gotoTable).to.equal(10);
  });
});
