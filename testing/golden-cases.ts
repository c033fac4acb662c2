// The golden-flow cases (fixtures/goldens/cases.json): each renders some hosts of a topology with a
// profile; the expected flows live in fixtures/goldens/<case>/<host>.<bridge>.flows.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deriveHostState } from '../lib/state/host-state.js';
import { readTopology } from '../lib/topology/model.js';
import { BridgeName, BRIDGES, renderText } from '../pipelines/index.js';
import { FirewallDriver, pipelineOptions, Profile } from '../pipelines/options.js';

export interface GoldenCase {
  readonly name: string;
  readonly topology: string;
  readonly hosts: readonly string[];
  readonly profile: Profile;
  readonly l2pop?: boolean;
  readonly arpResponder?: boolean;
  readonly firewall?: FirewallDriver;
}

export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export function goldenCases(): GoldenCase[] {
  return JSON.parse(readFileSync(`${FIXTURES}goldens/cases.json`, 'utf8')) as GoldenCase[];
}

export function goldenPath(c: GoldenCase, host: string, bridge: BridgeName): string {
  return `${FIXTURES}goldens/${c.name}/${host}.${bridge}.flows`;
}

/** Renders every host and bridge of a case: [host, bridge, sorted lines]. */
export function renderCase(c: GoldenCase): Array<[string, BridgeName, string[]]> {
  const topo = readTopology(`${FIXTURES}topologies/${c.topology}`);
  const opts = pipelineOptions({ profile: c.profile, l2pop: c.l2pop ?? false, arpResponder: c.arpResponder ?? false, firewall: c.firewall ?? 'noop' });
  return c.hosts.flatMap((h) => {
    const state = deriveHostState(topo, h);
    return BRIDGES.map((b): [string, BridgeName, string[]] => [h, b, renderText(state, b, opts)]);
  });
}
