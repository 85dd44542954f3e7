// The pairing protocol in scripted situations: both cores run in the simulated world (agent/sim/world.ts) with one
// fault schedule chosen by hand, and the test reads the timeline and the final states. The world's own invariant
// checks (no double owner, takeover bound, no false takeover, convergence) apply to every one of these runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { requiredQuietMs, takeoverBoundMs } from '../../agent/core/lease.ts';
import type { Fault } from '../../agent/sim/faults.ts';
import { SIM_TIMING, simSetup, type SetupOptions } from '../../agent/sim/setup.ts';
import { MAX_GROUP_START_MS, World } from '../../agent/sim/world.ts';

function run(faults: Fault[], opts: Partial<SetupOptions> = {}, seed = 7): World {
  const setup = simSetup({ reintegrate: 'manual', hasFenceCommand: false, chaosMs: 20_000, healMs: 30_000, ...opts });
  const w = new World(seed, setup, faults, true);
  const r = w.run();
  assert.equal(r.violations, [], r.trace.join('\n'));
  return w;
}

function lines(w: World, pattern: RegExp): string[] {
  return w.trace.filter((l) => pattern.test(l));
}

function at(line: string): number {
  return Number.parseFloat(line) * 1000;
}

test('without faults each node serves its own group and nobody is fenced', () => {
  const w = run([]);
  assert.equal(lines(w, /fencing_partner|fenced|self_fenced/), []);
  for (const m of w.machines) assert.is(m.agent!.core.phase, 'normal');
});

test('a crashed server is taken over within the bound, then reintegrated', () => {
  const w = run([{ kind: 'machine_crash', node: 0, at: 5000, until: 20_000 }]);
  const served = lines(w, /node2 taking_over → serving_both/);
  assert.is(served.length, 1);
  const bound = takeoverBoundMs(w.setup.timing, w.setup.tickMs, MAX_GROUP_START_MS);
  assert.ok(at(served[0]!) - 5000 <= bound, `took ${at(served[0]!) - 5000} ms, bound ${bound} ms`);
  // Escalation in HA-NFS order: heartbeats, ICMP, the disk, then the fence.
  const order = ['normal → suspecting', 'suspecting → probing', 'probing → fencing_partner', 'fencing_partner → taking_over'];
  const seen = lines(w, /node2 .* → /).map((l) => order.findIndex((o) => l.includes(o))).filter((i) => i >= 0);
  assert.equal(seen.slice(0, 4), [0, 1, 2, 3]);
  // The returning node finds itself fenced and waits for the operator, who reintegrates it.
  assert.ok(lines(w, /node1 booting → fenced: found fenced in the mailbox/).length === 1);
  assert.ok(lines(w, /node1 fenced → reintegrating: operator/).length === 1);
  assert.ok(lines(w, /node2 releasing → normal/).length === 1);
});

test('with a fence device, a crashed server is fenced by it and taken over without waiting out its lease', () => {
  const w = run([{ kind: 'machine_crash', node: 0, at: 5000, until: 20_000 }], { hasFenceCommand: true });
  assert.is(lines(w, /node2 probing → power_fencing: partner silent/).length, 1);
  const confirmed = lines(w, /node2 power_fencing → fencing_partner: fence command confirmed/);
  const takeover = lines(w, /node2 fencing_partner → taking_over: the partner is powered off/);
  assert.ok(confirmed.length === 1 && takeover.length === 1 && at(takeover[0]!) === at(confirmed[0]!));
  assert.ok(at(takeover[0]!) - 5000 < requiredQuietMs(w.setup.timing), 'sooner than the lease wait would allow');
});

test('a fence device that fails leaves the takeover to the lease wait', () => {
  const w = run([{ kind: 'machine_crash', node: 0, at: 5000, until: 20_000 }], { hasFenceCommand: true }, 8);
  assert.is(lines(w, /node2 power_fencing → fencing_partner: fence command failed/).length, 1);
  const takeover = lines(w, /node2 fencing_partner → taking_over: the partner's lease has expired/);
  assert.ok(takeover.length === 1 && at(takeover[0]!) - 5000 >= requiredQuietMs(w.setup.timing));
});

test('reintegration is automatic when configured', () => {
  const w = run([{ kind: 'machine_crash', node: 1, at: 4000, until: 12_000 }], { reintegrate: 'auto' });
  assert.ok(lines(w, /node2 fenced → reintegrating: automatic/).length === 1);
  assert.equal(lines(w, /operator/), []);
});

// A freeze shorter than the watchdog's timeout is survived; a longer one resets the machine. These detection tests
// take a 1 s watchdog and 100 ms heartbeats (detection 400 ms), so that a freeze can outlast detection.
const QUICK_DETECTION = { ...SIM_TIMING, heartbeatIntervalMs: 100, watchdogTimeoutMs: 1000, fenceAfterMs: 1500 };

test('an agent frozen for twice the detection time is not taken over: its machine answers ICMP', () => {
  const detection = 4 * 100;
  const w = run([{ kind: 'agent_freeze', node: 0, at: 5000, until: 5000 + 2 * detection + 100 }], { timing: QUICK_DETECTION });
  assert.ok(lines(w, /node2 .*→ partner_degraded: partner's machine answers ICMP/).length >= 1);
  assert.equal(lines(w, /fencing_partner|power_fencing|fenced|watchdog/), []);
});

test('with a fence command, an agent stalled for less than fenceAfterMs is not powered off', () => {
  const w = run([{ kind: 'agent_freeze', node: 0, at: 5000, until: 5900 }], { hasFenceCommand: true, timing: QUICK_DETECTION });
  assert.ok(lines(w, /node2 .*→ partner_degraded/).length >= 1);
  assert.equal(lines(w, /power_fencing|fencing_partner|fenced|watchdog/), []);
});

test('an agent hung for good, no watchdog device: with a fence command the partner powers it off and takes over', () => {
  const w = run([{ kind: 'agent_freeze', node: 0, at: 5000, until: 20_000 }], { hasFenceCommand: true, timing: { ...SIM_TIMING, watchdogTimeoutMs: 0 } });
  assert.ok(lines(w, /node2 partner_degraded → power_fencing/).length >= 1);
  assert.ok(lines(w, /node2 fencing_partner → taking_over/).length >= 1);
});

test('an agent hung for good without a fence command: its watchdog resets the machine, then takeover', () => {
  const w = run([{ kind: 'agent_freeze', node: 0, at: 5000, until: 20_000 }]);
  const reset = lines(w, /node1 watchdog fired/);
  const takeover = lines(w, /node2 fencing_partner → taking_over/);
  assert.is(reset.length, 1);
  assert.ok(takeover.length === 1 && at(takeover[0]!) > at(reset[0]!));
});

test('one network cut between the servers: a network failure, no suspicion', () => {
  const w = run([{ kind: 'partition', net: 0, at: 5000, until: 15_000 }]);
  assert.ok(lines(w, /network failure: partner's heartbeats lost on a, still heard on b/).length >= 1);
  assert.equal(lines(w, /suspecting|fencing/), []);
});

test('both networks cut between the servers, the disk fine: no takeover, the partner answers on the disk', () => {
  const w = run([
    { kind: 'partition', net: 0, at: 5000, until: 15_000 },
    { kind: 'partition', net: 1, at: 5000, until: 15_000 },
  ]);
  assert.ok(lines(w, /partner alive on the disk only/).length >= 1);
  assert.equal(lines(w, /fencing_partner|fenced/), []);
});

test('a partner alive on the disk only, that then crashes, is taken over (an old pong is no sign of life)', () => {
  const w = run([
    { kind: 'partition', net: 0, at: 5000, until: 20_000 },
    { kind: 'partition', net: 1, at: 5000, until: 20_000 },
    { kind: 'machine_crash', node: 0, at: 9000, until: 20_000 },
  ]);
  assert.ok(lines(w, /node2 .*→ partner_degraded: partner alive on the disk only/).length >= 1);
  const takeover = lines(w, /node2 fencing_partner → taking_over/);
  assert.ok(takeover.length === 1 && at(takeover[0]!) < 20_000, w.trace.filter((l) => / → /.test(l)).join('\n'));
});

test('a server cut off from both networks hands its group over through the disk', () => {
  const w = run([
    { kind: 'link_down', node: 0, net: 0, at: 5000, until: 15_000 },
    { kind: 'link_down', node: 0, net: 1, at: 5000, until: 15_000 },
  ]);
  assert.ok(lines(w, /node1 .*→ handing_over: cut off from every network/).length === 1);
  assert.ok(lines(w, /node2 .*→ fencing_partner: the partner handed its group over/).length === 1);
  assert.ok(lines(w, /node2 fencing_partner → taking_over: the partner acknowledged the fence/).length === 1);
});

test('a server whose disk and partner are both out of reach stops serving before its lease ends', () => {
  const w = run([
    { kind: 'partition', net: 0, at: 5000, until: 15_000 },
    { kind: 'partition', net: 1, at: 5000, until: 15_000 },
    { kind: 'disk_lost', node: 0, at: 5000, until: 15_000 },
  ]);
  assert.ok(lines(w, /node1 .*→ self_fenced: lease expiring/).length === 1);
  assert.equal(lines(w, /node1 watchdog fired/), []);
  assert.ok(lines(w, /node2 fencing_partner → taking_over/).length === 1);
});

test('a fence wait is not cut short by mailbox cycles that run back to back and a jump of the survivor’s clock', () => {
  // Seed 16294's schedule: node1's agent frozen and its disk lost, node2's clock jumps 2 s forward while it waits,
  // its cycles back to back behind intent records. node2 may take over only once node1's watchdog has reset it.
  const w = run([
    { kind: 'agent_freeze', node: 0, at: 8838, until: 13_558 },
    { kind: 'disk_lost', node: 0, at: 10_667, until: 14_070 },
    { kind: 'clock_jump', node: 1, at: 10_907, jumpMs: 2075 },
  ], { hasFenceCommand: true, chaosMs: 40_000, healMs: 40_000 }, 16294);
  const takeover = lines(w, /node2 fencing_partner → taking_over/);
  const reset = lines(w, /node1 (watchdog fired|powered off)/);
  assert.ok(takeover.length >= 1 && reset.length >= 1 && at(takeover[0]!) > at(reset[0]!), w.trace.join('\n'));
});

test('takeover requests that cross: the node listed first keeps its group, the other hands its own over', () => {
  const w = run([
    { kind: 'operator', node: 1, at: 5000, command: 'takeover' },
    { kind: 'operator', node: 0, at: 5000, command: 'takeover' },
  ]);
  assert.ok(lines(w, /node1 warn: the partner's takeover request crossed ours: ours wins/).length === 1);
  assert.ok(lines(w, /node2 normal → handing_over: the operator moved our group/).length === 1);
  assert.equal(lines(w, /node1 normal → handing_over/), []);
});

test('the operator can move a group and give it back', () => {
  const w = run([
    { kind: 'operator', node: 1, at: 5000, command: 'takeover' },
    { kind: 'operator', node: 1, at: 10_000, command: 'release' },
  ]);
  assert.ok(lines(w, /node1 normal → handing_over: the operator moved our group/).length === 1);
  assert.ok(lines(w, /node2 serving_both → releasing: the operator released/).length === 1);
  assert.ok(lines(w, /node1 fenced → starting: the partner released our group/).length === 1);
});

test('a command that does not fit the node’s phase is refused with the reason', () => {
  const w = run([{ kind: 'operator', node: 0, at: 5000, command: 'reintegrate' }]);
  assert.ok(lines(w, /node1 warn: reintegrate refused: this node is normal, not fenced/).length === 1);
});

test('the same seed and schedule replay exactly', () => {
  const faults: Fault[] = [{ kind: 'machine_crash', node: 0, at: 5000, until: 9000 }, { kind: 'lossy', net: 1, at: 2000, until: 12_000, loss: 0.3, dup: 0.1, delayMaxMs: 40 }];
  assert.equal(run(faults, {}, 99).trace, run(faults, {}, 99).trace);
});

test.run();
