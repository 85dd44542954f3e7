// The newest heartbeat heard from the partner, kept on local storage, so that packets captured before an agent
// restart are replays after it too. The replay guard starts from this mark: older generations, and the mark's own
// generation up to its sequence, are refused. It is written when the generation changes and at most once per
// MARK_EVERY_MS otherwise, so what a restart leaves open is at most that last stretch of the partner's current
// generation, seconds old.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogFn } from '../ports.ts';
import type { Mark } from './heartbeat-replay.ts';

export const MARK_EVERY_MS = 1000;

export class HeardMark {
  /** The last mark handed to the writer, and when. */
  private noted: Mark | null;
  private notedAt = -Infinity;
  private writing = false;
  private pending: Mark | null = null;

  private constructor(private readonly path: string, private readonly log: LogFn, readonly initial: Mark | null) {
    this.noted = initial;
  }

  /** The mark left by the previous run, if any; a file that does not parse is reported and ignored. */
  static async open(stateDir: string, pair: string, partner: string, log: LogFn): Promise<HeardMark> {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const path = join(stateDir, `${pair}-${partner}.heard`);
    let initial: Mark | null = null;
    try {
      const [gen, seq] = (await readFile(path, 'utf8')).trim().split(' ').map(Number);
      if (Number.isSafeInteger(gen) && Number.isSafeInteger(seq)) initial = { gen: gen!, seq: seq! };
      else log('warn', `${path}: not a heartbeat mark; replays from before this start are refused only by generation`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new HeardMark(path, log, initial);
  }

  /** A fresh heartbeat of the partner's was accepted at `now` (monotonic ms). Never throws; writes in the background. */
  heard(mark: Mark, now: number): void {
    const newGen = this.noted === null || mark.gen !== this.noted.gen;
    if (!newGen && now - this.notedAt < MARK_EVERY_MS) return;
    this.noted = mark;
    this.notedAt = now;
    this.pending = mark;
    if (!this.writing) void this.flush();
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending) {
        const mark = this.pending;
        this.pending = null;
        await this.write(mark);
      }
    } catch (err) {
      this.log('warn', `cannot record the partner's newest heartbeat in ${this.path}: ${(err as Error).message}`);
    } finally {
      this.writing = false;
    }
  }

  private async write(mark: Mark): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const f = await open(tmp, 'w', 0o600);
    try {
      await f.writeFile(`${mark.gen} ${mark.seq}\n`);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, this.path);
  }
}
