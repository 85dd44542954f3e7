import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReplayGuard } from '../../agent/net/heartbeat-replay.ts';

const from = 'server2';

test('a heartbeat is news once on each network', () => {
  const guard = new ReplayGuard();
  assert.is(guard.check('a', { from, gen: 1, seq: 5 }), 'fresh');
  assert.is(guard.check('b', { from, gen: 1, seq: 5 }), 'fresh');
  assert.is(guard.check('a', { from, gen: 1, seq: 5 }), 'duplicate');
  assert.is(guard.check('b', { from, gen: 1, seq: 5 }), 'duplicate');
});

test('older heartbeats are replays once their network brought newer ones, or from an older generation', () => {
  const guard = new ReplayGuard();
  guard.check('a', { from, gen: 2, seq: 5 });
  assert.is(guard.check('a', { from, gen: 2, seq: 4 }), 'replay');
  assert.is(guard.check('a', { from, gen: 1, seq: 9 }), 'replay');
  assert.is(guard.check('b', { from, gen: 1, seq: 9 }), 'replay');
  assert.is(guard.check('a', { from, gen: 2, seq: 6 }), 'fresh');
  assert.is(guard.check('b', { from, gen: 2, seq: 6 }), 'fresh');
  assert.is(guard.check('b', { from, gen: 2, seq: 5 }), 'replay', 'b brought 6 already');
});

test('a copy that comes late on a slower network is stale but no replay, and not delivered twice', () => {
  const guard = new ReplayGuard();
  guard.check('a', { from, gen: 2, seq: 5 });
  guard.check('a', { from, gen: 2, seq: 6 });
  assert.is(guard.check('b', { from, gen: 2, seq: 5 }), 'late');
  assert.is(guard.check('b', { from, gen: 2, seq: 5 }), 'replay');
  assert.is(guard.check('b', { from, gen: 2, seq: 6 }), 'fresh');
});

test('a new generation starts the sequence again', () => {
  const guard = new ReplayGuard();
  guard.check('a', { from, gen: 1, seq: 900 });
  assert.is(guard.check('a', { from, gen: 2, seq: 1 }), 'fresh');
  assert.is(guard.check('a', { from, gen: 1, seq: 901 }), 'replay');
});

test('senders are judged apart', () => {
  const guard = new ReplayGuard();
  guard.check('a', { from: 'server1', gen: 1, seq: 10 });
  assert.is(guard.check('a', { from: 'server2', gen: 1, seq: 2 }), 'fresh');
});

test.run();
