// `hanfs status` as the agent builds it, from two controllers paired in memory (pair.ts), and the timeline that
// watches them. The JSON's shape is what scripts rely on: it is compared with status-shape.json (regenerate with
// UPDATE_SNAPSHOTS=1 after a deliberate change, and say so in the commit).
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Controller } from '../../agent/daemon/controller.ts';
import { healthOf } from '../../agent/operate/health.ts';
import { buildStatus, type AgentStatus } from '../../agent/operate/status.ts';
import { Timeline } from '../../agent/operate/timeline.ts';
import type { FakeTransport } from '../daemon/fakes.ts';
import { coreConfig, pair, until } from '../daemon/pair.ts';

const SNAPSHOT = new URL('./status-shape.json', import.meta.url);

function statusOf(c: Controller, t: FakeTransport, timeline: Timeline): AgentStatus {
  return buildStatus({
    core: coreConfig(0), snapshot: c.snapshot(), interfaces: { a: 'eth0', b: 'eth1' }, traffic: t.traffic(), drops: t.drops(),
    assets: {
      alpha: { address: '198.51.100.11/24', disks: [{ device: '/dev/disk/by-id/alpha', mountPoint: '/srv/alpha' }] },
      beta: { address: '203.0.113.12/24', disks: [{ device: '/dev/disk/by-id/beta', mountPoint: '/srv/beta' }] },
    },
    recentTransitions: timeline.recent('transition', 10).map(({ at, from, to, cause }) => ({ at, from, to, cause })),
  });
}

/** The JSON's shape: every key, with the type of its value (an array by its first element). */
function shape(v: unknown): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

async function withPair(body: (p: ReturnType<typeof pair>, timeline: Timeline) => Promise<void>): Promise<void> {
  const timeline = new Timeline();
  const p = pair([[timeline], []]);
  try {
    await Promise.all(p.controllers.map((c) => c.start()));
    await until(() => p.controllers.every((c) => c.snapshot().state.phase === 'normal'), 3000);
    await new Promise((r) => setTimeout(r, 200)); // each has heard the other normal, on both networks
    await body(p, timeline);
  } finally {
    await Promise.all(p.controllers.map((c) => c.stop()));
  }
}

test('a healthy pair, then a takeover: the JSON has the shape scripts expect, and says what happened', () =>
  withPair(async ({ controllers, transports, up }, timeline) => {
    const [alpha, beta] = controllers as [Controller, Controller];
    const healthy = statusOf(alpha, transports[0]!, timeline);
    assert.equal(healthy.health, { level: 'healthy', reasons: [] });
    assert.equal(healthy.ownership.alpha!.groups, ['alpha']);
    assert.equal(healthy.ownership.beta!.addresses, ['203.0.113.12/24']);
    assert.equal(healthy.recentTransitions.map((t) => `${t.from} → ${t.to}`), ['booting → starting', 'starting → normal']);

    await beta.stop();
    up[1] = false;
    await until(() => alpha.snapshot().state.phase === 'serving_both', 5000);
    const after = statusOf(alpha, transports[0]!, timeline);
    assert.is(after.health.level, 'degraded');
    assert.ok(after.health.reasons.some((r) => r.startsWith('this node is serving_both')), after.health.reasons.join('\n'));
    assert.ok(after.health.reasons.some((r) => r.startsWith('beta silent for')), after.health.reasons.join('\n'));
    assert.equal(after.ownership.alpha!.groups, ['alpha', 'beta']);
    assert.equal(after.fence.ours, { term: 1, active: true });

    const actual = { healthy: shape(healthy), afterTakeover: shape(after) };
    if (process.env.UPDATE_SNAPSHOTS) writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 2)}\n`);
    assert.equal(actual, JSON.parse(readFileSync(SNAPSHOT, 'utf8')));
  }));

test('the timeline has the takeover: transitions, each resource step with its duration, the move', () =>
  withPair(async ({ controllers, up }, timeline) => {
    const [alpha, beta] = controllers as [Controller, Controller];
    const from = timeline.lastId();
    await beta.stop();
    up[1] = false;
    await until(() => alpha.snapshot().state.phase === 'serving_both', 5000);
    const entries = timeline.since(from);
    const phases = entries.flatMap((e) => (e.kind === 'transition' ? [e.to] : []));
    assert.equal(phases, ['suspecting', 'probing', 'fencing_partner', 'taking_over', 'serving_both']);
    const starts = entries.flatMap((e) => (e.kind === 'resource' ? [`${e.op} ${e.group}/${e.resource} ${e.ok}`] : []));
    assert.equal(starts, ['log_replay', 'filesystem', 'nfs_server', 'exports', 'service_ip', 'arp', 'nsm_notify'].map((r) => `start beta/${r} true`));
    assert.ok(entries.every((e) => e.kind !== 'resource' || (e.durationMs >= 0 && e.durationMs < 1000)));
    const move = entries.find((e) => e.kind === 'move');
    assert.ok(move && move.kind === 'move' && move.move === 'takeover' && move.completed && move.endedIn === 'serving_both');
    assert.ok(entries.every((e, i) => i === 0 || e.id === entries[i - 1]!.id + 1), 'ids one apart');
    assert.ok(entries.every((e) => !Number.isNaN(Date.parse(e.at))));

    const answer = alpha.command({ command: 'release' });
    assert.equal(answer, ["release of the partner's group requested by the operator"]);
    const cmd = timeline.since(timeline.lastId() - 5).find((e) => e.kind === 'command');
    assert.ok(cmd && cmd.kind === 'command');
    assert.equal([cmd.command, cmd.answer], ['release', answer]);
  }));

test('the timeline keeps only the newest entries', () => {
  const timeline = new Timeline({ capacity: 3, wallClock: () => 0 });
  for (let i = 1; i <= 5; i++) timeline.add({ kind: 'agent', message: `m${i}` });
  assert.equal(timeline.since(0).map((e) => e.id), [3, 4, 5]);
  assert.equal(timeline.since(3).map((e) => e.id), [4, 5]);
  assert.equal(timeline.since(0, 1).map((e) => e.id), [5]);
  assert.is(timeline.since(0)[0]!.at, '1970-01-01T00:00:00.000Z');
});

test('health: a group served by nobody is failed; while a move is under way only degraded', () =>
  withPair(async ({ controllers, transports }, timeline) => {
    const base = statusOf(controllers[0]!, transports[0]!, timeline);
    const { health: _, ...st } = base;
    const beta = { ...st.groups.beta!, status: 'offline' as const };
    const nobody = { ...st, groups: { ...st.groups, beta }, ownership: { ...st.ownership, beta: { ...st.ownership.beta!, groups: [] } } };
    assert.equal(healthOf(nobody), { level: 'failed', reasons: ['group beta is served by neither node'] });
    const moving = healthOf({ ...nobody, phase: 'taking_over', cause: 'x' });
    assert.is(moving.level, 'degraded');
    assert.equal(moving.reasons.slice(0, 2), ['group beta is served by neither node while this node is taking_over', 'this node is taking_over: x']);
    const fencedItself = healthOf({ ...st, phase: 'self_fenced', cause: 'lease expiring' });
    assert.equal(fencedItself.reasons[0], 'this node fenced itself: lease expiring');
    assert.is(fencedItself.level, 'failed');
    const maintenance = healthOf({ ...st, maintenance: true });
    assert.equal(maintenance, { level: 'degraded', reasons: ['maintenance is on: this node starts no failover of its own'] });
  }));

test.run();
