// The swarm report's summaries (lab/swarm/stats.ts): nearest-rank percentiles and counts by error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spread, tally } from '../../lab/swarm/stats.ts';

test('median, p99 and max by nearest rank; the input left unsorted', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(spread(values), { count: 100, median: 50, p99: 99, max: 100 });
  assert.is(values[0], 100);
  assert.equal(spread([7]), { count: 1, median: 7, p99: 7, max: 7 });
  assert.is(spread([]), null);
});

test('errors counted, the most frequent first', () => {
  assert.equal(Object.entries(tally(['b', 'a', 'b'])), [['b', 2], ['a', 1]]);
});

test.run();
