// OpenFlow session liveness against a real ovs-vswitchd: a switch busy with a big bundle of ours is
// not taken for dead, a frozen one (SIGSTOP) still is, within the allowance for what it had still
// to process; our own event loop blocked (CPU work) is not counted as the switch's silence; and
// sending a huge lazy batch gives the event loop regular turns.
import { expect } from 'chai';
import { parseFlow } from '../../codecs/ofctl/parse-flow.js';
import type { FlowModMessage } from '../../codecs/openflow/messages.js';
import { DEFAULT_PER_MESSAGE_MS, OfConnection, SessionClosedError } from '../../lib/switch/connection.js';
import { connectSwitch } from '../../lib/switch/target.js';
import { memberFlow } from '../../testing/member-flows.js';
import { OvsSandbox } from '../../testing/sandbox.js';

/** Keeps this thread busy (our event loop blocked) for `ms`. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* spin */ }
}

/** CPU time this process has used (ms): unlike wall time, not stretched when other processes take our core. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Uses `ms` of CPU without giving the event loop a turn. */
function busyCpu(ms: number): void {
  const until = cpuMs() + ms;
  while (cpuMs() < until) { /* spin */ }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `n` member flows, each parsed only when the sender reaches it; `at(i)` runs before the i-th. */
function* lazyFlows(n: number, at?: (i: number) => void): Generator<FlowModMessage> {
  for (let i = 0; i < n; i++) {
    at?.(i);
    yield parseFlow(memberFlow(i));
  }
}

describe('OpenFlow session liveness with a real ovs-vswitchd', function () {
  this.timeout(120_000);
  let ovs: OvsSandbox;
  let pid = 0;
  let conn: OfConnection | undefined;
  const flowCount = async (): Promise<number> =>
    Number(/flow_count=(\d+)/.exec(await ovs.ofctl('dump-aggregate', ovs.mgmtTarget('br-int')))![1]);

  before(async () => {
    ovs = await OvsSandbox.start({ bridges: ['br-int'] });
    pid = ovs.vswitchdPid();
  });
  afterEach(async () => {
    process.kill(pid, 'SIGCONT');
    conn?.close('test done');
    conn = undefined;
    await ovs.ofctl('del-flows', ovs.mgmtTarget('br-int'));
  });
  after(async () => {
    await ovs?.stop();
  });

  it('our event loop blocked for 5 times the echo interval, over and over, does not close a healthy session', async () => {
    conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-int') }, { echoIntervalMs: 200 });
    // Each block makes the echo timer fire late; between blocks the loop gets one turn only, so
    // that an echo sent in one turn is answered while the next block runs.
    for (let i = 0; i < 4; i++) {
      busyWait(1000);
      await nextTurn();
    }
    await conn.barrier();
    expect(conn.isOpen).to.equal(true);
  });

  it('a bundle of 200k adds completes with a 100 ms echo interval: the switch taking and committing it answers nothing for longer', async () => {
    // OVS 3.1 here commits 200k adds in 0.25-0.4 s, answering nothing meanwhile (scripts/bundle-cost.ts):
    // twice the echo interval, without the allowance for the commit's adds the session would be closed.
    conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-int') }, { echoIntervalMs: 100 });
    await conn.bundle(lazyFlows(200_000));
    expect(conn.isOpen).to.equal(true);
    expect(await flowCount()).to.equal(200_000);
  });

  it('a CPU-heavy generator handed to bundle() does not starve the event loop for 100 ms at a time', async () => {
    conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-int') }, { echoIntervalMs: 1000 });
    // The most CPU we used between two turns of our loop while sending (a timer every 5 ms). CPU,
    // not wall time: on a shared machine other processes may hold our core for longer.
    let last = cpuMs();
    let maxGap = 0;
    const tick = setInterval(() => {
      const now = cpuMs();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    try {
      // 0.1 ms of our CPU per flow besides parsing it: a generator that renders as it goes.
      await conn.bundle(lazyFlows(20_000, () => busyCpu(0.1)));
    } finally {
      clearInterval(tick);
    }
    expect(await flowCount()).to.equal(20_000);
    expect(maxGap).to.be.below(100);
  });

  it('a frozen ovs-vswitchd (SIGSTOP) with a big bundle outstanding is dropped after the allowance for it, with the reason', async () => {
    const echoMs = 2000;
    conn = await connectSwitch({ kind: 'unix', path: ovs.mgmt('br-int') }, { echoIntervalMs: echoMs });
    const c = conn;
    let stoppedAt = 0;
    const outcome = c.bundle(lazyFlows(200_000, (i) => {
      if (i !== 30_000) return;
      process.kill(pid, 'SIGSTOP');
      stoppedAt = Date.now();
    })).then(() => 'committed', (e: Error) => e);
    const reason = await c.closed;
    const closedAt = Date.now();
    process.kill(pid, 'SIGCONT');
    const m = /^no reply to echo_request: peer silent for \d+ ms \(allowed (\d+) ms after the echo, (\d+) ms of it for (\d+) messages ahead of it\)$/.exec(reason);
    expect(m, reason).to.not.equal(null);
    const [allowed, extra, ahead] = [Number(m![1]), Number(m![2]), Number(m![3])];
    // The 30k adds written before the freeze were never shown processed: all of them count.
    expect(ahead).to.be.at.least(30_000);
    expect(extra).to.equal(Math.ceil(ahead * DEFAULT_PER_MESSAGE_MS));
    expect(allowed).to.equal(echoMs + extra);
    // The echo went out at most one interval after the freeze (idle since the bundle's OPEN was
    // answered); the verdict came no earlier than its allowance after the freeze, and bounded.
    expect(closedAt - stoppedAt).to.be.at.least(allowed).and.at.most(echoMs + allowed + 2000);
    expect(await outcome).to.be.instanceOf(SessionClosedError);
    // Woken up, the switch sees the session gone and discards the bundle: nothing was applied.
    expect(await flowCount()).to.equal(0);
  });
});
