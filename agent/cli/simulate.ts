// `hanfs simulate`: runs both nodes' cores through seeded fault schedules and checks the pair's invariants.
import { InvalidArgumentError, type Command } from 'commander';
import { describeVerdict, huntMutant, survivedUnexplained } from '../sim/mutant-hunt.ts';
import { MUTANTS } from '../sim/mutants.ts';
import { optionsForSeed, runParallel, runSeed } from '../sim/run.ts';

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
      if (opts.seed !== undefined) process.exitCode = replay(opts.seed, !!opts.verbose);
      else if (opts.mutants) process.exitCode = await mutants(opts);
      else process.exitCode = await batch(opts);
    });
}

function replay(seed: number, verbose: boolean): number {
  const r = runSeed(seed, optionsForSeed(seed), verbose);
  for (const line of r.trace) console.log(line);
  for (const v of r.violations) console.log(`VIOLATION seed ${seed}: ${v}`);
  console.log(`seeds: 1, violations: ${r.violations.length}`);
  return r.violations.length > 0 ? 1 : 0;
}

async function mutants(opts: SimulateOptions): Promise<number> {
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

async function batch(opts: SimulateOptions): Promise<number> {
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
