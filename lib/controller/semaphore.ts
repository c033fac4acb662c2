// At most N of something at a time (OVSDB connects, agent passes): a thousand hosts appearing in
// one topology snapshot must not all render, encode and send their pipelines at once, or the
// controller's memory peaks with every bundle in flight.
export class Semaphore {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}
