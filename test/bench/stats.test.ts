// The benchmark's statistics and /proc parsing: pure functions, checked on hand-made values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuPercent, parseProcStat } from '../../bench/proc-stat.ts';
import { median, pairRatios, summarize } from '../../bench/stats.ts';

test('median of odd and even counts, unsorted input left alone', () => {
  const values = [5, 1, 3];
  assert.is(median(values), 3);
  assert.equal(values, [5, 1, 3]);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no values/);
});

test('summaries skip trials without a figure; none at all is null', () => {
  assert.equal(summarize([300, null, 100, 200]), { n: 3, median: 200, min: 100, max: 300 });
  assert.is(summarize([null, null]), null);
});

test('ratios pair trial i with trial i, skipping pairs with a missing side', () => {
  assert.equal(pairRatios([100, 200, null, 400], [50, null, 10, 100]), [2, 4]);
});

test('/proc/PID/stat: CPU of the process and its waited-for children, RSS; a command name with spaces and parentheses', () => {
  const line = '4242 (node (hanfs) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 70 30 5 5 20 0 11 0 1000 123456789 2500 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n';
  assert.equal(parseProcStat(line), { cpuTicks: 110, rssPages: 2500 });
  assert.throws(() => parseProcStat('4242 (x) S 1 2'), /short/);
  assert.throws(() => parseProcStat('garbage'), /not a \/proc/);
});

test('CPU as a percentage of one core', () => {
  assert.is(cpuPercent({ cpuTicks: 100, rssPages: 0 }, { cpuTicks: 150, rssPages: 0 }, 10_000, 100), 5);
});

test.run();
