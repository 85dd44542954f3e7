// Runs a scenario of the catalog (lab/scenarios) in a test's lab, prints what it measured, and fails the test with
// every problem the harness found: two owners, lost writes, takeovers other than expected, a wait that ran out.
import * as assert from 'uvu/assert';
import { runScenario, type Scenario, type ScenarioResult } from '../../lab/scenarios/harness.ts';

export async function expectScenario(prefix: string, scenario: Scenario): Promise<ScenarioResult> {
  const r = await runScenario(prefix, scenario);
  const figures = Object.entries(r.measures).map(([k, v]) => `${k} ${v}`);
  console.log(`    ${r.name}: ${[...figures, `client outage ${r.outageMs} ms`, `${r.ackedWrites} writes kept`,
    `longest double ownership ${r.longestDoubleMs} ms`, ...r.notes].join('; ')}`);
  assert.equal(r.problems, [], r.problems.join('\n'));
  return r;
}
