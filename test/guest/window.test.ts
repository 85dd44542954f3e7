// A phase of a guest's run: its stall is measured from each loop's last operation before the phase, which is not
// counted as one of the phase's own; and a loop that has not answered since a mark holds the phase open.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { everyLoopAnswered, phaseReport } from '../../lab/guest/window.ts';

const lines = [
  'op=write file=w1 ok=1 startMs=0 durMs=10', // before the phase: the start of the first gap
  'op=stream file=s@0 ok=0 startMs=0 durMs=50',
  'started dir=/mnt/g1.1',
  'op=write file=w2 ok=1 startMs=5000 durMs=10', // in the phase: the stall 10 → 5010
  'op=write file=w3 ok=0 startMs=5100 durMs=10',
];

test('a phase: the stall that ends in it, counted from the last operation before it; its own operations only', () => {
  const r = phaseReport(lines, 2);
  assert.is(r.longestStallMs, 5000);
  assert.is(r.longestStallStream, 'new files');
  assert.is(r.ops, 2);
  assert.is(r.failed, 1);
  assert.equal(r.streams['new files']!.ops, 2);
  assert.equal(r.streams['read stream']!.ops, 0, 'the stream answered only before the phase');
});

test('every loop answered since a mark', () => {
  assert.ok(everyLoopAnswered(lines, 0, ['new files', 'read stream']));
  assert.not.ok(everyLoopAnswered(lines, 2, ['new files', 'read stream']));
});

test.run();
