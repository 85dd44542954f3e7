// The mailbox's I/O: jobs of sector writes (each read back and compared) and reads, one job at a time, each with a
// deadline, on libuv's thread pool (direct-io.ts).
//
// A disk that hangs leaves a pool thread stuck in a system call that nothing in Node can interrupt. So a job past
// its deadline is rejected at once but stays in flight: further jobs are refused as busy until it returns
// (queueing them would only pile up work behind the same hung disk, and each would hold another of the pool's
// threads, which the agent's other file I/O needs), and close() returns without waiting for it. For the same
// reason a device whose open, or a job of an earlier opening, is still stuck is not opened again: a hung disk holds
// at most one pool thread. (The process cannot end either until that call returns: true of any thread, as it was of
// the worker thread that did this I/O before, at 10 MB of memory more.)
import { SectorDevice, type SectorDeviceInfo } from './direct-io.ts';

export interface IoJob {
  /** Done first, in order; each is verified by reading it back. */
  writes: Array<{ offset: number; bytes: Uint8Array }>;
  reads: Array<{ offset: number; length: number }>;
}

/** How long close() waits for the descriptor to close: on a hung disk the close itself may block. */
const CLOSE_WAIT_MS = 200;
/** The most one read transfers: reads of adjacent sectors are merged into one up to this size. */
const MAX_MERGED_READ_BYTES = 64 * 1024;

/** Devices with an abandoned call still in flight (past its deadline, or its opener gone), and what it is. */
const stuck = new Map<string, string>();

interface InFlight {
  startedAt: number;
  /** Null once the caller has given up on the job (deadline or close): its answer is dropped. */
  answer: ((result: { reads: Uint8Array[] } | { error: Error }) => void) | null;
}

export class DiskJobs {
  private inFlight: InFlight | null = null;
  /** Why jobs are refused from now on (closed). */
  private ended: string | null = null;

  private constructor(private readonly device: SectorDevice) {}

  get info(): SectorDeviceInfo {
    return this.device.info;
  }

  /** Opens `device`; rejects if that fails or takes longer than `deadlineMs`. */
  static start(device: string, deadlineMs: number): Promise<DiskJobs> {
    const before = stuck.get(device);
    if (before !== undefined) return Promise.reject(new Error(`${device}: busy: ${before} has not returned (disk hung?)`));
    const opening = SectorDevice.open(device);
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        stuck.set(device, 'an earlier open');
        reject(new Error(`${device}: not opened within ${deadlineMs} ms (disk hung?)`));
      }, deadlineMs);
      opening.then((opened) => {
        clearTimeout(timer);
        if (!late) return resolve(new DiskJobs(opened));
        stuck.delete(device);
        void opened.close().catch(() => {});
      }, (err: Error) => {
        clearTimeout(timer);
        if (late) stuck.delete(device);
        else reject(err);
      });
    });
  }

  /** Runs one job: resolves with the bytes of its reads, in order. */
  run(job: IoJob, deadlineMs: number): Promise<Uint8Array[]> {
    const { path } = this.info;
    if (this.ended) return Promise.reject(new Error(`${path}: ${this.ended}`));
    if (this.inFlight) {
      const age = Math.round(performance.now() - this.inFlight.startedAt);
      return Promise.reject(new Error(`${path}: busy: the I/O started ${age} ms ago has not returned (disk hung?)`));
    }
    return new Promise((resolve, reject) => {
      const flight: InFlight = {
        startedAt: performance.now(),
        answer: (result) => {
          clearTimeout(timer);
          if ('reads' in result) resolve(result.reads);
          else reject(result.error);
        },
      };
      const timer = setTimeout(() => {
        this.abandon(flight);
        reject(new Error(`${path}: no answer from the disk within ${deadlineMs} ms`));
      }, deadlineMs);
      this.inFlight = flight;
      this.carryOut(job).then((reads) => ({ reads }), (error: Error) => ({ error })).then((result) => {
        this.inFlight = null;
        if (flight.answer === null) stuck.delete(path);
        flight.answer?.(result);
      });
    });
  }

  /** Refuses jobs from now on and closes the device; returns within CLOSE_WAIT_MS even if the disk is hung. */
  async close(): Promise<void> {
    this.ended ??= 'closed';
    if (this.inFlight) {
      this.inFlight.answer?.({ error: new Error(`${this.info.path}: closed`) });
      this.abandon(this.inFlight);
    }
    let timer: NodeJS.Timeout | undefined;
    const closing = this.device.close().catch(() => {});
    await Promise.race([closing, new Promise((resolve) => { timer = setTimeout(resolve, CLOSE_WAIT_MS); })]);
    clearTimeout(timer);
  }

  private abandon(flight: InFlight): void {
    if (flight.answer === null) return;
    flight.answer = null;
    stuck.set(this.info.path, 'a job of an earlier opening');
  }

  private async carryOut(job: IoJob): Promise<Uint8Array[]> {
    for (const { offset, bytes } of job.writes) await this.device.write(offset, bytes);
    // The reads of a mailbox cycle are mostly adjacent sectors: one transfer per run of them, not one per sector.
    const spans: Array<{ offset: number; length: number; bytes?: Buffer }> = [];
    for (const { offset, length } of [...job.reads].sort((a, b) => a.offset - b.offset)) {
      const last = spans.at(-1);
      const end = offset + length;
      if (last && offset <= last.offset + last.length && end - last.offset <= MAX_MERGED_READ_BYTES) {
        last.length = Math.max(last.length, end - last.offset);
      } else {
        spans.push({ offset, length });
      }
    }
    for (const span of spans) span.bytes = await this.device.read(span.offset, span.length);
    return job.reads.map(({ offset, length }) => {
      const span = spans.find((s) => offset >= s.offset && offset + length <= s.offset + s.length)!;
      return span.bytes!.subarray(offset - span.offset, offset - span.offset + length);
    });
  }
}
