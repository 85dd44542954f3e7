// Crash safety, for real: the survivor's agent is killed right after each step of a takeover in turn (the fence,
// then every resource of the partner's group), and after each step of a release in turn, and restarted each time.
// Its intent log must carry the transition on from where it stood, never taking back what it was giving away,
// with one owner of every disk and address at every 10 ms sample and every acknowledged client write kept.
import { test } from 'uvu';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { releaseKilledAtEachStep, takeoverKilledAtEachStep } from '../../lab/scenarios/catalog.ts';
import { expectScenario } from './expect-scenario.ts';

const prefix = `hi${process.pid}`;

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
});

test.after(async () => {
  await labDown(prefix);
});

for (const scenario of [takeoverKilledAtEachStep, releaseKilledAtEachStep]) {
  test(scenario.what, async () => {
    await expectScenario(prefix, scenario);
  });
}

test.run();
