// Several controllers on one bridge, the same scenario and the same assertions against a real
// ovs-vswitchd 3.1 and against the simulator (a SimHypervisor's bridge, its Controller rows written
// in its OVSDB): every target gets a session of its own, EQUAL at first; a master's writes land, a
// newer generation demotes the old master with ROLE_STATUS, an older one is STALE and changes
// nothing; a slave's flow-mod and packet-out are refused with IS_SLAVE; rows added or removed
// later connect or disconnect without touching the flows, and losing the last controller flushes.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import type { Json } from '../../codecs/ovsdb/protocol.js';
import { isStale, OfConnection } from '../../lib/switch/connection.js';
import { NotMasterError } from '../../lib/switch/errors.js';
import { applyFlowMods } from '../../lib/switch/flow-ops.js';
import { listen, OfListener } from '../../lib/switch/listener.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { SimHypervisor } from '../../testing/sim/hypervisor.js';
import { loadSchemaFile } from '../../testing/sim/ovsdb-schema.js';
import { eventually, freePort } from '../../testing/wait.js';

const BR = 'br-int';
const strip = (lines: readonly string[]): string[] => lines.map((l) => l.replace(/^ *(cookie=0x0, )?/, '')).sort();

/** What the scenario needs of a bridge, real or simulated. */
interface Bridge {
  setControllers(targets: readonly string[]): Promise<void>;
  flows(): Promise<string[]>;
  stop(): Promise<void>;
}

async function realBridge(): Promise<Bridge> {
  const box = await OvsSandbox.start({ bridges: [BR] });
  return {
    setControllers: async (targets) => {
      if (targets.length) await box.setControllers(BR, targets);
      else await box.vsctl('del-controller', BR);
    },
    flows: async () => strip(await box.dumpFlowsSorted(BR)),
    stop: () => box.stop(),
  };
}

async function simBridge(): Promise<Bridge> {
  const dir = mkdtempSync(join(tmpdir(), 'ofctl-ts-sim-roles-'));
  const h = await SimHypervisor.start({ name: 'h', schema: loadSchemaFile(), ovsdb: `unix:${join(dir, 'db.sock')}`, dpidBase: 0x42n,
    switchOptions: { initialBackoffMs: 100, maxBackoffMs: 1000, probeIntervalMs: 0 } });
  h.plug([]); // br-int with its LOCAL port, as `ovs-vsctl add-br br-int`
  return {
    setControllers: async (targets) => {
      // As ovs-vsctl set-controller / del-controller: new Controller rows, the bridge pointing at them.
      const rows: Json[] = targets.map((target, i) => ({ op: 'insert', table: 'Controller', 'uuid-name': `c${i}`, row: { target } }));
      const res = h.db.transact([...rows, {
        op: 'update', table: 'Bridge', where: [['name', '==', BR]], row: { controller: ['set', targets.map((_, i) => ['named-uuid', `c${i}`])] },
      }]);
      expect(JSON.stringify(res)).to.not.include('error');
      await eventually(() => (h.switches.get(BR)?.targets.length ?? 0) === targets.length, 'the simulated vswitchd to follow the rows', 5000, undefined, 5);
    },
    flows: () => Promise.resolve(strip(h.switches.get(BR)?.sw.dumpText() ?? [])),
    stop: async () => {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A listener on a free port whose sessions are collected in order. */
class Ctl {
  readonly sessions: OfConnection[] = [];
  private constructor(readonly l: OfListener, readonly target: string) {
    l.sessions$.subscribe((c) => this.sessions.push(c));
  }
  static async start(roles: boolean): Promise<Ctl> {
    const port = await freePort();
    return new Ctl(await listen({ kind: 'tcp', host: '127.0.0.1', port }, roles ? { roles: true } : {}), `tcp:127.0.0.1:${port}`);
  }
  async session(n: number): Promise<OfConnection> {
    await eventually(() => this.sessions.length >= n, `session ${n} on ${this.target}`, 20_000, undefined, 10);
    return this.sessions[n - 1]!;
  }
}

for (const [kind, make] of [['a real ovs-vswitchd 3.1', realBridge], ['the simulator', simBridge]] as const) {
  describe(`several controllers on one bridge: ${kind}`, function () {
    this.timeout(60_000);
    let br: Bridge;
    const ctls: Ctl[] = [];
    before(async () => {
      br = await make();
    });
    after(async () => {
      await Promise.all(ctls.map((c) => c.l.close()));
      await br?.stop();
    });

    it('roles: master writes, a newer generation demotes with ROLE_STATUS, an older one is STALE, slaves are refused', async () => {
      // a and b under roles (as the controller's replicas); c and d outside roles, to see what the switch itself refuses.
      ctls.push(await Ctl.start(true), await Ctl.start(true), await Ctl.start(false), await Ctl.start(false));
      await br.setControllers(ctls.map((c) => c.target));
      const [a, b, c, d] = await Promise.all(ctls.map((x) => x.session(1)));
      expect([a!.role, a!.writable, b!.role]).to.deep.equal(['equal', false, 'equal']);

      await a!.requestRole('master', 10n);
      await b!.requestRole('slave');
      expect([a!.role, a!.generationId, b!.role, b!.generationId]).to.deep.equal(['master', 10n, 'slave', 10n]);
      await applyFlowMods(a!, [parseFlow('priority=10,actions=drop')]);
      expect(await applyFlowMods(b!, [parseFlow('priority=11,actions=drop')]).catch((e: unknown) => e)).to.be.instanceOf(NotMasterError);
      await b!.barrier();
      expect(await br.flows()).to.deep.equal(['priority=10 actions=drop']);

      const demoted = new Promise<string>((resolve) => a!.demoted$.subscribe(resolve));
      await b!.requestRole('master', 11n);
      expect(await demoted).to.match(/ROLE_STATUS: now slave \(generation 11\)/);
      expect([a!.role, b!.role]).to.deep.equal(['slave', 'master']);
      await applyFlowMods(b!, [parseFlow('priority=14,actions=drop')]);

      const stale = await a!.requestRole('master', 10n).catch((e: unknown) => e);
      expect(isStale(stale), String(stale)).to.equal(true);
      expect(String(stale)).to.include('OFPET_ROLE_REQUEST_FAILED/OFPRRFC_STALE');
      // The STALE request changed nothing: b is still master and writes.
      await applyFlowMods(b!, [parseFlow('priority=15,actions=drop')]);
      await a!.requestRole('slave');
      expect([a!.role, a!.generationId]).to.deep.equal(['slave', 11n]);

      // c made slave behind its session's back: the switch refuses its flow-mod with IS_SLAVE.
      const [rc] = await c!.request({ type: 'role_request', role: 3, generationId: 11n });
      expect(rc).to.include({ type: 'role_reply', role: 3, generationId: 11n });
      const err = await applyFlowMods(c!, [parseFlow('priority=16,actions=drop')], false).catch((e: unknown) => e);
      expect(String(err)).to.include('OFPET_BAD_REQUEST/OFPBRC_IS_SLAVE');
      // d likewise, with a packet-out: refused the same way.
      await d!.request({ type: 'role_request', role: 3, generationId: 11n });
      const refused = new Promise<string>((resolve) => d!.demoted$.subscribe(resolve));
      await d!.send({ type: 'packet_out', bufferId: 0xffffffff, inPort: 0xfffffffd, actions: [], data: Buffer.alloc(60) });
      expect(await refused).to.include('OFPBRC_IS_SLAVE');
      // A slave asking for master with the current generation is made master; b is demoted.
      const bDemoted = new Promise<string>((resolve) => b!.demoted$.subscribe(resolve));
      await a!.requestRole('master', 11n);
      expect(await bDemoted).to.match(/ROLE_STATUS: now slave \(generation 11\)/);
      await a!.barrier();
      expect(await br.flows()).to.deep.equal(['priority=10 actions=drop', 'priority=14 actions=drop', 'priority=15 actions=drop']);
    });

    it('rows added or removed later connect or disconnect, flows kept; the last one gone flushes, the next starts empty', async () => {
      const [a, b] = ctls as [Ctl, Ctl];
      const a1 = a.sessions[0]!;
      // Down to one controller (b's and the others' rows removed): their sessions close, the flows stay.
      await br.setControllers([a.target]);
      await eventually(() => ctls.slice(1).every((c) => !c.sessions[0]!.isOpen), 'the removed controllers\' sessions to close', 20_000, undefined, 20);
      expect(a1.isOpen).to.equal(true);
      expect(await br.flows()).to.have.length(3);
      // One to two: b connects anew (EQUAL), a's session is untouched, nothing is flushed.
      await br.setControllers([a.target, b.target]);
      const b2 = await b.session(2);
      expect([a1.isOpen, a.sessions.length, b2.role]).to.deep.equal([true, 1, 'equal']);
      expect(await br.flows()).to.have.length(3);
      await applyFlowMods(a1, [parseFlow('priority=20,actions=drop')]);
      expect(await br.flows()).to.have.length(4);
      // To zero: both sessions close and the table is flushed.
      await br.setControllers([]);
      await eventually(() => !a1.isOpen && !b2.isOpen, 'both sessions to close', 20_000, undefined, 20);
      await eventually(async () => (await br.flows()).length === 0, 'the table to be flushed', 10_000, undefined, 50);
      // Back to one: a new session, an empty table; the switch kept its generation (11) across sessions.
      await br.setControllers([a.target]);
      const a2 = await a.session(2);
      expect(a2.role).to.equal('equal');
      const stale = await a2.requestRole('master', 10n).catch((e: unknown) => e);
      expect(isStale(stale), String(stale)).to.equal(true);
      await a2.requestRole('master', 12n);
      await a2.barrier();
      expect(await br.flows()).to.deep.equal([]);
    });
  });
}
