// Collects uncaught exceptions instead of dying (or, under mocha, failing whichever test runs):
// for fuzzing code whose crashes surface asynchronously (socket handlers, rxjs rethrows on a timer).
export class UncaughtCollector {
  private caught: unknown[] = [];
  private readonly listener = (err: unknown): void => void this.caught.push(err);
  private readonly setAside = process.listeners('uncaughtException');

  constructor() {
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', this.listener);
  }

  /** The exceptions collected since the last call. */
  take(): unknown[] {
    const out = this.caught;
    this.caught = [];
    return out;
  }

  /** Puts the previous listeners back. */
  restore(): void {
    process.removeListener('uncaughtException', this.listener);
    for (const l of this.setAside) process.on('uncaughtException', l);
  }
}
