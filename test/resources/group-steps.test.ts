// One run of a group's steps outside the agent (hanfs group start|stop): the agent's order, skipped kinds left
// alone, and the first failure ends the run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RESOURCE_ORDER } from '../../agent/core/types.ts';
import type { ResourceDriver } from '../../agent/ports.ts';
import { parseResourceKinds, runGroupSteps } from '../../agent/resources/group-steps.ts';

function driver(failOn?: string): ResourceDriver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run: async (group, resource, kind, op) => {
      calls.push(`${op} ${group}/${resource}`);
      return kind === failOn ? { ok: false, error: `${kind} broke` } : { ok: true };
    },
    monitor: () => [],
    idle: async () => {},
  };
}

test('start runs every kind in the agent order, stop in reverse, skipping what is asked', async () => {
  const d = driver();
  const started = await runGroupSteps(d, 'server1', 'start', ['service_ip']);
  const expected = RESOURCE_ORDER.filter((k) => k !== 'service_ip');
  assert.equal(started, { ok: true, done: expected });
  assert.equal(d.calls, expected.map((k) => `start server1/${k}`));
  const stopped = await runGroupSteps(d, 'server1', 'stop', ['service_ip']);
  assert.equal(stopped, { ok: true, done: [...expected].reverse() });
});

test('the first failure ends the run and says which step', async () => {
  const d = driver('nfs_server');
  const r = await runGroupSteps(d, 'server2', 'start');
  assert.equal(r, { ok: false, done: ['log_replay', 'filesystem'], failed: 'nfs_server', error: 'nfs_server broke' });
  assert.equal(d.calls.length, 3);
});

test('resource kinds are parsed from a comma list and unknown ones named', () => {
  assert.equal(parseResourceKinds('service_ip, arp'), ['service_ip', 'arp']);
  assert.throws(() => parseResourceKinds('service_ip,vip'), /unknown resource kind vip \(known: log_replay/);
});

test.run();
