// The mailbox's I/O thread: opens the device and carries out each job of sector writes (each read back and
// compared) and reads, one at a time, with blocking system calls. A hung disk therefore blocks this thread only;
// the agent's event loop, and its heartbeats, go on (see io-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { SectorDevice, type SectorDeviceInfo } from './direct-io.ts';

export interface IoWorkerData {
  device: string;
}

export interface IoJob {
  /** Done first, in order; each is verified by reading it back. */
  writes: Array<{ offset: number; bytes: Uint8Array }>;
  reads: Array<{ offset: number; length: number }>;
}

export type IoMessage =
  | { type: 'opened'; info: SectorDeviceInfo }
  | { type: 'open_failed'; error: string }
  | { type: 'done'; id: number; reads: Uint8Array[] }
  | { type: 'failed'; id: number; error: string };

const port = parentPort!;
const post = (message: IoMessage): void => port.postMessage(message);
const { device } = workerData as IoWorkerData;

const disk = openDisk();
if (disk) {
  port.on('message', ({ id, job }: { id: number; job: IoJob }) => {
    try {
      for (const { offset, bytes } of job.writes) disk.write(offset, bytes);
      post({ type: 'done', id, reads: job.reads.map(({ offset, length }) => disk.read(offset, length)) });
    } catch (err) {
      post({ type: 'failed', id, error: (err as Error).message });
    }
  });
}

function openDisk(): SectorDevice | null {
  try {
    const opened = SectorDevice.open(device);
    post({ type: 'opened', info: opened.info });
    return opened;
  } catch (err) {
    post({ type: 'open_failed', error: (err as Error).message });
    port.close();
    return null;
  }
}
