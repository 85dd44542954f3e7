// The client our users run: a Linux kernel NFS client (Debian's cloud kernel under QEMU, lab/guest/) with a hard
// NFSv4.1 mount of server1's export writes, fsyncs and reads back new files, keeps a file open, holds a flock and an
// fcntl lock and reads a stream, while server1 is powered off and server2 takes it over. No operation may fail
// (a hard mount waits instead), every fsync'ed write must be there afterwards, on server2's disk too, and both
// lock holders must have kept their locks: a Linux client that could not reclaim a lock fails I/O under it with EIO.
// The stall is printed, not asserted: it is a figure of the machine as much as of hanfs.
//
// The locks are lost in some runs today (see LOCKS_MAY_BE_LOST): then it is printed as an expected failure, never skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { phaseOf, powerOff } from '../../lab/agents.ts';
import { srvDir } from '../../lab/config.ts';
import { sh } from '../../lab/exec.ts';
import { commandGuest } from '../../lab/guest/control.ts';
import { lastConsoleLines, startGuest } from '../../lab/guest/lifecycle.ts';
import { LOCK_LOOPS, lockVerdict } from '../../lab/guest/locks.ts';
import type { Guest } from '../../lab/guest/registry.ts';
import { formatReport, parseOps, report, resultLines, streamOf } from '../../lab/guest/results.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { onNode } from '../../lab/mountns.ts';
import { waitUntil } from '../../lab/wait.ts';

const prefix = `hk${process.pid}`;
let guest: Guest;

/** Operations of each workload loop that succeeded after the results port's line `from`. */
function okSince(from: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const o of parseOps(resultLines(prefix, guest.name).slice(from))) {
    if (o.ok) counts.set(streamOf(o.op), (counts.get(streamOf(o.op)) ?? 0) + 1);
  }
  return counts;
}

const LOOPS = ['new files', 'read stream', 'open', ...LOCK_LOOPS];

/**
 * Known failure (issue 13), in about half the runs: after the takeover the guest's kernel logs "lost 2 locks" and
 * every write under them fails with EIO. Ganesha's 2 s grace begins when it starts, before the service address is
 * up (arping -D alone waits 1 s), and the client comes back when its TCP retransmission backoff says so: after the
 * grace, its reclaim gets NFS4ERR_NO_GRACE. While this is true the lock loops are reported, not asserted; set it
 * false once fixed.
 */
const LOCKS_MAY_BE_LOST = true;

function everyLoopDid(from: number, n: number, loops = LOOPS): Promise<void> {
  return waitUntil(async () => loops.every((l) => (okSince(from).get(l) ?? 0) >= n), 60_000,
    `every workload loop succeeded ${n} times`, () => [JSON.stringify(Object.fromEntries(okSince(from))),
      ...resultLines(prefix, guest.name).filter((l) => !/^op=(write|read|stream|open-)/.test(l)).slice(-10),
      lastConsoleLines(prefix, guest.name, 10)].join('\n'), 200);
}

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  const bootFrom = Date.now();
  guest = await startGuest(prefix, { net: 'neta', vers: '4.1' });
  console.log(`    guest ${guest.name} booted and mounted ${guest.server}:${guest.export} in ${Date.now() - bootFrom} ms`);
});

test.after(async () => {
  await labDown(prefix); // stops the guest too
});

test('a kernel NFSv4.1 client loses nothing and keeps its locks while server1 is powered off and taken over', async () => {
  const started = await commandGuest(prefix, guest.name, 'start');
  const dir = started.split('dir=')[1]!;
  await everyLoopDid(0, 5);

  const offAt = Date.now();
  await powerOff(prefix, 'server1');
  await waitUntil(async () => (await phaseOf(prefix, 'server2')) === 'serving_both', 30_000, 'server2 serving both');
  const takenOverMs = Date.now() - offAt;
  await everyLoopDid(resultLines(prefix, guest.name).length, 5, LOCKS_MAY_BE_LOST ? LOOPS.filter((l) => !LOCK_LOOPS.includes(l)) : LOOPS);
  const backMs = Date.now() - offAt;

  await commandGuest(prefix, guest.name, 'stop');
  const verified = await commandGuest(prefix, guest.name, 'verify');
  const lines = resultLines(prefix, guest.name);
  const ops = parseOps(lines);
  const r = report(ops);
  console.log(`    power-off → server2 serving both: ${takenOverMs} ms; every loop of the guest working again within ${backMs} ms`);
  console.log(formatReport(r).replace(/^/gm, '    '));

  const notLocks = r.failures.filter((f) => !LOCK_LOOPS.includes(streamOf(f.op)));
  assert.equal(notLocks.map((f) => `${f.op} ${f.file}`), [], 'failed operations');
  assert.match(verified, / bad=0$/);
  const check = (tag: string) => ops.find((o) => o.op === `${tag}-verify`);
  assert.ok(check('open')?.ok, `the open file: every acknowledged record read back (${JSON.stringify(check('open')?.extra)})`);
  assert.is(check('open')?.extra.writeFailures, '0', 'the open file: no write failed');

  // Each lock taken once, before the power-off; every write through the locked descriptor succeeded after it.
  const { kept: locksKept, complaints, failures: lockFailures } = lockVerdict(prefix, guest.name, ops);
  if (LOCKS_MAY_BE_LOST && !locksKept) {
    console.log(`    EXPECTED FAILURE (issue 13): locks lost through the takeover: ${complaints.join('; ')}; `
      + `${lockFailures.length} operations under them failed (${[...new Set(lockFailures.map((f) => f.extra.err))].join(', ')})`);
  } else {
    if (LOCKS_MAY_BE_LOST) console.log('    both locks kept through the takeover');
    assert.equal(complaints, [], "the guest's kernel reports no lost state");
    assert.equal(lockFailures.map((f) => `${f.op} ${f.extra.err}`), [], 'operations under the locks');
    for (const tag of LOCK_LOOPS) assert.ok(check(tag)?.ok, `${tag}: every acknowledged record read back`);
  }
  for (const lock of ['flock-lock', 'fcntl-lock']) assert.equal(ops.filter((o) => o.op === lock).map((o) => o.ok), [true], lock);

  // Every fsync'ed new file is on the disk that server2 now serves, seen from server2 itself.
  const written = ops.filter((o) => o.op === 'write' && o.ok).map((o) => o.file);
  const onDisk = new Set((await sh(onNode(prefix, 'server2', ['ls', `${srvDir(prefix, 'server1')}/${dir.replace('/mnt/', '')}`]))).split('\n'));
  assert.equal(written.filter((f) => !onDisk.has(f)), [], 'acknowledged files missing on the disk');
  assert.ok(written.length > 0);
});

test.run();
