// client1, the lab's NFS client (libnfs): single reads and writes that retry as an application's client would
// (libnfs exits at once during a grace period or while no server answers), and a writer that puts a new file every
// 100 ms and reads it back, remembering every write it was told had succeeded.
import { writeFileSync } from 'node:fs';
import { sh } from './exec.ts';
import { onNode } from './mountns.ts';
import { labPath } from './state.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An export's URL base, e.g. exportUrl('198.51.100.11', '/srv1') → nfs://198.51.100.11/srv1. */
export const exportUrl = (address: string, pseudo: string) => `nfs://${address}${pseudo}`;
const v4 = (base: string, name: string) => `${base}/${name}?version=4`;

/** Retries `what` every 200 ms until it succeeds or `timeoutMs` has passed (then throws its last error). */
export async function retry<T>(what: () => Promise<T>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await what();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(200);
    }
  }
}

/** Writes a new file (libnfs refuses to overwrite) on the export at `base`. */
export async function putFile(prefix: string, base: string, name: string, content: string, timeoutMs = 20_000): Promise<void> {
  const local = labPath(prefix, `client-${name}`);
  writeFileSync(local, content);
  await retry(() => sh(onNode(prefix, 'client1', ['nfs-cp', local, v4(base, name)]), { timeoutMs: 5000 }), timeoutMs);
}

export function getFile(prefix: string, base: string, name: string, timeoutMs = 20_000): Promise<string> {
  return retry(() => sh(onNode(prefix, 'client1', ['nfs-cat', v4(base, name)]), { timeoutMs: 5000 }), timeoutMs);
}

/** The client at work: a new file every `everyMs`, each read back; what was acknowledged, and when it last worked. */
export class Writer {
  readonly acked = new Map<string, string>();
  failures = 0;
  lastOkAt = 0;
  /** Every moment a write and its read-back both succeeded (wall-clock ms). */
  readonly okTimes: number[] = [];
  /** When each of those successful write + read-backs began, index for index. */
  readonly okStartTimes: number[] = [];
  private n = 0;
  private running = true;
  private paused = false;
  private readonly done: Promise<void>;

  constructor(private readonly prefix: string, private readonly base: string, private readonly everyMs = 100, private readonly tag = 'f') {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      if (this.paused) {
        await sleep(20);
        continue;
      }
      const started = Date.now();
      const name = `${this.tag}${String(++this.n).padStart(5, '0')}.txt`;
      const content = `file ${this.n}, written ${new Date(started).toISOString()}\n`;
      const local = labPath(this.prefix, `client-${name}`);
      try {
        // Inside the try: a writer still running while its lab is removed fails its writes, not the process.
        writeFileSync(local, content);
        await sh(onNode(this.prefix, 'client1', ['nfs-cp', local, v4(this.base, name)]), { timeoutMs: 5000 });
        this.acked.set(name, content);
        const back = await sh(onNode(this.prefix, 'client1', ['nfs-cat', v4(this.base, name)]), { timeoutMs: 5000 });
        if (back === content) {
          this.lastOkAt = Date.now();
          this.okTimes.push(this.lastOkAt);
          this.okStartTimes.push(started);
        }
      } catch {
        this.failures++;
      }
      await sleep(Math.max(0, this.everyMs - (Date.now() - started)));
    }
  }

  /**
   * The first moment after `since` at which a write and its read-back both succeeded. With `begunAfter`, only one
   * begun after `since` counts: one already under way at a crash can still finish just after it.
   */
  async okAfter(since: number, timeoutMs: number, begunAfter = false): Promise<number> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = (begunAfter ? this.okStartTimes : this.okTimes).findIndex((t) => t > since);
      if (i >= 0) return this.okTimes[i]!;
      if (Date.now() > end) throw new Error(`the client did not write and read ${this.base} again within ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  /** The longest gap between two successful write + read-backs (ms): the client's outage. */
  longestGapMs(): number {
    let longest = 0;
    for (let i = 1; i < this.okTimes.length; i++) longest = Math.max(longest, this.okTimes[i]! - this.okTimes[i - 1]!);
    return longest;
  }

  /**
   * No new write + read-back until resume(): each is a new NFSv4.0 client (libnfs) that the server keeps on record
   * for a lease, and a client on record that never reclaims holds a Ganesha that takes the group over in grace.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  /** Reads every acknowledged file back; returns the names that are missing or wrong. */
  async lost(timeoutMs = 20_000): Promise<string[]> {
    const lost: string[] = [];
    for (const [name, content] of this.acked) {
      const back = await getFile(this.prefix, this.base, name, timeoutMs).catch(() => null);
      if (back !== content) lost.push(name);
    }
    return lost;
  }
}
