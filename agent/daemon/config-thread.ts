// The agent loads its configuration in a thread of its own: the YAML parser, zod and the schema are compiled in
// that thread's heap and leave with it, not in the daemon's for as long as it runs (4-5 MiB of the agent's mean
// resident memory in the overhead benchmark: README, Benchmarks). The configuration comes back as plain data.
import { Worker } from 'node:worker_threads';
import type { PairConfig } from '../../config/schema.ts';
import { threadBoot } from '../process/thread-boot.ts';

export interface ConfigRequest {
  path: string;
  /** The node's name, if given; otherwise the node is found by the machine's hostname. */
  node?: string;
  hostname: string;
}

/** The configuration and this node's name; or what is wrong (`unexpected`: not the file's fault, e.g. a crash). */
export type LoadedPair = { ok: true; config: PairConfig; self: string } | { ok: false; error: string; unexpected?: boolean };

export function loadPairInThread(request: ConfigRequest): Promise<LoadedPair> {
  const worker = new Worker(threadBoot(import.meta.url, 'config-worker'), { eval: true, workerData: request });
  return new Promise((resolve) => {
    worker.once('message', (loaded: LoadedPair) => resolve(loaded));
    worker.once('error', (err) => resolve({ ok: false, error: `the configuration thread failed: ${err.message}`, unexpected: true }));
    worker.once('exit', (code) => resolve({ ok: false, error: `the configuration thread exited (code ${code}) without an answer`, unexpected: true }));
  });
}
