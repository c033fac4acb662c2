// Pipeline options: the profile and Neutron's two l2pop switches, plus the cookies that mark our flows.
import { createHash } from 'node:crypto';

export type Profile = 'neutron' | 'classic';

/** Neutron's firewall_driver: `noop` (br-int's anti-spoofing only) or `openvswitch` (security groups in br-int). */
export type FirewallDriver = 'noop' | 'openvswitch';
export const FIREWALL_DRIVERS: readonly FirewallDriver[] = ['noop', 'openvswitch'];

export interface PipelineOptions {
  readonly profile: Profile;
  /** l2_population: static unicast entries and per-network flooding lists. */
  readonly l2pop: boolean;
  /** arp_responder (effective only with l2pop, as in Neutron). */
  readonly arpResponder: boolean;
  /** The firewall driver (the neutron profile only). */
  readonly firewall: FirewallDriver;
  /** Cookies per bridge; classic flows carry none. */
  readonly cookies: { readonly brTun: bigint; readonly brInt: bigint };
}

/**
 * Deterministic cookies from a controller id: the same controller always writes the same cookies,
 * so a restart finds its own flows unchanged (Neutron draws a random cookie at every start).
 */
export function cookiesFor(controllerId: string): PipelineOptions['cookies'] {
  const c = (bridge: string): bigint => createHash('sha256').update(`${controllerId}/${bridge}`).digest().readBigUInt64BE(0);
  return { brTun: c('br-tun'), brInt: c('br-int') };
}

export function pipelineOptions(o: Partial<Omit<PipelineOptions, 'cookies'>> & { controllerId?: string } = {}): PipelineOptions {
  const profile = o.profile ?? 'neutron';
  return {
    profile,
    l2pop: o.l2pop ?? false,
    arpResponder: o.arpResponder ?? false,
    firewall: o.firewall ?? 'noop',
    cookies: profile === 'classic' ? { brTun: 0n, brInt: 0n } : cookiesFor(o.controllerId ?? 'ofctl-ts'),
  };
}
