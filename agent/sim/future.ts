// The simulator's PromiseLike: settled by the simulated world, it calls its callbacks at once, inside the world's
// event, rather than on Node's microtask queue, so that a seed stays one synchronous, ordered, replayable run.
// A callback that throws is not caught: the throw reaches the world, which counts a throwing core as a violation.

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export class Future<T> implements PromiseLike<T> {
  private settled: Settled<T> | null = null;
  private waiters: Array<(s: Settled<T>) => void> = [];

  static resolved<T>(value: T): Future<T> {
    const f = new Future<T>();
    f.resolve(value);
    return f;
  }

  get pending(): boolean {
    return this.settled === null;
  }

  /** The first settlement counts; later ones (a result after its deadline) are ignored, as a promise ignores them. */
  resolve(value: T): void {
    this.settle({ ok: true, value });
  }

  reject(error: unknown): void {
    this.settle({ ok: false, error });
  }

  then<A = T, B = never>(
    onOk?: ((value: T) => A | PromiseLike<A>) | null,
    onErr?: ((error: unknown) => B | PromiseLike<B>) | null,
  ): Future<A | B> {
    const next = new Future<A | B>();
    const run = (s: Settled<T>) => {
      if (s.ok) {
        if (onOk) next.follow(onOk(s.value));
        else next.resolve(s.value as unknown as A);
      } else if (onErr) {
        next.follow(onErr(s.error));
      } else {
        next.reject(s.error);
      }
    };
    if (this.settled) run(this.settled);
    else this.waiters.push(run);
    return next;
  }

  private follow(v: T | PromiseLike<T>): void {
    if (isThenable(v)) v.then((x) => this.resolve(x), (e) => this.reject(e));
    else this.resolve(v);
  }

  private settle(s: Settled<T>): void {
    if (this.settled) return;
    this.settled = s;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(s);
  }
}

function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<T>).then === 'function';
}
