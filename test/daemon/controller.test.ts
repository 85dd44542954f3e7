// The controller on real timers with in-memory adapters (test/daemon/fakes.ts): it must carry the core's effects
// out and feed the results back, so that two controllers pair up and one takes the other over when it stops.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { groupStatus } from '../../agent/core/resources.ts';
import type { Controller } from '../../agent/daemon/controller.ts';
import { pair, until } from './pair.ts';

const phase = (c: Controller) => c.snapshot().state.phase;

test('two controllers pair up, each serving its own group', async () => {
  const { controllers } = pair();
  try {
    await Promise.all(controllers.map((c) => c.start()));
    await until(() => controllers.every((c) => phase(c) === 'normal'), 3000);
    const { groups } = controllers[0]!.snapshot().state;
    assert.is(groupStatus(groups.alpha!), 'online');
    assert.is(groupStatus(groups.beta!), 'offline');
  } finally {
    await Promise.all(controllers.map((c) => c.stop()));
  }
});

test('a controller whose partner stops takes its group over', async () => {
  const { controllers, up, lines } = pair();
  try {
    await Promise.all(controllers.map((c) => c.start()));
    await until(() => controllers.every((c) => phase(c) === 'normal'), 3000);
    await controllers[1]!.stop();
    up[1] = false;
    await until(() => phase(controllers[0]!) === 'serving_both', 5000);
    assert.ok(lines[0]!.some((l) => l.startsWith('probing → fencing_partner')));
    assert.ok(lines[0]!.some((l) => l === 'dry run: would start beta/service_ip'));
  } finally {
    await Promise.all(controllers.map((c) => c.stop()));
  }
});

test('a command answers with what the core said', async () => {
  const { controllers } = pair();
  try {
    await Promise.all(controllers.map((c) => c.start()));
    await until(() => controllers.every((c) => phase(c) === 'normal'), 3000);
    assert.equal(controllers[0]!.command({ command: 'reintegrate' }), ['reintegrate refused: this node is normal, not fenced']);
  } finally {
    await Promise.all(controllers.map((c) => c.stop()));
  }
});

test.run();
