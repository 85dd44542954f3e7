// Runs seeds: one seed is one fault schedule played against both cores; many seeds are spread over worker threads.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { randomSchedule, type Fault } from './faults.ts';
import { Prng } from './prng.ts';
import { simSetup } from './setup.ts';
import { World, type RunResult } from './world.ts';

export interface SimOptions {
  reintegrate: 'manual' | 'auto';
  hasFenceCommand: boolean;
}

/** Odd seeds reintegrate automatically and have a fence command, unless the caller fixes both. */
export function optionsForSeed(seed: number, fixed?: Partial<SimOptions>): SimOptions {
  return {
    reintegrate: fixed?.reintegrate ?? (seed % 2 === 1 ? 'auto' : 'manual'),
    hasFenceCommand: fixed?.hasFenceCommand ?? seed % 4 >= 2,
  };
}

export function runSeed(seed: number, opts: SimOptions, verbose = false): RunResult {
  const setup = simSetup(opts);
  const faults = randomSchedule(new Prng(seed), {
    chaosMs: setup.chaosMs,
    leaseMs: setup.timing.selfFenceLeaseMs,
    resourceNames: setup.coreConfig(0).groups.node1!.map((r) => r.name),
  });
  return new World(seed, setup, faults, verbose).run();
}

/** One given schedule (a regression's, kept as it was drawn), in the world of `seed`. */
export function runSchedule(seed: number, opts: SimOptions, faults: Fault[]): RunResult {
  return new World(seed, simSetup(opts), faults).run();
}

const WORKER_URL = new URL('./worker.ts', import.meta.url).href;

export interface BatchResult {
  seeds: number;
  failures: RunResult[];
  events: number;
  elapsedMs: number;
}

/** Runs seeds first..first+count-1 in this thread, or up to the first that fails. */
export function runBatch(first: number, count: number, fixed?: Partial<SimOptions>, stopAtFirst = false): BatchResult {
  const started = performance.now();
  const failures: RunResult[] = [];
  let events = 0;
  let seeds = 0;
  for (let seed = first; seed < first + count; seed++) {
    const r = runSeed(seed, optionsForSeed(seed, fixed));
    seeds++;
    events += r.events;
    if (r.violations.length > 0) failures.push(r);
    if (stopAtFirst && failures.length > 0) break;
  }
  return { seeds, failures, events, elapsedMs: performance.now() - started };
}

/** Spreads seeds over one worker thread per core (each has its own copy of the cores: nothing is shared). */
export async function runParallel(
  first: number, count: number, fixed?: Partial<SimOptions>, workers = availableParallelism(), stopAtFirst = false,
): Promise<BatchResult> {
  const started = performance.now();
  const n = Math.max(1, Math.min(workers, count));
  const per = Math.ceil(count / n);
  const jobs: Promise<BatchResult>[] = [];
  for (let i = 0; i < n; i++) {
    const from = first + i * per;
    const c = Math.min(per, first + count - from);
    if (c <= 0) break;
    jobs.push(new Promise((resolve, reject) => {
      // Workers start without the parent's TypeScript loader: register tsx in the worker, then load it.
      const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(WORKER_URL)}); })`;
      const w = new Worker(boot, { eval: true, workerData: { first: from, count: c, fixed, stopAtFirst } });
      w.once('message', resolve);
      w.once('error', reject);
    }));
  }
  const parts = await Promise.all(jobs);
  return {
    seeds: parts.reduce((s, p) => s + p.seeds, 0),
    failures: parts.flatMap((p) => p.failures).sort((a, b) => a.seed - b.seed),
    events: parts.reduce((s, p) => s + p.events, 0),
    elapsedMs: performance.now() - started,
  };
}
