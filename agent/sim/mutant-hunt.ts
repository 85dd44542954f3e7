// Runs the simulator against planted mutants (mutants.ts), one at a time: each is hunted through seeds until one
// of them breaks an invariant, or the budget is spent and the mutant has survived.
import type { Mutant } from './mutants.ts';
import { plantMutant } from './mutate.ts';
import type { RunResult } from './world.ts';

export interface MutantVerdict {
  mutant: Mutant;
  /** The first failing seed found, or null: the mutant survived the budget. */
  caughtBy: RunResult | null;
  seedsRun: number;
  elapsedMs: number;
}

export async function huntMutant(m: Mutant, first: number, budget: number, workers?: number): Promise<MutantVerdict> {
  const planted = plantMutant(m);
  try {
    const run = (await import(planted.runUrl)) as typeof import('./run.ts');
    const r = await run.runParallel(first, budget, undefined, workers, true);
    return { mutant: m, caughtBy: r.failures[0] ?? null, seedsRun: r.seeds, elapsedMs: r.elapsedMs };
  } finally {
    planted.remove();
  }
}

/** A survivor that is not argued equivalent fails the catalog. */
export function survivedUnexplained(v: MutantVerdict): boolean {
  return v.caughtBy === null && v.mutant.equivalent === undefined;
}

export function describeVerdict(v: MutantVerdict): string {
  const head = `${v.mutant.id.padEnd(30)} `;
  const secs = `${(v.elapsedMs / 1000).toFixed(1)} s`;
  if (v.caughtBy) return `${head}caught by seed ${v.caughtBy.seed} (${v.seedsRun} seeds, ${secs}): ${v.caughtBy.violations[0]}`;
  const why = v.mutant.equivalent ? ` — equivalent: ${v.mutant.equivalent}` : '';
  return `${head}SURVIVED ${v.seedsRun} seeds (${secs})${why}`;
}
