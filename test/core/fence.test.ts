import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyOutbox, fenceBeats, fenceSuperseded, mergeOutbox } from '../../agent/core/fence.ts';

test('a fence beats no fence, and a released one of the same term', () => {
  assert.ok(fenceBeats({ term: 1, active: true }, null, true));
  assert.ok(fenceBeats({ term: 5, active: true }, { term: 5, active: false }, true));
});

test('a fence of ours with a higher term beats an older one of theirs, also once released', () => {
  assert.not.ok(fenceBeats({ term: 1, active: true }, { term: 2, active: false }, false));
  assert.ok(fenceBeats({ term: 2, active: true }, { term: 2, active: false }, true));
  assert.ok(fenceSuperseded({ term: 1, active: true }, { term: 2, active: false }));
  assert.not.ok(fenceSuperseded({ term: 2, active: true }, { term: 1, active: true }));
});

test('of two active fences the higher term wins', () => {
  assert.ok(fenceBeats({ term: 3, active: true }, { term: 2, active: true }, true));
  assert.not.ok(fenceBeats({ term: 2, active: true }, { term: 3, active: true }, false));
});

test('on equal terms the node listed first wins', () => {
  assert.not.ok(fenceBeats({ term: 4, active: true }, { term: 4, active: true }, true));
  assert.ok(fenceBeats({ term: 4, active: true }, { term: 4, active: true }, false));
});

test('merging copies from the network and the disk keeps the newest of each field', () => {
  const disk = { ...emptyOutbox(), fence: { term: 2, active: true }, ping: 7, reintegrateRequest: 1 };
  const net = { ...emptyOutbox(), fence: { term: 2, active: false }, ping: 5, reintegrateRequest: 2 };
  const merged = mergeOutbox(disk, net);
  assert.equal(merged.fence, { term: 2, active: false });
  assert.is(merged.ping, 7);
  assert.is(merged.reintegrateRequest, 2);
  // A stale copy that still shows the fence active cannot undo its release.
  assert.equal(mergeOutbox(merged, disk).fence, { term: 2, active: false });
  assert.equal(mergeOutbox(merged, { ...disk, fence: { term: 3, active: true } }).fence, { term: 3, active: true });
});

test.run();
