// Hang detection for synchronous fuzz loops: a loop stuck in one input cannot time itself out, so
// a worker thread watches a heartbeat in shared memory and, when it stops for `limitMs`, prints
// which input hung (campaign and index: enough to reproduce it) and kills the process.
import { Worker } from 'node:worker_threads';

/** Campaign numbers for the heartbeat (the worker prints the name). */
const CAMPAIGNS = ['openflow', 'flow text', 'ovsdb', 'ovsdb client', 'openflow sessions'] as const;
export type CampaignName = (typeof CAMPAIGNS)[number];

export class Watchdog {
  /** [0] beats, [1] campaign number, [2] input index. */
  private readonly beat = new Int32Array(new SharedArrayBuffer(12));
  private readonly worker: Worker;

  constructor(limitMs: number, seed: number) {
    this.worker = new Worker(new URL('./watchdog-worker.js', import.meta.url), {
      workerData: { beat: this.beat, limitMs, seed, campaigns: CAMPAIGNS },
    });
    this.worker.unref();
  }

  /** Called before each input. */
  tick(campaign: CampaignName, index: number): void {
    Atomics.store(this.beat, 1, CAMPAIGNS.indexOf(campaign));
    Atomics.store(this.beat, 2, index);
    Atomics.add(this.beat, 0, 1);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
