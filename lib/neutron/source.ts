// Neutron's agent RPC as a topology source: the served hosts (from the hosts file) entered first,
// one AMQP client, and the agent that maps what the server says into the store. The controller
// hands the agent its hosts' plugged ports and converged states (ControllerOptions.onPlugged /
// onConverged), which drive the device loop.
import type { FirewallDriver } from '../../pipelines/options.js';
import type { Controller, ControllerOptions } from '../controller/controller.js';
import type { Logger } from '../log.js';
import type { HostEvent } from '../topology/events.js';
import type { Source } from '../topology/sources.js';
import { TopologyStore, where } from '../topology/store.js';
import { NeutronAgent } from './agent.js';
import { NeutronRpc, QueueOptions, redactUrl, RpcOptions } from './rpc.js';

export interface NeutronSourceOptions {
  /** The broker, credentials included (never logged). */
  readonly url: string;
  /** The hosts spoken for, and their lines as read (entered into the store as the topology's hosts). */
  readonly hosts: readonly HostEvent[];
  readonly hostLines: readonly string[];
  /** Where the host lines came from (for errors). */
  readonly hostsFile: string;
  readonly queues?: Partial<QueueOptions>;
  readonly exchange?: string;
  /** For amqps: the CA, and a client certificate and key when the broker asks for one. */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  readonly reportIntervalS: number;
  readonly callTimeoutS: number;
  readonly arpResponder: boolean;
  readonly firewall: FirewallDriver;
  readonly datapathType: string;
  readonly log: Logger;
  /** Stops the wait for a broker at start (the source is then not made: undefined). */
  readonly signal?: AbortSignal;
  /** One replica among several: the agent speaks for no host until the cluster says it leads it (NeutronAgentOptions.replicated). */
  readonly replicated?: boolean;
  /** Backoff while the broker cannot be reached at start (default CONNECT_RETRY). */
  readonly retry?: { readonly initialMs: number; readonly maxMs: number };
}

/** A broker not there yet at start is tried again after 1 s, 2 s, 4 s… at most 30 s apart, as the agent does. */
const CONNECT_RETRY = { initialMs: 1000, maxMs: 30_000 };

/** What no retry mends: the operator must (credentials, vhost, settings the broker or oslo refuse). */
const FATAL = /ACCESS_REFUSED|NOT_ALLOWED|ACCESS-REFUSED|PRECONDITION_FAILED|Configuration Error|the scheme must be|certificate|self.signed|CERT_/i;

async function connectPatiently(opts: RpcOptions, retry: { readonly initialMs: number; readonly maxMs: number }, signal?: AbortSignal): Promise<NeutronRpc | undefined> {
  for (let failures = 0; !signal?.aborted; failures++) {
    try {
      return await NeutronRpc.connect(opts);
    } catch (err) {
      const msg = (err as Error).message;
      if (FATAL.test(msg)) throw err;
      const delay = Math.min(retry.initialMs * 2 ** failures, retry.maxMs);
      opts.log.warn({ err: msg, failures: failures + 1, retryInMs: delay }, 'neutron rpc: cannot reach the broker yet; nothing is written on any host until it answers');
      await new Promise<void>((r) => {
        const timer = setTimeout(r, delay);
        signal?.addEventListener('abort', () => (clearTimeout(timer), r()), { once: true });
      });
    }
  }
  return undefined;
}

export interface NeutronSource extends Source {
  readonly agent: NeutronAgent;
  /** The Controller options that let the agent drive and hold its hosts. */
  readonly controllerHooks: Pick<ControllerOptions, 'onPlugged' | 'onConverged' | 'gate'>;
  /** Hands the agent the controller, whose hosts it wakes when their first sync is done. */
  bind(ctl: Pick<Controller, 'wake' | 'programmedOn'>): void;
}

export async function neutronSource(store: TopologyStore, o: NeutronSourceOptions): Promise<NeutronSource | undefined> {
  const bad = store.applyBatch(o.hostLines, o.hostsFile);
  if (bad.length) throw new Error(`--neutron-hosts ${o.hostsFile}: ${bad.map((r) => `${where(r)}: ${r.error}`).join('; ')}`);
  const rpc = await connectPatiently({
    url: o.url, log: o.log, ...(o.queues ? { queues: o.queues } : {}), ...(o.exchange ? { exchange: o.exchange } : {}), ...(o.tls ? { tls: o.tls } : {}),
  }, o.retry ?? CONNECT_RETRY, o.signal);
  if (!rpc) return undefined;
  const agent = new NeutronAgent(rpc, store, {
    hosts: o.hosts, reportIntervalS: o.reportIntervalS, callTimeoutS: o.callTimeoutS, l2pop: true,
    arpResponder: o.arpResponder, firewall: o.firewall, datapathType: o.datapathType, log: o.log, ...(o.replicated ? { replicated: true } : {}),
  });
  // The bus came back (RabbitMQ restarted, the connection dropped): a full resync, as the agent
  // does after an RPC failure; nothing is removed for want of news.
  const unsubscribe = rpc.onState((st) => {
    if (st.state === 'reconnected') {
      o.log.warn('neutron rpc: reconnected; full resync');
      void agent.resync();
    }
  });
  const stop = async (): Promise<void> => {
    unsubscribe();
    agent.stop();
    await rpc.close();
  };
  try {
    await agent.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name: `neutron-rpc ${redactUrl(o.url)} for ${o.hosts.map((h) => h.name).join(', ')}`, agent, stop,
    controllerHooks: {
      onPlugged: (h, ids) => agent.plugged(h, ids), onConverged: (h, st) => agent.converged(h, st), gate: (h) => agent.ready(h),
    },
    bind: (ctl) => {
      agent.onReady = (h) => ctl.wake(h);
      agent.programmedOn = (h) => ctl.programmedOn(h);
    },
  };
}
