// Reintegration beyond the operator's command: automatic once the repaired server is back in touch, and the
// survivor crashing in the middle of handing the group back (the returning server fences it in turn and serves
// both). Each in a lab of the reintegration mode it needs.
import { test } from 'uvu';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { automaticReintegration, survivorCrashDuringReintegration } from '../../lab/scenarios/catalog.ts';
import { expectScenario } from './expect-scenario.ts';

const prefix = `hr${process.pid}`;

test.after.each(async () => {
  await labDown(prefix);
});

for (const scenario of [automaticReintegration, survivorCrashDuringReintegration]) {
  test(scenario.what, async () => {
    await labUp(prefix, { reintegrate: scenario.reintegrate, timeoutMs: 60_000 });
    await expectScenario(prefix, scenario);
  });
}

test.run();
