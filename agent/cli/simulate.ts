// `hanfs simulate`: runs both nodes' cores through seeded fault schedules and checks the pair's invariants.
import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';

/** Seeds each planted fault is hunted through with --mutants, unless --seeds says otherwise. */
const MUTANT_BUDGET = 20_000;

interface SimulateOptions {
  seeds?: number;
  seed?: number;
  mutants?: boolean;
  first: number;
  verbose?: boolean;
  workers?: number;
}

/** A whole number of at least `min`, as an option's argument: anything else is a usage error (exit 64). */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
    return n;
  };
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('run the pair protocol through seeded random fault schedules and check its invariants')
    .option('--seeds <n>', `how many seeds to run, ≥ 1 (default 1000; with --mutants, per mutant, default ${MUTANT_BUDGET})`, wholeNumber(1))
    .option('--first <n>', 'the first seed of the range, ≥ 0', wholeNumber(0), 1)
    .option('--seed <s>', 'run this one seed only, ≥ 0 (replays a failure exactly)', wholeNumber(0))
    .option('--verbose', 'with --seed: print the timeline of faults, transitions and reports')
    .option('--workers <n>', 'worker threads, ≥ 1 (default: one per core)', wholeNumber(1))
    .option('--mutants', 'run the catalog of planted protocol faults instead: each must be caught')
    .action(async (opts: SimulateOptions) => {
      let sim: Simulator;
      try {
        sim = await loadSimulator();
      } catch (err) {
        console.error(`hanfs simulate: ${(err as Error).message}`);
        process.exitCode = 1;
        return;
      }
      if (opts.seed !== undefined) process.exitCode = replay(sim, opts.seed, !!opts.verbose);
      else if (opts.mutants) process.exitCode = await mutants(sim, opts);
      else process.exitCode = await batch(sim, opts);
    });
}

type Simulator = typeof import('../sim/run.ts') & typeof import('../sim/mutant-hunt.ts') & typeof import('../sim/mutants.ts');

/**
 * The simulator, loaded only for this command. It runs as TypeScript only (its worker threads and planted mutants
 * load the .ts source), so the compiled CLI (dist/) loads it from the checkout's source through tsx, a development
 * dependency: an installed copy, which has neither, cannot simulate.
 */
async function loadSimulator(): Promise<Simulator> {
  const compiled = !import.meta.url.endsWith('.ts');
  const dir = new URL(compiled ? '../../../agent/sim/' : '../sim/', import.meta.url);
  const unavailable = 'the simulator runs from a checkout with its development dependencies (its TypeScript through tsx): '
    + 'run it there (npm ci, then hanfs simulate or npm run sim)';
  if (!existsSync(new URL('run.ts', dir))) throw new Error(unavailable);
  if (compiled) {
    let tsx: typeof import('tsx/esm/api');
    try {
      tsx = await import('tsx/esm/api');
    } catch {
      throw new Error(unavailable);
    }
    tsx.register();
  }
  const parts = await Promise.all(['run.ts', 'mutant-hunt.ts', 'mutants.ts'].map((file) => import(new URL(file, dir).href)));
  return Object.assign({}, ...parts) as Simulator;
}

function replay(sim: Simulator, seed: number, verbose: boolean): number {
  const { runSeed, optionsForSeed } = sim;
  const r = runSeed(seed, optionsForSeed(seed), verbose);
  for (const line of r.trace) console.log(line);
  for (const v of r.violations) console.log(`VIOLATION seed ${seed}: ${v}`);
  console.log(`seeds: 1, violations: ${r.violations.length}`);
  return r.violations.length > 0 ? 1 : 0;
}

async function mutants(sim: Simulator, opts: SimulateOptions): Promise<number> {
  const { MUTANTS, huntMutant, describeVerdict, survivedUnexplained } = sim;
  const budget = opts.seeds ?? MUTANT_BUDGET;
  const workers = opts.workers;
  let caught = 0;
  let unexplained = 0;
  for (const m of MUTANTS) {
    const v = await huntMutant(m, opts.first, budget, workers);
    console.log(describeVerdict(v));
    if (v.caughtBy) caught++;
    if (survivedUnexplained(v)) unexplained++;
  }
  console.log(`mutants: ${MUTANTS.length}, caught: ${caught}, survived unexplained: ${unexplained}`);
  return unexplained > 0 ? 1 : 0;
}

async function batch(sim: Simulator, opts: SimulateOptions): Promise<number> {
  const { runParallel } = sim;
  const count = opts.seeds ?? 1000;
  const first = opts.first;
  const workers = opts.workers;
  const r = await runParallel(first, count, undefined, workers);
  for (const f of r.failures.slice(0, 20)) {
    console.log(`seed ${f.seed}: ${f.violations.join('; ')}`);
    console.log(`  replay: hanfs simulate --seed ${f.seed} --verbose`);
  }
  if (r.failures.length > 20) console.log(`... and ${r.failures.length - 20} more failing seeds`);
  const secs = r.elapsedMs / 1000;
  console.log(`${count} seeds (${first}..${first + count - 1}) in ${secs.toFixed(1)} s, ${(r.events / secs / 1e6).toFixed(2)} M events/s`);
  console.log(`seeds: ${count}, violations: ${r.failures.length}`);
  return r.failures.length > 0 ? 1 : 0;
}
