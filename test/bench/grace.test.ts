// Reading a Ganesha log for its grace period, and how long the benchmark's libnfs writer falls silent: checked on
// lines in Ganesha 4.3's own format (its default time stamp, the messages of nfs4_recovery.c).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { graceIn, quietMsFor } from '../../bench/grace.ts';

const line = (time: string, message: string) => `07/12/2026 ${time} : epoch 6755a1b2 : server2 : ganesha.nfsd-4242[reaper] fn :STATE :EVENT :${message}`;

const log = [
  line('12:00:01', 'NFS Server Now IN GRACE, duration 7'),
  line('12:00:01', 'NFS Server Now NOT IN GRACE'),
  line('12:10:00', 'NFS Server Now IN GRACE, duration 7'),
  line('12:10:00', 'check grace:reclaim complete(0) clid count(3)'),
  line('12:10:03', 'check grace:reclaim complete(1) clid count(3)'),
  line('12:10:07', 'NFS Server Now NOT IN GRACE'),
  line('12:20:00', 'NFS Server Now IN GRACE, duration 7'),
  line('12:20:00', 'check grace:reclaim complete(0) clid count(1)'),
  line('12:20:03', 'check grace:reclaim complete(1) clid count(1)'),
  line('12:20:03', 'NFS Server Now NOT IN GRACE'),
  line('12:30:00', 'NFS Server Now IN GRACE, duration 10'),
].join('\n');

test('the first grace from a moment on: clients on record, reclaimed at the last check, how long it lasted', () => {
  assert.equal(graceIn(log, Date.UTC(2026, 11, 7, 12, 5)), { onRecord: 3, reclaimed: 1, lastedS: 7, durationS: 7 });
  assert.equal(graceIn(log, Date.UTC(2026, 11, 7, 12, 15)), { onRecord: 1, reclaimed: 1, lastedS: 3, durationS: 7 });
});

test('a moment within the start second still finds it; one not yet ended has no length; none is null', () => {
  assert.equal(graceIn(log, Date.UTC(2026, 11, 7, 12, 10, 0, 700))?.lastedS, 7);
  assert.equal(graceIn(log, Date.UTC(2026, 11, 7, 12, 25)), { onRecord: 0, reclaimed: 0, lastedS: null, durationS: 10 });
  assert.is(graceIn(log, Date.UTC(2026, 11, 7, 13)), null);
  assert.is(graceIn('not a log line\n', 0), null);
});

test('the writer is silent past a lease and a reaper pass only when the kernel client alone must be on record', () => {
  assert.is(quietMsFor('libnfs-v4.0', 7), 0);
  assert.is(quietMsFor('v4.1-only', 7), 13_000);
  assert.is(quietMsFor('v4.1-only', 10), 18_000);
});

test.run();
