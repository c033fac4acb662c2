// OpenFlow roles against a real ovs-vswitchd with two controller targets on one bridge (two
// listeners in this process): a slave's writes never leave the session, a master's land, a newer
// generation demotes the old master (ROLE_STATUS), and an older one is refused as STALE, after
// which the session steps down to slave with the switch's current generation.
import { expect } from 'chai';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import { OfConnection, isStale } from '../../lib/switch/connection.js';
import { NotMasterError } from '../../lib/switch/errors.js';
import { applyFlowMods } from '../../lib/switch/flow-ops.js';
import { listen, OfListener } from '../../lib/switch/listener.js';
import { connectSwitch } from '../../lib/switch/target.js';
import { OvsSandbox } from '../../testing/sandbox.js';
import { eventually, freePort } from '../../testing/wait.js';

describe('OpenFlow roles with two controllers on a real bridge', function () {
  this.timeout(60_000);
  let box: OvsSandbox;
  let la: OfListener;
  let lb: OfListener;
  let a: OfConnection;
  let b: OfConnection;
  const flows = async (): Promise<string[]> => (await box.dumpFlowsSorted('br0')).map((l) => l.replace(/^ *(cookie=0x0, )?/, ''));

  before(async () => {
    box = await OvsSandbox.start({ bridges: ['br0'] });
    const [pa, pb] = [await freePort(), await freePort()];
    [la, lb] = await Promise.all([pa, pb].map((port) => listen({ kind: 'tcp', host: '127.0.0.1', port }, { roles: true })));
    const first = (l: OfListener): Promise<OfConnection> => new Promise((resolve) => {
      const sub = l.sessions$.subscribe((c) => {
        sub.unsubscribe();
        resolve(c);
      });
    });
    const sessions = Promise.all([first(la), first(lb)]);
    await box.setControllers('br0', [`tcp:127.0.0.1:${pa}`, `tcp:127.0.0.1:${pb}`]);
    [a, b] = await sessions;
  });
  after(async () => {
    await Promise.all([la?.close(), lb?.close()]);
    await box?.stop();
  });

  it('a session under roles writes nothing before the switch made it master', async () => {
    expect([a.role, a.writable]).to.deep.equal(['equal', false]);
    const err = await applyFlowMods(a, [parseFlow('priority=5,actions=drop')]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotMasterError);
    expect(await flows()).to.deep.equal([]);
  });

  it('the master writes; the slave\'s flow-mods, bundles and packet-outs never leave the session', async () => {
    await a.requestRole('master', 10n);
    await b.requestRole('slave');
    expect([a.role, a.generationId, b.role, b.generationId]).to.deep.equal(['master', 10n, 'slave', 10n]);
    await applyFlowMods(a, [parseFlow('priority=10,actions=drop')]);
    for (const attempt of [
      () => applyFlowMods(b, [parseFlow('priority=11,actions=drop')]),
      () => applyFlowMods(b, [parseFlow('priority=12,actions=drop')], false),
      () => b.send({ type: 'packet_out', bufferId: 0xffffffff, inPort: 0xfffffffd, actions: [], data: Buffer.alloc(60) }),
    ]) expect(await attempt().catch((e: unknown) => e)).to.be.instanceOf(NotMasterError);
    // The slave may still read the bridge (a warm replica).
    await b.barrier();
    expect(await flows()).to.deep.equal(['priority=10 actions=drop']);
    // What OVS itself says of the roles, in OVSDB (written a few seconds late).
    const roles = async (): Promise<string> => (await box.vsctl('--bare', '--columns=role', 'list', 'Controller')).split('\n').filter(Boolean).sort().join();
    await eventually(async () => await roles() === 'master,slave', 'OVSDB to show one master and one slave', 15_000, undefined, 250);
  });

  it('a higher generation makes the slave master; the old master sees ROLE_STATUS and is fenced at once', async () => {
    const demoted = new Promise<string>((resolve) => a.demoted$.subscribe(resolve));
    await b.requestRole('master', 11n);
    expect(await demoted).to.match(/ROLE_STATUS: now slave \(generation 11\)/);
    expect([a.role, a.writable, b.role, b.writable]).to.deep.equal(['slave', false, 'master', true]);
    expect(await applyFlowMods(a, [parseFlow('priority=13,actions=drop')]).catch((e: unknown) => e)).to.be.instanceOf(NotMasterError);
    await applyFlowMods(b, [parseFlow('priority=14,actions=drop')]);
    expect(await flows()).to.deep.equal(['priority=10 actions=drop', 'priority=14 actions=drop']);
  });

  it('an older generation is refused as STALE and leaves the session fenced; it then steps down to slave', async () => {
    const err = await a.requestRole('master', 10n).catch((e: unknown) => e);
    expect(isStale(err), String(err)).to.equal(true);
    expect(String(err)).to.include('OFPET_ROLE_REQUEST_FAILED/OFPRRFC_STALE');
    expect(a.writable).to.equal(false);
    // A slave request with the stale generation would be refused too (OVS checks it for slaves):
    // requestRole asks with the switch's current one.
    await a.requestRole('slave');
    expect([a.role, a.generationId]).to.deep.equal(['slave', 11n]);
    expect(await applyFlowMods(a, [parseFlow('priority=15,actions=drop')]).catch((e: unknown) => e)).to.be.instanceOf(NotMasterError);
    expect(await flows()).to.deep.equal(['priority=10 actions=drop', 'priority=14 actions=drop']);
  });

  it('an IS_SLAVE refusal fences a session that believed it could write, and says so', async () => {
    // A session outside roles (as ovs-ofctl's) made slave behind its back, by a raw role request.
    const c = await connectSwitch({ kind: 'unix', path: box.mgmt('br0') });
    try {
      const [r] = await c.request({ type: 'role_request', role: 3, generationId: 11n });
      expect(r).to.include({ type: 'role_reply', role: 3 });
      expect([c.role, c.writable]).to.deep.equal(['equal', true]);
      const demoted = new Promise<string>((resolve) => c.demoted$.subscribe(resolve));
      const err = await applyFlowMods(c, [parseFlow('priority=16,actions=drop')], false).catch((e: unknown) => e);
      expect(String(err)).to.include('OFPET_BAD_REQUEST/OFPBRC_IS_SLAVE');
      expect(await demoted).to.include('OFPBRC_IS_SLAVE');
      expect([c.role, c.writable]).to.deep.equal(['slave', false]);
      expect(await applyFlowMods(c, [parseFlow('priority=17,actions=drop')]).catch((e: unknown) => e)).to.be.instanceOf(NotMasterError);
      expect(await flows()).to.deep.equal(['priority=10 actions=drop', 'priority=14 actions=drop']);
    } finally {
      c.close('test done');
    }
  });
});
