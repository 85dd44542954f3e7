// Mutation adequacy: every planted fault of the catalog (agent/sim/mutants.ts), applied alone to a copy of the core,
// must be caught by the simulator within a small seed budget; `hanfs simulate --mutants` spends the full one.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeVerdict, huntMutant, survivedUnexplained } from '../../agent/sim/mutant-hunt.ts';
import { MUTANTS } from '../../agent/sim/mutants.ts';
import { applyMutant } from '../../agent/sim/mutate.ts';

const BUDGET = 5000;

test('every mutant still plants something: its text occurs exactly once in its file', () => {
  for (const m of MUTANTS) {
    const source = readFileSync(new URL(`../../agent/${m.file}`, import.meta.url), 'utf8');
    assert.is.not(applyMutant(source, m), source, m.id);
  }
  assert.is(new Set(MUTANTS.map((m) => m.id)).size, MUTANTS.length, 'mutant ids are unique');
});

for (const m of MUTANTS) {
  test(`planted fault ${m.id} (${m.what}) is caught`, async () => {
    const v = await huntMutant(m, 1, BUDGET);
    console.log(`    ${describeVerdict(v)}`);
    assert.not.ok(survivedUnexplained(v), describeVerdict(v));
  });
}

test.run();
