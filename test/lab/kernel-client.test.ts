// The client our users run: Linux kernel NFS clients (Debian's cloud kernel under QEMU, lab/guest/), one with a hard
// NFSv4.1 mount of server1's export and one with NFSv4.0, side by side, write, fsync and read back new files, keep a
// file open, hold a flock and an fcntl lock and read a stream, while server1 is powered off and server2 takes it
// over, and again while server1 comes back fenced and is reintegrated (`hanfs reintegrate`: server2 hands /srv1
// back). No operation may fail (a hard mount waits instead), every fsync'ed write must be there afterwards, on
// server1's disk too, and both lock holders must have kept their locks: a Linux client that could not reclaim a lock
// fails I/O under it with EIO, and a second party (lab/swarm/lock-probe.ts, an NFSv4.1 client of its own in client1's
// namespace) asking the server for a conflicting lock on each locked file must be refused, before the takeover,
// after it and after the failback. Each guest boots once; both go through the same two moves.
// The stalls are printed, not asserted: they are figures of the machine as much as of hanfs.
//
// A version whose locks are known to be lost (LOCKS_MAY_BE_LOST, none of those run here today) is printed as an
// expected failure, never skipped.
import { readFile } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { phaseOf, powerOff, powerOn } from '../../lab/agents.ts';
import { KERNEL_CLIENT_NFS, srvDir } from '../../lab/config.ts';
import { sh } from '../../lab/exec.ts';
import { commandGuest } from '../../lab/guest/control.ts';
import { guestImage } from '../../lab/guest/initramfs.ts';
import { lastConsoleLines, startGuest } from '../../lab/guest/lifecycle.ts';
import { LOCK_LOOPS, lockVerdict } from '../../lab/guest/locks.ts';
import type { Guest, NfsVersion } from '../../lab/guest/registry.ts';
import { formatReport, parseOps, report, resultLines, streamOf, type Op } from '../../lab/guest/results.ts';
import { phaseReport } from '../../lab/guest/window.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { onNode } from '../../lab/mountns.ts';
import { reintegrate } from '../../lab/scenarios/harness.ts';
import { labPath } from '../../lab/state.ts';
import { probeLocks } from '../../lab/swarm/in-lab.ts';
import type { ProbeAnswer } from '../../lab/swarm/lock-probe.ts';
import { waitUntil } from '../../lab/wait.ts';

const prefix = `hk${process.pid}`;
const VERSIONS: NfsVersion[] = ['4.1', '4.0'];
const guests = new Map<NfsVersion, Guest>();

/**
 * NFSv4.0 lost its locks at the failback in every run until the lab's power-off forgot the server's TCP connections
 * (lab/machine.sh): the sockets of the killed Ganesha lived on in server1's namespace and, once server1 held the
 * address again, answered the tickled NFSv4.0 client (which reconnects from its old port) with ACKs instead of a
 * reset, so it reconnected only at its own retransmission, 18 s later, after the grace period. A machine that
 * loses power has no such sockets; the lab now has none either, and both versions must keep their locks. NFSv3
 * does not run here (this lab's groups are NFSv4 only): test/lab/nfsv3.test.ts runs it against a group served with
 * NFSv3 too.
 */
const LOCKS_MAY_BE_LOST: Record<NfsVersion, boolean> = { '4.1': false, '4.0': false, '3': true };

const LOOPS = ['new files', 'read stream', 'open', ...LOCK_LOOPS];
const workingLoops = (vers: NfsVersion) => (LOCKS_MAY_BE_LOST[vers] ? LOOPS.filter((l) => !LOCK_LOOPS.includes(l)) : LOOPS);
/** The files the guest workload's lock holders lock whole (lab/guest/init.sh), as the loop names them. */
const LOCK_FILES: Record<string, string> = { flock: 'flock.dat', fcntl: 'fcntl.dat' };
const MOMENTS = ['before the takeover', 'after the takeover', 'after the failback'] as const;

/** What the one run through both moves leaves for each guest's own test. */
interface GuestRun {
  guest: Guest;
  /** The guest's workload directory, relative to the export. */
  dir: string;
  ops: Op[];
  verified: string;
  /** Per moment, per lock loop: the second party's answer. */
  probes: Record<(typeof MOMENTS)[number], Record<string, ProbeAnswer>>;
  takeover: ReturnType<typeof phaseReport>;
  failback: ReturnType<typeof phaseReport>;
}
const runs = new Map<NfsVersion, GuestRun>();

/** Operations of each workload loop that succeeded after the results port's line `from`. */
function okSince(g: Guest, from: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const o of parseOps(resultLines(prefix, g.name).slice(from))) {
    if (o.ok) counts.set(streamOf(o.op), (counts.get(streamOf(o.op)) ?? 0) + 1);
  }
  return counts;
}

function everyLoopDid(g: Guest, from: number, n: number, loops = LOOPS): Promise<void> {
  return waitUntil(async () => loops.every((l) => (okSince(g, from).get(l) ?? 0) >= n), 60_000,
    `every workload loop of ${g.name} (vers=${g.vers}) succeeded ${n} times`, () => [JSON.stringify(Object.fromEntries(okSince(g, from))),
      ...resultLines(prefix, g.name).filter((l) => !/^op=(write|read|stream|open-)/.test(l)).slice(-10),
      lastConsoleLines(prefix, g.name, 10)].join('\n'), 200);
}

/**
 * Starts the guest's workload. Its first operation, a mkdir under the mount's root, failed once with EIO right
 * after the mount, under heavy load (npm test beside the million-seed simulation): not yet understood, so a failure
 * brings the guest's console and the end of Ganesha's log with it.
 */
async function startWorkload(g: Guest): Promise<string> {
  try {
    return await commandGuest(prefix, g.name, 'start');
  } catch (err) {
    const tail = async (file: string, lines: number) =>
      (await readFile(labPath(prefix, file), 'utf8').catch((e: Error) => e.message)).trim().split('\n').slice(-lines).join('\n');
    throw new Error([(err as Error).message, `console: ${lastConsoleLines(prefix, g.name, 15)}`,
      `ganesha.log: ${await tail('server1-run/server1/ganesha.log', 15)}`, `server1's agent: ${await tail('server1.log', 15)}`].join('\n'));
  }
}

const marks = () => new Map([...guests.values()].map((g) => [g.name, resultLines(prefix, g.name).length]));

test.before(async () => {
  // The lease a Linux client lives with (README, "A lease under 7 s gives Linux clients EIO"): the guest booted first
  // sits idle, mounted, while the second boots, and with the lab's 2 s lease its first mkdir met EIO (seen once the
  // guests' image grew by the kernel server's tools and their boot took longer).
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000, nfs: KERNEL_CLIENT_NFS });
  await guestImage(); // built once, before the guests boot side by side
  const bootFrom = Date.now();
  // Both settled before a failure is thrown, so that the lab's removal finds no guest still booting.
  const booted = await Promise.allSettled(VERSIONS.map(async (vers) => {
    const g = await startGuest(prefix, { net: 'neta', vers });
    guests.set(vers, g);
    console.log(`    guest ${g.name} (vers=${vers}) booted and mounted ${g.server}:${g.export} in ${Date.now() - bootFrom} ms`);
  }));
  for (const b of booted) if (b.status === 'rejected') throw b.reason;
});

test.after(async () => {
  await labDown(prefix); // stops the guests too
});

test('NFSv4.1 and NFSv4.0 kernel clients side by side through a crash of server1, its takeover and the failback', async () => {
  const dirs = new Map<NfsVersion, string>();
  for (const [vers, g] of guests) dirs.set(vers, (await startWorkload(g)).split('dir=')[1]!.replace('/mnt/', ''));
  for (const g of guests.values()) await everyLoopDid(g, 0, 5);
  const lockFiles = [...dirs.values()].flatMap((d) => Object.values(LOCK_FILES).map((f) => `${d}/${f}`));
  const probes: Record<string, Record<string, ProbeAnswer>> = {};
  const probeFrom = Date.now();
  probes['before the takeover'] = await probeLocks(prefix, '/srv1', lockFiles);
  const probeMs = Date.now() - probeFrom;
  // The second party must see the locks while nothing has moved: else its "free" later would prove nothing.
  assert.equal(Object.entries(probes['before the takeover']!).filter(([, a]) => a.answer !== 'locked').map(([f, a]) => `${f}: ${a.answer}`), [],
    'the second party is refused every held lock before the takeover');

  const crashMarks = marks();
  const offAt = Date.now();
  // Links first, as a machine losing power: a server whose kernel outlives its processes closes the clients'
  // connections (FIN), and they reconnect with SYN backoff instead of being tickled by the new owner.
  await powerOff(prefix, 'server1');
  await waitUntil(async () => (await phaseOf(prefix, 'server2')) === 'serving_both', 30_000, 'server2 serving both');
  const takenOverMs = Date.now() - offAt;
  for (const [vers, g] of guests) await everyLoopDid(g, crashMarks.get(g.name)!, 5, workingLoops(vers));
  const backMs = Date.now() - offAt;
  // server1 boots (fenced, holding nothing) while the second party asks server2: the two do not meet.
  [probes['after the takeover']] = await Promise.all([probeLocks(prefix, '/srv1', lockFiles), powerOn(prefix, 'server1')]);

  const askMarks = marks();
  const askedAt = Date.now();
  await reintegrate(prefix, 'server1'); // waits for server1 fenced, asks, waits for both normal
  const reintegratedMs = Date.now() - askedAt;
  for (const [vers, g] of guests) await everyLoopDid(g, askMarks.get(g.name)!, 5, workingLoops(vers));
  const failedBackMs = Date.now() - askedAt;
  probes['after the failback'] = await probeLocks(prefix, '/srv1', lockFiles);
  const endMarks = marks();

  console.log(`    crash → server2 serving both: ${takenOverMs} ms; every loop of both guests working again within ${backMs} ms`);
  console.log(`    hanfs reintegrate → both normal: ${reintegratedMs} ms (server1 back and fenced first); every loop working again within ${failedBackMs} ms`);
  console.log(`    the second party's LOCKT (a new NFSv4.1 client each time): ${probeMs} ms for ${lockFiles.length} files before the takeover`);
  // Both guests stop and read everything back at once: each is a QEMU of its own.
  const stopFrom = Date.now();
  await Promise.all([...guests].map(async ([vers, g]) => {
    await commandGuest(prefix, g.name, 'stop');
    const verified = await commandGuest(prefix, g.name, 'verify');
    const lines = resultLines(prefix, g.name);
    const dir = dirs.get(vers)!;
    const byLoop = (answers: Record<string, ProbeAnswer>) => Object.fromEntries(Object.entries(LOCK_FILES).map(([loop, f]) => [loop, answers[`${dir}/${f}`]!]));
    runs.set(vers, {
      guest: g, dir, ops: parseOps(lines), verified,
      probes: Object.fromEntries(MOMENTS.map((m) => [m, byLoop(probes[m]!)])) as GuestRun['probes'],
      takeover: phaseReport(lines, crashMarks.get(g.name)!, askMarks.get(g.name)!),
      failback: phaseReport(lines, askMarks.get(g.name)!, endMarks.get(g.name)!),
    });
  }));
  console.log(`    both guests stopped their workload and read every fsync'ed write back in ${Date.now() - stopFrom} ms`);
});

for (const vers of VERSIONS) {
  test(`the NFSv${vers} kernel client lost nothing through the takeover and the failback, and kept its locks`, async () => {
    const run = runs.get(vers);
    assert.ok(run, 'the guest went through both moves (see the test before)');
    const { guest, ops, verified, dir } = run!;
    const r = report(ops);
    console.log(`    ${guest.name}, NFSv${vers}: the takeover: longest stall ${run!.takeover.longestStallMs} ms (${run!.takeover.longestStallStream}); `
      + `the failback: ${run!.failback.longestStallMs} ms (${run!.failback.longestStallStream})`);
    console.log(formatReport(r).replace(/^/gm, '      '));

    const notLocks = r.failures.filter((f) => !LOCK_LOOPS.includes(streamOf(f.op)));
    assert.equal(notLocks.map((f) => `${f.op} ${f.file}`), [], 'failed operations');
    assert.match(verified, / bad=0$/);
    const check = (tag: string) => ops.find((o) => o.op === `${tag}-verify`);
    assert.ok(check('open')?.ok, `the open file: every acknowledged record read back (${JSON.stringify(check('open')?.extra)})`);
    assert.is(check('open')?.extra.writeFailures, '0', 'the open file: no write failed');
    for (const lock of ['flock-lock', 'fcntl-lock']) assert.equal(ops.filter((o) => o.op === lock).map((o) => o.ok), [true], `${lock}: taken once, before the takeover`);

    // Each lock taken once, before the crash; every write through the locked descriptor succeeded after it; and
    // the server refused a second party the same lock after each move.
    const { kept, complaints, failures } = lockVerdict(prefix, guest.name, ops);
    const refused = MOMENTS.slice(1).flatMap((m) => Object.entries(run!.probes[m]).filter(([, a]) => a.answer !== 'locked').map(([loop, a]) => `${loop} ${m}: ${a.answer}`));
    const grace = MOMENTS.slice(1).map((m) => `${m}: ${Object.entries(run!.probes[m]).map(([loop, a]) => `${loop} ${a.answer} (${a.graceAnswers} × NFS4ERR_GRACE first)`).join(', ')}`);
    console.log(`      the second party's conflicting lock: ${grace.join('; ')}`);
    if (LOCKS_MAY_BE_LOST[vers] && (!kept || refused.length > 0)) {
      console.log(`    EXPECTED FAILURE (issues 13, 14): NFSv${vers} locks lost through the moves: ${complaints.join('; ') || 'no message from the kernel'}; `
        + `${failures.length} operations under them failed (${[...new Set(failures.map((f) => f.extra.err))].join(', ')}); `
        + `the second party was not refused: ${refused.join(', ') || 'none'}`);
    } else {
      console.log(`    NFSv${vers}: both locks kept through the takeover and the failback`);
      assert.equal(complaints, [], "the guest's kernel reports no lost state");
      assert.equal(failures.map((f) => `${f.op} ${f.extra.err}`), [], 'operations under the locks');
      for (const tag of LOCK_LOOPS) assert.ok(check(tag)?.ok, `${tag}: every acknowledged record read back`);
      assert.equal(refused, [], 'the second party was refused every lock after each move');
    }

    // Every fsync'ed new file is on the disk that server1 serves again, seen from server1 itself.
    const written = ops.filter((o) => o.op === 'write' && o.ok).map((o) => o.file);
    const onDisk = new Set((await sh(onNode(prefix, 'server1', ['ls', `${srvDir(prefix, 'server1')}/${dir}`]))).split('\n'));
    assert.equal(written.filter((f) => !onDisk.has(f)), [], 'acknowledged files missing on the disk');
    assert.ok(written.length > 0);
  });
}

test.run();
