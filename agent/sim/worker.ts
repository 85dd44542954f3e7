// A worker thread of the simulator: runs its share of the seeds and posts the batch result back.
import { parentPort, workerData } from 'node:worker_threads';
import { runBatch } from './run.ts';

const { first, count, fixed, stopAtFirst } = workerData as {
  first: number; count: number; fixed?: Parameters<typeof runBatch>[2]; stopAtFirst: boolean;
};
parentPort!.postMessage(runBatch(first, count, fixed, stopAtFirst));
