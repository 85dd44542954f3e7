// At most `limit` tasks at once: the swarm's setup and its reclaim burst, so that a thousand clients do not all
// open their connection (or send their EXCHANGE_ID) in the same millisecond unless asked to.

export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
