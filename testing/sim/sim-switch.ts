// One simulated OpenFlow 1.3 bridge that behaves towards its controller as ovs-vswitchd 3.1 does:
// it connects actively (tcp: or unix:), sends HELLO with a version bitmap, answers the requests a
// controller makes (features, config, role, echo, barrier, port and switch descriptions, flow
// stats split at 64 KiB with REPLY_MORE), applies flow-mods and ONF bundles to a real flow table
// (flow-table.ts, OVS semantics), probes an idle controller with echo requests, and reconnects
// with doubling backoff while keeping its flows (fail_mode=secure). With several controllers it
// connects to each, with OpenFlow roles as OVS 3.1 keeps them (one master election id per switch,
// STALE, ROLE_STATUS to a demoted master, IS_SLAVE). Built to run by the thousand
// in one process: no per-flow objects, no timers while idle beyond the probe.
import { connect, Socket } from 'node:net';
import type { Logger } from 'pino';
// The Subject alone, not the rxjs barrel (as lib/switch/connection.ts).
import { Subject } from 'rxjs/internal/Subject';
import { formatFlow } from '../../codecs/ofctl/format-flow.js';
import { Writer } from '../../codecs/openflow/bytes.js';
import {
  decodeMessage, encodeMessage, FlowStatsRequest, MessageOf, OFP13_VERSION, OFPMPF_MORE, OfMessage, OfType,
  PortDesc, writeMessage,
} from '../../codecs/openflow/messages.js';
import { OFPP_LOCAL } from '../../codecs/openflow/ports.js';
import { formatTarget, parseTarget, Target } from '../../lib/switch/target.js';
import { SessionBundles } from './bundles.js';
import { FlowTable, RemovedFlow } from './flow-table.js';
import { OfFramer } from '../../codecs/openflow/framer.js';
import { RefusedMessage } from '../../codecs/openflow/errors.js';
import {
  errorMessage, OfErrorCode, OFPBRC_BAD_EXPERIMENTER, OFPBRC_BAD_LEN, OFPBRC_BAD_MULTIPART, OFPBRC_BAD_TYPE, OFPBRC_IS_SLAVE,
  OFPBRC_MULTIPART_BUFFER_OVERFLOW, OFPET_HELLO_FAILED_INCOMPATIBLE, OFPFMFC_BAD_COMMAND, OFPRRFC_STALE,
} from './of-errors.js';

export interface SimPort {
  readonly name: string;
  readonly ofport: number;
  /** Default: derived from the datapath id and the ofport. */
  readonly hwAddr?: bigint;
}

export interface SimSwitchOptions {
  readonly datapathId: bigint;
  /**
   * The controller(s) to connect to, each `tcp:IP:PORT` or `unix:PATH`: as ovs-vswitchd with
   * several Controller rows, one connection to each, each with its own role.
   */
  readonly controller: string | Target | readonly (string | Target)[];
  /** Bridge name (the LOCAL port's name). Default: `br-` + the datapath id in hex. */
  readonly name?: string;
  readonly ports?: readonly SimPort[];
  /** First reconnect delay (ovs-vswitchd: 1 s); it doubles up to maxBackoffMs while connections fail. */
  readonly initialBackoffMs?: number;
  /** Controller `max_backoff` (ovs-vswitchd's default: 8 s). */
  readonly maxBackoffMs?: number;
  /** Controller `inactivity_probe` (default 5 s): echo after this long idle, drop after as long again; 0 = never. */
  readonly probeIntervalMs?: number;
  /** How often flows with timeouts are expired (default 1 s). */
  readonly expiryIntervalMs?: number;
  /** Wall clock in ms (flow durations and timeouts). */
  readonly now?: () => number;
  readonly logger?: Logger;
}

export type SimState = 'stopped' | 'connecting' | 'connected' | 'backoff';

/** Delivered synchronously, right after the switch wrote the reply the event is about. */
export type SimEvent =
  | { readonly type: 'connected'; readonly controller: string }
  | { readonly type: 'disconnected'; readonly controller: string; readonly reason: string }
  | { readonly type: 'barrier'; readonly xid: number }
  | { readonly type: 'bundle'; readonly bundleId: number; readonly ok: boolean; readonly flowMods: number }
  /** A controller was made master (a role request granted; not a NOCHANGE or a refused one). */
  | { readonly type: 'master'; readonly controller: string; readonly generationId: bigint };

export interface SimCounters {
  /** Flow-mods applied, alone or in committed bundles. */
  flowMods: number;
  /** Flow-mods refused (alone, when added to a bundle, or at a commit). */
  flowModErrors: number;
  bundlesCommitted: number;
  bundlesFailed: number;
  barriers: number;
  /** Sessions that completed the HELLO exchange. */
  sessions: number;
  /** Messages that failed to decode (answered with an error). */
  decodeErrors: number;
}

type RoleMessage = Extract<OfMessage, { type: 'role_request' | 'role_reply' }>;

const OF13 = OFP13_VERSION;
const OFPCR_ROLE_NOCHANGE = 0;
const OFPCR_ROLE_EQUAL = 1;
const OFPCR_ROLE_MASTER = 2;
/** ONF ROLE_STATUS reason: another controller asked to be master. */
const OFPCRR_MASTER_REQUEST = 0;
const OFPCR_ROLE_SLAVE = 3;
const NO_GENERATION_ID = 0xffffffffffffffffn;
const OFP_DEFAULT_MISS_SEND_LEN = 128;
/** FEATURES_REPLY capabilities of ovs-vswitchd 3.1: flow, table, port, group stats and queue stats. */
const OVS_CAPABILITIES = 0x4f;
const OFPPS_LIVE = 4;
const MAX_MESSAGE = 0xffff;
/** Versions ovs-vswitchd accepts with other types than these after negotiating 1.3 (vconn_recv). */
const ANY_VERSION_TYPES: ReadonlySet<number> = new Set([OfType.HELLO, OfType.ERROR, OfType.ECHO_REQUEST, OfType.ECHO_REPLY, OfType.EXPERIMENTER]);

/** The controller targets the simulator connects to (no TLS). */
export type SimTarget = Extract<Target, { readonly kind: 'tcp' | 'unix' }>;

function parseControllerTarget(t: string | Target): SimTarget {
  const refuse = (what: string): Error => new Error(`${what}: a simulated switch connects to tcp:IP:PORT or unix:PATH`);
  if (typeof t === 'string' && !/^(tcp|unix):/.test(t)) throw refuse(t);
  const target = typeof t === 'string' ? parseTarget(t) : t;
  if (target.kind !== 'tcp' && target.kind !== 'unix') throw refuse(formatTarget(target));
  return target;
}

/** OFPMP_DESC as ovs-vswitchd 3.1 answers it. */
const DESC = { mfr: 'Nicira, Inc.', hw: 'Open vSwitch', sw: '3.1.0', serial: 'None', dp: 'None' } as const;

export class SimSwitch {
  readonly flows: FlowTable;
  readonly events$ = new Subject<SimEvent>();
  readonly counters: SimCounters = {
    flowMods: 0, flowModErrors: 0, bundlesCommitted: 0, bundlesFailed: 0, barriers: 0, sessions: 0, decodeErrors: 0,
  };
  readonly datapathId: bigint;
  readonly name: string;
  /**
   * The switch's master election id (OVS: connmgr's master_election_id): shared by all its
   * controller connections and kept across reconnects; undefined until a role request set one.
   */
  generationId: bigint | undefined;

  private stateValue: 'stopped' | 'running' = 'stopped';
  /** One connection per controller target, keyed by its formatted target (OVS: one ofconn per Controller row). */
  private readonly conns = new Map<string, SimControllerConn>();
  private expiryTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private readonly ports: readonly PortDesc[];
  readonly log: Logger | undefined;
  readonly probeIntervalMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  private readonly expiryIntervalMs: number;

  constructor(opts: SimSwitchOptions) {
    this.datapathId = opts.datapathId;
    this.name = opts.name ?? `br-${opts.datapathId.toString(16)}`;
    this.flows = new FlowTable(opts.now ? { now: opts.now } : {});
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = Math.max(this.initialBackoffMs, opts.maxBackoffMs ?? 8000);
    this.probeIntervalMs = opts.probeIntervalMs ?? 5000;
    this.expiryIntervalMs = opts.expiryIntervalMs ?? 1000;
    this.log = opts.logger;
    const mac = (n: bigint): bigint => n & 0xffffffffffffn;
    const port = (portNo: number, name: string, hwAddr: bigint): PortDesc => ({
      portNo, hwAddr, name, config: 0, state: OFPPS_LIVE, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
    });
    this.ports = [
      ...(opts.ports ?? []).map((p) => port(p.ofport, p.name, p.hwAddr ?? mac((this.datapathId << 8n) ^ BigInt(p.ofport)))),
      port(OFPP_LOCAL, this.name, mac(this.datapathId)),
    ];
    for (const t of controllerList(opts.controller)) this.conns.set(formatTarget(t), new SimControllerConn(this, t));
    if (this.conns.size === 0) throw new Error(`${this.name}: a simulated switch needs at least one controller`);
    // OVS sends FLOW_REMOVED to masters and equals; a slave's default async config leaves it out.
    this.flows.onRemoved((r) => {
      for (const c of this.conns.values()) if (c.session?.role !== OFPCR_ROLE_SLAVE) c.session?.sendFlowRemoved(r);
    });
  }

  /** The controller targets, in the order they were given. */
  get targets(): SimTarget[] {
    return [...this.conns.values()].map((c) => c.target);
  }

  /** The first controller target (the only one of a single-controller switch). */
  get target(): SimTarget {
    return this.targets[0]!;
  }

  /** 'connected' while any controller session is up, else the most advanced state of the connections. */
  get state(): SimState {
    if (this.stateValue === 'stopped') return 'stopped';
    const states = [...this.conns.values()].map((c) => c.state);
    return (['connected', 'connecting', 'backoff'] as const).find((s) => states.includes(s)) ?? 'backoff';
  }

  /** A session with a controller is up (HELLO exchanged). */
  get connected(): boolean {
    return [...this.conns.values()].some((c) => c.session?.negotiated === true);
  }

  /** Each controller's negotiated session and its role, as OVSDB's Controller.role would show it. */
  controllerRoles(): Array<{ target: string; role: 'equal' | 'master' | 'slave' }> {
    const names = { [OFPCR_ROLE_EQUAL]: 'equal', [OFPCR_ROLE_MASTER]: 'master', [OFPCR_ROLE_SLAVE]: 'slave' } as const;
    return [...this.conns].flatMap(([target, c]) => c.session?.negotiated
      ? [{ target, role: names[c.session.role as keyof typeof names] }] : []);
  }

  get portDescs(): readonly PortDesc[] {
    return this.ports;
  }

  /** Starts connecting to every controller (at once, then with backoff for as long as it runs). */
  start(): void {
    if (this.stateValue !== 'stopped' || this.stopping) return;
    this.stateValue = 'running';
    for (const c of this.conns.values()) c.start();
    this.expiryTimer = setInterval(() => this.flows.expire(), this.expiryIntervalMs);
    this.expiryTimer.unref();
  }

  /** Drops every connection and stops reconnecting; flows are kept (start() again resumes). */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    this.stateValue = 'stopped';
    this.stopping = Promise.all([...this.conns.values()].map((c) => c.stop())).then(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /**
   * The bridge's Controller rows changed (OVS connmgr_set_controllers): connections to targets no
   * longer listed close, new ones open, the others stay as they are (role included). Going from
   * some controllers to none, or from none to some, flushes the flow table (ofproto_flush_flows).
   */
  setControllers(targets: readonly (string | Target)[]): void {
    const had = this.conns.size > 0;
    const wanted = new Map(targets.map((t) => {
      const parsed = parseControllerTarget(t);
      return [formatTarget(parsed), parsed] as const;
    }));
    for (const [key, c] of this.conns) {
      if (wanted.has(key)) continue;
      this.conns.delete(key);
      void c.stop();
    }
    for (const [key, t] of wanted) {
      if (this.conns.has(key)) continue;
      const c = new SimControllerConn(this, t);
      this.conns.set(key, c);
      if (this.stateValue === 'running') c.start();
    }
    if (had !== this.conns.size > 0) this.flows.clear();
  }

  /** The flows as `ovs-ofctl -O OpenFlow13 --no-names dump-flows --no-stats` prints them (one line each). */
  dumpText(): string[] {
    return this.flows.flows().map((f) => ` ${formatFlow(f)}`);
  }

  // -------------------------------------------------------------------------------------------

  /** For a session: the HELLO exchange completed. */
  sessionUp(controller: string): void {
    this.counters.sessions++;
    this.events$.next({ type: 'connected', controller });
  }

  /** For a session: an event to publish. */
  emit(e: SimEvent): void {
    this.events$.next(e);
  }

  /** For a session that became master (OVS ofconn_set_role): every other master is made slave and told so. */
  demoteMastersBut(self: SimSession): void {
    for (const c of this.conns.values()) {
      const s = c.session;
      if (!s || s === self || s.role !== OFPCR_ROLE_MASTER) continue;
      s.role = OFPCR_ROLE_SLAVE;
      s.sendRoleStatus(OFPCR_ROLE_SLAVE, this.generationId ?? NO_GENERATION_ID);
    }
  }

}

/** One controller target's connection (OVS: an rconn): connects, and reconnects with doubling backoff. */
class SimControllerConn {
  state: SimState = 'stopped';
  session: SimSession | undefined;
  private socket: Socket | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopped = true;
  readonly key: string;

  constructor(private readonly sw: SimSwitch, readonly target: SimTarget) {
    this.key = formatTarget(target);
    this.backoffMs = sw.initialBackoffMs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.backoffMs = this.sw.initialBackoffMs;
    this.connectNow();
  }

  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.state = 'stopped';
    const sock = this.socket;
    if (!sock) return Promise.resolve();
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.destroy();
    return closed;
  }

  private connectNow(): void {
    this.state = 'connecting';
    const t = this.target;
    const sock = t.kind === 'tcp' ? connect(t.port, t.host) : connect(t.path);
    this.socket = sock;
    let openedAt: number | undefined;
    let reason = 'connection closed by peer';
    sock.on('error', (err) => {
      reason = err.message;
    });
    sock.once('connect', () => {
      openedAt = Date.now();
      this.state = 'connected';
      this.session = new SimSession(this.sw, sock, this.key, (r) => (reason = r));
    });
    sock.once('close', () => {
      this.session?.dispose();
      const hadSession = this.session !== undefined;
      this.session = undefined;
      this.socket = undefined;
      if (hadSession) {
        this.sw.log?.info({ bridge: this.sw.name, controller: this.key, reason }, 'simulated switch disconnected');
        this.sw.emit({ type: 'disconnected', controller: this.key, reason });
      }
      if (this.stopped) return;
      // As rconn: a connection that lived at least the current backoff resets it.
      if (openedAt !== undefined && Date.now() - openedAt >= this.backoffMs) this.backoffMs = this.sw.initialBackoffMs;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.sw.maxBackoffMs, this.backoffMs * 2);
      this.state = 'backoff';
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        if (!this.stopped) this.connectNow();
      }, delay);
    });
  }
}

/** The controller option as a list of targets. */
function controllerList(c: SimSwitchOptions['controller']): SimTarget[] {
  return (Array.isArray(c) ? c as readonly (string | Target)[] : [c as string | Target]).map(parseControllerTarget);
}

/** One session with a controller: framing, negotiation, requests, role, bundles, inactivity probe. */
class SimSession {
  negotiated = false;
  /** Every new session starts EQUAL (OVS clears an ofconn's role from one connection to the next). */
  role = OFPCR_ROLE_EQUAL;
  private readonly framer = new OfFramer();
  private readonly bundles: SessionBundles;
  private nextXid = 1;
  private configFlags = 0;
  private missSendLen = OFP_DEFAULT_MISS_SEND_LEN;
  private lastRx = Date.now();
  private probeSentAt: number | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly sw: SimSwitch,
    private readonly sock: Socket,
    private readonly controller: string,
    private readonly setReason: (reason: string) => void,
  ) {
    this.bundles = new SessionBundles(sw.flows);
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    // ovs-vswitchd's HELLO: its highest version in the header, the bitmap of what it allows.
    this.send({ type: 'hello', xid: this.allocXid(), versions: [OF13] });
    this.armProbe();
  }

  dispose(): void {
    this.closed = true;
    clearTimeout(this.probeTimer);
    this.bundles.clear();
  }

  sendFlowRemoved(r: RemovedFlow): void {
    if (!this.negotiated || this.closed) return;
    const f = r.flow;
    this.send({
      type: 'flow_removed', xid: 0, cookie: f.cookie, priority: f.priority, reason: r.reason, table: f.table,
      durationSec: f.durationSec, durationNsec: f.durationNsec, idleTimeout: f.idleTimeout, hardTimeout: f.hardTimeout,
      packetCount: 0n, byteCount: 0n, match: f.match,
    });
  }

  /** ONF ROLE_STATUS (OpenFlow 1.3's experimenter form), as OVS sends it to a demoted master. */
  sendRoleStatus(role: number, generationId: bigint): void {
    if (!this.negotiated || this.closed) return;
    this.send({ type: 'role_status', xid: 0, role, reason: OFPCRR_MASTER_REQUEST, generationId });
  }

  private close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.setReason(reason);
    this.sw.log?.warn({ bridge: this.sw.name, controller: this.controller, reason }, 'simulated switch drops its controller session');
    // Flush what was written (an error explaining the drop) before closing; a peer that does not close its side is cut.
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 1000).unref();
  }

  private allocXid(): number {
    const x = this.nextXid;
    this.nextXid = this.nextXid >= 0xfffffffe ? 1 : this.nextXid + 1;
    return x;
  }

  private send(m: OfMessage): void {
    if (!this.sock.destroyed) this.sock.write(encodeMessage(m));
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return; // closing: what still arrives is not answered
    this.lastRx = Date.now();
    this.probeSentAt = undefined;
    // Replies to one chunk's requests go out in as few writes as possible.
    this.sock.cork();
    const broken = this.framer.push(chunk, (raw) => {
      this.handle(raw);
      return !this.closed;
    });
    this.sock.uncork();
    if (broken !== undefined) {
      this.close(`malformed stream: ${broken}`);
      return;
    }
    // Back-pressure: a controller that does not read our replies stops being read, as vswitchd's rconn backlog does.
    if (this.sock.writableNeedDrain && !this.sock.isPaused()) {
      this.sock.pause();
      this.sock.once('drain', () => this.sock.resume());
    }
  }

  private handle(raw: Buffer): void {
    const version = raw[0]!;
    const type = raw[1]!;
    const xid = raw.readUInt32BE(4);
    if (!this.negotiated && type !== OfType.HELLO) {
      this.close(`expected HELLO, got message type ${type}`);
      return;
    }
    if (this.negotiated && version !== OF13 && !ANY_VERSION_TYPES.has(type)) {
      this.close(`received OpenFlow version ${version} after negotiating 1.3`);
      return;
    }
    const res = decodeMessage(raw);
    if (!res.ok) {
      this.sw.counters.decodeErrors++;
      // A FLOW_MOD whose command is unknown is the one decode failure OVS names precisely.
      const badCommand = type === OfType.FLOW_MOD && raw.length >= 26 && raw[25]! > 4;
      if (badCommand) this.sw.counters.flowModErrors++;
      this.sw.log?.debug({ bridge: this.sw.name, error: res.error.message }, 'undecodable message from the controller');
      // A message OVS refuses names its error (an unknown experimenter: OFPBRC_BAD_VENDOR).
      const refused = res.error instanceof RefusedMessage && res.error.errType !== undefined
        ? { errType: res.error.errType, code: res.error.code! } : undefined;
      this.send(errorMessage(badCommand ? OFPFMFC_BAD_COMMAND : refused ?? OFPBRC_BAD_LEN, xid, raw));
      return;
    }
    this.dispatch(res.msg, raw);
  }

  private fail(e: OfErrorCode, m: OfMessage, raw: Buffer): void {
    this.send(errorMessage(e, m.xid, raw));
  }

  private dispatch(m: OfMessage, raw: Buffer): void {
    const sw = this.sw;
    switch (m.type) {
      case 'hello':
        this.negotiate(m, raw);
        return;
      case 'echo_request':
        this.send({ type: 'echo_reply', xid: m.xid, data: m.data });
        return;
      case 'echo_reply':
      case 'error':
        return;
      case 'packet_out': // no datapath to send it to; a slave's is refused as OVS refuses it
        if (this.role === OFPCR_ROLE_SLAVE) this.fail(OFPBRC_IS_SLAVE, m, raw);
        return;
      case 'features_request':
        this.send({
          type: 'features_reply', xid: m.xid, datapathId: sw.datapathId, nBuffers: 0, nTables: 254, auxiliaryId: 0,
          capabilities: OVS_CAPABILITIES,
        });
        return;
      case 'get_config_request':
        this.send({ type: 'get_config_reply', xid: m.xid, flags: this.configFlags, missSendLen: this.missSendLen });
        return;
      case 'set_config':
        this.configFlags = m.flags;
        this.missSendLen = m.missSendLen;
        return;
      case 'barrier_request':
        // Every earlier message was handled synchronously: the barrier holds by construction.
        this.send({ type: 'barrier_reply', xid: m.xid });
        sw.counters.barriers++;
        sw.emit({ type: 'barrier', xid: m.xid });
        return;
      case 'role_request':
        this.roleRequest(m, raw);
        return;
      case 'flow_mod': {
        if (this.role === OFPCR_ROLE_SLAVE) return this.fail(OFPBRC_IS_SLAVE, m, raw);
        const error = sw.flows.apply(m);
        if (error) {
          sw.counters.flowModErrors++;
          this.fail(error, m, raw);
        } else {
          sw.counters.flowMods++;
        }
        return;
      }
      case 'bundle_control':
        this.bundleControl(m, raw);
        return;
      case 'bundle_add': {
        if (this.role === OFPCR_ROLE_SLAVE) return this.fail(OFPBRC_IS_SLAVE, m, raw);
        const replies = this.bundles.add(m, raw);
        if (replies.length) sw.counters.flowModErrors++;
        for (const r of replies) this.send(r);
        return;
      }
      case 'flow_stats_request':
        if (m.flags & OFPMPF_MORE) return this.fail(OFPBRC_MULTIPART_BUFFER_OVERFLOW, m, raw);
        this.flowStats(m.xid, m.request);
        return;
      case 'port_desc_request':
        if (m.flags & OFPMPF_MORE) return this.fail(OFPBRC_MULTIPART_BUFFER_OVERFLOW, m, raw);
        this.send({ type: 'port_desc_reply', xid: m.xid, flags: 0, ports: sw.portDescs });
        return;
      case 'desc_request':
        if (m.flags & OFPMPF_MORE) return this.fail(OFPBRC_MULTIPART_BUFFER_OVERFLOW, m, raw);
        this.send({ type: 'desc_reply', xid: m.xid, flags: 0, desc: DESC });
        return;
      case 'multipart_request':
        if (m.flags & OFPMPF_MORE) return this.fail(OFPBRC_MULTIPART_BUFFER_OVERFLOW, m, raw);
        return this.fail(OFPBRC_BAD_MULTIPART, m, raw);
      case 'experimenter':
        this.fail(OFPBRC_BAD_EXPERIMENTER, m, raw);
        return;
      default:
        // Replies and asynchronous messages are not requests; unknown types are unknown.
        this.fail(OFPBRC_BAD_TYPE, m, raw);
    }
  }

  private negotiate(m: MessageOf<'hello'>, raw: Buffer): void {
    if (this.negotiated) return;
    const ok = m.versions.length ? m.versions.includes(OF13) : raw[0]! >= OF13;
    if (!ok) {
      this.send(errorMessage(OFPET_HELLO_FAILED_INCOMPATIBLE, m.xid, Buffer.from('We support version 0x04, you support no later than version 0x0' + raw[0]!.toString(16) + '.')));
      this.close('controller does not support OpenFlow 1.3');
      return;
    }
    this.negotiated = true;
    this.sw.sessionUp(this.controller);
  }

  /** OVS handle_role_request: the generation is the switch's, a stale one is refused and changes nothing. */
  private roleRequest(m: RoleMessage, raw: Buffer): void {
    const sw = this.sw;
    if (m.role !== OFPCR_ROLE_NOCHANGE) {
      if (m.role !== OFPCR_ROLE_EQUAL) {
        if (sw.generationId !== undefined && BigInt.asIntN(64, m.generationId - sw.generationId) < 0n) {
          return this.fail(OFPRRFC_STALE, m, raw);
        }
        sw.generationId = m.generationId;
      }
      if (m.role === OFPCR_ROLE_MASTER && this.role !== OFPCR_ROLE_MASTER) sw.demoteMastersBut(this);
      this.role = m.role;
    }
    this.send({ type: 'role_reply', xid: m.xid, role: this.role, generationId: sw.generationId ?? NO_GENERATION_ID });
    if (m.role === OFPCR_ROLE_MASTER) sw.emit({ type: 'master', controller: this.controller, generationId: m.generationId });
  }

  private bundleControl(m: MessageOf<'bundle_control'>, raw: Buffer): void {
    if (this.role === OFPCR_ROLE_SLAVE) return this.fail(OFPBRC_IS_SLAVE, m, raw);
    const { replies, commit } = this.bundles.control(m, raw);
    for (const r of replies) this.send(r);
    if (!commit) return;
    const c = this.sw.counters;
    if (commit.ok) {
      c.bundlesCommitted++;
      c.flowMods += commit.flowMods;
    } else {
      c.bundlesFailed++;
      c.flowModErrors++;
    }
    this.sw.emit({ type: 'bundle', ...commit });
  }

  /** Flow stats in as many replies as needed, each up to 64 KiB, all but the last with REPLY_MORE (as OVS's ofpmp). */
  private flowStats(xid: number, request: FlowStatsRequest): void {
    const w = new Writer(1 << 16);
    let msgStart = 0;
    const begin = (): void => {
      msgStart = w.pos;
      writeMessage(w, { type: 'flow_stats_reply', xid, flags: 0, flows: [] });
    };
    const end = (): void => void w.patch16(msgStart + 2, w.pos - msgStart);
    begin();
    this.sw.flows.writeStats(request, w, (len) => {
      if (w.pos - msgStart + len <= MAX_MESSAGE) return;
      end();
      w.patch16(msgStart + 10, OFPMPF_MORE);
      begin();
    });
    end();
    this.sock.write(w.finish());
  }

  /** ovs-vswitchd's inactivity probe: an echo after probeInterval idle, the session dropped after another. */
  private armProbe(): void {
    const interval = this.sw.probeIntervalMs;
    if (interval <= 0 || this.closed) return;
    const now = Date.now();
    const due = this.probeSentAt === undefined ? this.lastRx + interval : this.probeSentAt + interval;
    this.probeTimer = setTimeout(() => {
      if (this.closed) return;
      const t = Date.now();
      if (this.probeSentAt !== undefined && t >= this.probeSentAt + interval) {
        this.close(`no response to inactivity probe after ${interval / 1000} seconds`);
        return;
      }
      if (this.probeSentAt === undefined && t >= this.lastRx + interval) {
        this.probeSentAt = t;
        this.send({ type: 'echo_request', xid: this.allocXid(), data: Buffer.alloc(0) });
      }
      this.armProbe();
    }, Math.max(0, due - now));
    this.probeTimer.unref();
  }
}
