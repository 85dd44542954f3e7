import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  driveGroup, groupActive, groupHeld, groupStatus, healthFailed, newGroup, resourceDone, type GroupRuntime,
} from '../../agent/core/resources.ts';
import { RESOURCE_ORDER, type Effect } from '../../agent/core/types.ts';

const specs = RESOURCE_ORDER.map((kind) => ({ name: kind, kind }));
const LIMIT = 2;

function offlineGroup(): GroupRuntime {
  const g = newGroup('server1', specs);
  g.resources.forEach((r) => (r.state = 'offline'));
  return g;
}

/** Drives the group to rest, answering each operation with `answer`; returns the operations in order. */
function settle(g: GroupRuntime, answer: (e: Effect) => boolean = () => true): string[] {
  const ops: string[] = [];
  for (let i = 0; i < 100; i++) {
    const e = driveGroup(g);
    if (!e) return ops;
    if (e.type !== 'start_resource' && e.type !== 'stop_resource') throw new Error('unexpected effect');
    const op = e.type === 'start_resource' ? 'start' : 'stop';
    ops.push(`${op} ${e.resource}`);
    resourceDone(g, e.resource, op, answer(e), answer(e) ? undefined : 'boom', i, LIMIT);
  }
  throw new Error('group never settled');
}

test('start runs in order: log replay, file system, NFS server, exports, address, ARP, NSM notify', () => {
  const g = offlineGroup();
  g.target = 'online';
  assert.equal(settle(g), RESOURCE_ORDER.map((k) => `start ${k}`));
  assert.is(groupStatus(g), 'online');
});

test('stop runs in reverse: the address goes first, the file system last', () => {
  const g = offlineGroup();
  g.target = 'online';
  settle(g);
  g.target = 'offline';
  assert.equal(settle(g), [...RESOURCE_ORDER].reverse().map((k) => `stop ${k}`));
  assert.is(groupStatus(g), 'offline');
  assert.not.ok(groupHeld(g));
});

test('one operation at a time: nothing new while one is pending', () => {
  const g = offlineGroup();
  g.target = 'online';
  assert.ok(driveGroup(g));
  assert.is(driveGroup(g), null);
  assert.is(groupStatus(g), 'partial');
});

test('a failed resource restarts with everything above it stopped first', () => {
  const g = offlineGroup();
  g.target = 'online';
  settle(g);
  healthFailed(g, 'nfs_server', 'process gone', 0, LIMIT);
  assert.is(groupStatus(g), 'failed');
  assert.equal(settle(g), [
    'stop nsm_notify', 'stop arp', 'stop service_ip', 'stop exports', 'stop nfs_server',
    'start nfs_server', 'start exports', 'start service_ip', 'start arp', 'start nsm_notify',
  ]);
  assert.is(groupStatus(g), 'online');
});

test('past the restart limit the group is given up and stopped', () => {
  const g = offlineGroup();
  g.target = 'online';
  settle(g, (e) => e.type === 'stop_resource' || (e.type === 'start_resource' && e.resource !== 'exports'));
  assert.ok(g.gaveUpAt !== null);
  assert.is(groupStatus(g), 'failed');
  assert.not.ok(groupHeld(g));
  assert.is(g.resources.find((r) => r.spec.name === 'exports')!.lastError, 'boom');
});

test('a stop that keeps failing marks the group stopFailed: the resource may still be held', () => {
  const g = offlineGroup();
  g.target = 'online';
  settle(g);
  g.target = 'offline';
  settle(g, (e) => !(e.type === 'stop_resource' && e.resource === 'filesystem'));
  assert.ok(g.stopFailed);
  assert.ok(groupHeld(g));
  assert.is(driveGroup(g), null);
});

test('at agent start every resource is unknown: held, not active, and adopted by an idempotent start', () => {
  const g = newGroup('server1', specs);
  assert.ok(groupHeld(g));
  assert.not.ok(groupActive(g));
  g.target = 'online';
  assert.equal(settle(g), RESOURCE_ORDER.map((k) => `start ${k}`));
});

test('unknown leftovers of a group we must not serve are stopped', () => {
  const g = newGroup('server2', specs);
  g.target = 'offline';
  assert.equal(settle(g).length, RESOURCE_ORDER.length);
  assert.not.ok(groupHeld(g));
});

test('a late or duplicate result is ignored', () => {
  const g = offlineGroup();
  assert.is(resourceDone(g, 'filesystem', 'start', true, undefined, 0, LIMIT), null);
  assert.is(g.resources[1]!.state, 'offline');
});

test.run();
