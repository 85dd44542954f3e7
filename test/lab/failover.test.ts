// Four of the pair's failure situations, for real in the lab, with the ownership of every address and disk
// sampled throughout: an agent frozen for three detection periods is not taken over (its machine still answers);
// the servers cut off from each other while clients reach both are not taken over either (the disk answers); a
// server cut off from both networks hands its group over through the disk, and gets it back after reintegration;
// an agent hung for good while its machine answers is powered off by its partner's fence command (the lab's, which
// acts from the host's namespaces as a management board would) and taken over.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { askControl } from '../../agent/daemon/control-socket.ts';
import { transitions as logged } from '../../lab/agent-log.ts';
import { boot, phaseOf } from '../../lab/agents.ts';
import { ownership } from '../../lab/inspect.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { partitionServers } from '../../lab/partition.ts';
import { sampleOwnership as sampler } from '../../lab/sampler.ts';
import { labPath, readState } from '../../lab/state.ts';
import { setPort } from '../../lab/topology.ts';
import { waitUntil } from '../../lab/wait.ts';

const prefix = `hf${process.pid}`;
const DETECTION_MS = 100 * 5; // the lab's heartbeat interval × misses

const sampleOwnership = () => {
  const s = sampler(prefix);
  return { stop: async () => (await s.stop()).doubles };
};
const phase = (server: 'server1' | 'server2') => phaseOf(prefix, server);
const transitions = (server: 'server1' | 'server2', since: number) => logged(prefix, server, since);

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
});

test.after(async () => {
  await labDown(prefix);
});

test('server1’s agent frozen for three detection periods: no takeover, nothing changes', async () => {
  const sampler = sampleOwnership();
  const since = Date.now();
  const agent = readState(prefix)!.agents.server1!;
  process.kill(agent, 'SIGSTOP');
  await new Promise((r) => setTimeout(r, 3 * DETECTION_MS));
  process.kill(agent, 'SIGCONT');
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await sampler.stop(), []);
  const seen = transitions('server2', since);
  assert.ok(seen.some((t) => t.includes('partner_degraded')), seen.join('\n'));
  assert.not.ok(seen.some((t) => /fencing|taking_over|power_fencing/.test(t)), seen.join('\n'));
  assert.is(await phase('server1'), 'normal');
  assert.is(await phase('server2'), 'normal');
});

test('all traffic between the servers dropped, clients still reaching both, disk fine: no takeover', async () => {
  const sampler = sampleOwnership();
  const since = Date.now();
  await partitionServers(prefix, true);
  try {
    await waitUntil(async () => transitions('server2', since).some((t) => t.includes('partner alive on the disk only')), 10_000,
      'server2 sees its partner alive on the disk only');
    await new Promise((r) => setTimeout(r, 4000));
    for (const server of ['server1', 'server2'] as const) {
      const seen = transitions(server, since);
      assert.not.ok(seen.some((t) => /fencing|taking_over|handing_over|self_fenced/.test(t)), `${server}:\n${seen.join('\n')}`);
    }
  } finally {
    await partitionServers(prefix, false);
  }
  await waitUntil(async () => (await phase('server1')) === 'normal' && (await phase('server2')) === 'normal', 10_000, 'both normal');
  assert.equal(await sampler.stop(), []);
});

test('server1 cut off from both networks hands its group over through the disk; reintegrated when back', async () => {
  const sampler = sampleOwnership();
  await setPort(prefix, 'server1', 'neta', false);
  await setPort(prefix, 'server1', 'netb', false);
  await waitUntil(async () => (await phase('server2')) === 'serving_both', 20_000, 'server2 serving both');
  assert.is(await phase('server1'), 'fenced');
  assert.equal((await ownership(prefix)).addresses['198.51.100.11'], ['server2']);

  await setPort(prefix, 'server1', 'neta', true);
  await setPort(prefix, 'server1', 'netb', true);
  await waitUntil(async () => {
    await askControl(labPath(prefix, 'server1.sock'), 'reintegrate');
    return (await phase('server1')) === 'normal';
  }, 30_000, 'server1 reintegrated', () => '', 1000);
  assert.equal(await sampler.stop(), []);
  assert.equal((await ownership(prefix)).disks.disk1, ['server1']);
});

test('server1’s agent hung for good, its machine answering: server2 powers it off with the fence command and takes over', async () => {
  const sampler = sampleOwnership();
  const since = Date.now();
  process.kill(readState(prefix)!.agents.server1!, 'SIGSTOP');
  await waitUntil(async () => (await phase('server2')) === 'serving_both', 30_000, 'server2 serving both');
  const seen = transitions('server2', since).map((t) => t.split(':')[0]);
  for (const step of ['partner_degraded → power_fencing', 'power_fencing → fencing_partner', 'fencing_partner → taking_over']) {
    assert.ok(seen.includes(step), seen.join('\n'));
  }
  await boot(prefix, 'server1');
  await waitUntil(async () => {
    await askControl(labPath(prefix, 'server1.sock'), 'reintegrate');
    return (await phase('server1')) === 'normal';
  }, 40_000, 'server1 back and reintegrated', () => '', 1000);
  assert.equal(await sampler.stop(), []);
});

test.run();
