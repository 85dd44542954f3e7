// The event loop's side of the mailbox's I/O thread (worker.ts): one job at a time, each with a deadline.
//
// A disk that hangs leaves the thread stuck in a system call that nothing in Node can interrupt, not even
// Worker.terminate(), which takes effect only once the call returns. So a job past its deadline is rejected at
// once but stays in flight: further jobs are refused as busy until it returns (queueing them would only pile up
// work behind the same hung disk), and close() ends the thread without waiting for it beyond a moment.
import { Worker } from 'node:worker_threads';
import { threadBoot } from '../process/thread-boot.ts';
import type { SectorDeviceInfo } from './direct-io.ts';
import type { IoJob, IoMessage, IoWorkerData } from './worker.ts';

const BOOT = threadBoot(import.meta.url, 'worker');

/** How long close() waits for the thread to end: one stuck in a disk system call ends when the call returns. */
const CLOSE_WAIT_MS = 200;

type JobResult = Extract<IoMessage, { type: 'done' | 'failed' }>;

interface InFlight {
  id: number;
  startedAt: number;
  /** Null once the caller has given up on the job (deadline or close): its answer is dropped. */
  answer: ((result: JobResult) => void) | null;
}

export class IoThread {
  private nextId = 1;
  private inFlight: InFlight | null = null;
  /** Why jobs are refused from now on: the thread ended, failed or was closed. */
  private ended: string | null = null;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker, readonly info: SectorDeviceInfo) {
    worker.on('message', (message: IoMessage) => this.receive(message));
    worker.on('error', (err) => {
      this.ended ??= `the I/O thread failed: ${err.message}`;
    });
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => {
        this.ended ??= 'the I/O thread exited';
        this.giveUp(this.ended);
        resolve();
      });
    });
  }

  /** Starts the thread and opens `device` in it; rejects if that fails or takes longer than `deadlineMs`. */
  static start(device: string, deadlineMs: number): Promise<IoThread> {
    // trackUnmanagedFds: Node closes the device's descriptor when the thread ends, even by terminate(), which
    // runs none of the thread's code.
    const worker = new Worker(BOOT, { eval: true, trackUnmanagedFds: true, workerData: { device } satisfies IoWorkerData });
    return new Promise((resolve, reject) => {
      const fail = (err: Error): void => {
        clearTimeout(timer);
        worker.off('message', opened);
        // The 'error' listener stays: whatever the thread does from now on is moot, but an 'error' event without
        // a listener would throw here.
        worker.unref();
        void worker.terminate();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`${device}: not opened within ${deadlineMs} ms (disk hung?)`)), deadlineMs);
      const opened = (message: IoMessage): void => {
        if (message.type !== 'opened') {
          fail(new Error(message.type === 'open_failed' ? message.error : `${device}: unexpected ${message.type} from the I/O thread`));
          return;
        }
        clearTimeout(timer);
        worker.off('message', opened);
        worker.off('error', fail);
        resolve(new IoThread(worker, message.info));
      };
      worker.on('error', fail);
      worker.once('message', opened);
    });
  }

  /** Runs one job: resolves with the bytes of its reads, in order. */
  run(job: IoJob, deadlineMs: number): Promise<Uint8Array[]> {
    const device = this.info.path;
    if (this.ended) return Promise.reject(new Error(`${device}: ${this.ended}`));
    if (this.inFlight) {
      const age = Math.round(performance.now() - this.inFlight.startedAt);
      return Promise.reject(new Error(`${device}: busy: the I/O started ${age} ms ago has not returned (disk hung?)`));
    }
    return new Promise((resolve, reject) => {
      const flight: InFlight = {
        id: this.nextId++,
        startedAt: performance.now(),
        answer: (result) => {
          clearTimeout(timer);
          if (result.type === 'done') resolve(result.reads);
          else reject(new Error(result.error));
        },
      };
      const timer = setTimeout(() => {
        flight.answer = null;
        reject(new Error(`${device}: no answer from the disk within ${deadlineMs} ms`));
      }, deadlineMs);
      this.inFlight = flight;
      this.worker.postMessage({ id: flight.id, job });
    });
  }

  /** Ends the thread; returns within CLOSE_WAIT_MS even if the thread is stuck on a hung disk. */
  async close(): Promise<void> {
    this.ended ??= 'closed';
    this.giveUp(this.ended);
    // A stuck thread must not keep the process alive either.
    this.worker.unref();
    void this.worker.terminate();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((resolve) => { timer = setTimeout(resolve, CLOSE_WAIT_MS); })]);
    clearTimeout(timer);
  }

  private receive(message: IoMessage): void {
    if ((message.type !== 'done' && message.type !== 'failed') || message.id !== this.inFlight?.id) return;
    const { answer } = this.inFlight;
    this.inFlight = null;
    answer?.(message);
  }

  private giveUp(reason: string): void {
    this.inFlight?.answer?.({ type: 'failed', id: this.inFlight.id, error: `${this.info.path}: ${reason}` });
    if (this.inFlight) this.inFlight.answer = null;
  }
}
