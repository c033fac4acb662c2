// Many simulated switches at once (scale tests and benches): datapath ids dpidBase, dpidBase+1, …
import type { Target } from '../../lib/switch/target.js';
import { SimSwitch, SimSwitchOptions } from './sim-switch.js';

export type SimFleetOptions = Omit<SimSwitchOptions, 'datapathId' | 'controller' | 'name'> & {
  /** Bridge name of switch i: `${namePrefix}${i}` (default: derived from the datapath id). */
  readonly namePrefix?: string;
};

/** Creates and starts n switches that all connect to one controller. */
export function startSimSwitches(n: number, controller: string | Target, dpidBase: bigint, opts: SimFleetOptions = {}): SimSwitch[] {
  const { namePrefix, ...rest } = opts;
  const switches: SimSwitch[] = [];
  for (let i = 0; i < n; i++) {
    const sw = new SimSwitch({
      ...rest, datapathId: dpidBase + BigInt(i), controller, ...(namePrefix !== undefined ? { name: `${namePrefix}${i}` } : {}),
    });
    sw.start();
    switches.push(sw);
  }
  return switches;
}

export async function stopSimSwitches(switches: readonly SimSwitch[]): Promise<void> {
  await Promise.all(switches.map((s) => s.stop()));
}
