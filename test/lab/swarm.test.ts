// Swarms of stateful NFSv4.1 clients through a takeover and the failback, for real (lab/swarm), in one lab: each
// client identity holds an open file and a write lock on /srv1; server1 crashes and server2 takes 198.51.100.11 and
// /srv1 over with a fresh Ganesha in its grace period; then server1 comes back fenced and is reintegrated, and its
// own fresh Ganesha serves /srv1 again, in grace again. After each move every client must reclaim its open
// (CLAIM_PREVIOUS) and its lock (reclaim) and send RECLAIM_COMPLETE; the intruder's conflicting lock must be refused
// with NFS4ERR_GRACE during grace and denied after it; the server must hold every open and lock afterwards.
//
// 30 clients must get through both moves today. 1000 do not, in most runs: the lab's 2 s grace runs out before the
// last of them has reclaimed (SWARM_1000_MAY_LOSE_STATE): that is printed as an EXPECTED FAILURE with the figures,
// never skipped, while what must hold whatever the grace (the intruder never gets a member's lock, the server never
// loses a lock it granted back) is asserted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { swarmThroughTakeover, type LabSwarmRun } from '../../lab/swarm/in-lab.ts';
import { formatReport, type SwarmReport } from '../../lab/swarm/report.ts';

const prefix = `hw${process.pid}`;

/**
 * Known failure (issue 13): with 1000 clients the 2 s grace of the lab's Ganesha, which starts before the service
 * address is up, ends before every client has reclaimed (NFS4ERR_NO_GRACE). The fast-failover issue (grace counted
 * from the address, tickle ACKs) fixes it; then this goes false and the 1000 must reclaim everything, as the 30 do.
 */
const SWARM_1000_MAY_LOSE_STATE = true;

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
});

test.after(async () => {
  await labDown(prefix);
});

function print(run: LabSwarmRun): void {
  console.log(`    takeover: ${formatReport(run.report).replace(/\n/g, '\n    ')}`);
  console.log(`      crash → server2 serving both ${run.crashToServingBothMs} ms`);
  if (run.failback) {
    console.log(`    failback: ${formatReport(run.failback).replace(/\n/g, '\n    ')}`);
    console.log(`      hanfs reintegrate → both normal ${run.reintegrateToBothNormalMs} ms`);
  }
  console.log(`      the swarm ran ${run.swarmMs} ms`);
}

/**
 * What must hold after any move, whatever the grace: the intruder never got a lock its member had reclaimed (a
 * member that could not reclaim has none to defend: the grant is then that member's loss, counted as such), and
 * nothing the server granted back was lost.
 */
function assertSafe(r: SwarmReport, move: string): void {
  assert.ok(r.intruder, `${move}: an intruder ran`);
  assert.ok(!(r.intruder!.granted && r.intruder!.victimReclaimed), `${move}: the intruder got a lock its member had reclaimed`);
  const allowed = r.intruder!.victimReclaimed ? ['NFS4ERR_GRACE', 'NFS4ERR_DENIED'] : ['NFS4ERR_GRACE', 'NFS4ERR_DENIED', 'NFS4_OK'];
  assert.ok(Object.keys(r.intruder!.answers).every((a) => allowed.includes(a)), `${move}: ${JSON.stringify(r.intruder!.answers)}`);
  assert.is(r.lostAfterReclaim, 0, `${move}: state the server granted back and lost`);
  assert.ok(r.settled, `${move}: every client settled`);
}

/** Every client reclaimed everything and the server holds it all. */
function assertEverythingReclaimed(r: SwarmReport, clients: number, move: string): void {
  assert.is(r.holding, clients, `${move}: every client held its open and lock before the move`);
  assert.equal([r.reclaimedOpens, r.reclaimedLocks, r.reclaimCompletes], [clients, clients, clients], `${move}: reclaimed`);
  assert.equal(r.failures, {}, `${move}: failures`);
  assert.is(r.intruder!.granted, false, `${move}: the intruder never got the lock`);
  assert.ok(r.intruder!.probedDuringGrace, `${move}: the intruder asked for the lock during grace`);
  assert.equal([r.opensHeld, r.locksHeld, r.rangesLocked], [clients, clients, clients], `${move}: the server holds every open and lock`);
  assert.is(r.stateLost, 0, `${move}: state lost`);
}

test('30 NFSv4.1 clients reclaim every open and lock after a takeover and after the failback; the intruder is refused during grace', async () => {
  const run = await swarmThroughTakeover(prefix, 30, { failback: true });
  print(run);
  for (const [move, r] of [['takeover', run.report], ['failback', run.failback!]] as const) {
    assertSafe(r, move);
    assertEverythingReclaimed(r, 30, move);
  }
  assert.is(run.exitCode, 0);
});

test('1000 NFSv4.1 clients through a takeover and the failback: how many reclaimed (expected to fail until the fast-failover issue)', async () => {
  const run = await swarmThroughTakeover(prefix, 1000, { failback: true, readyTimeoutMs: 180_000 });
  print(run);
  assert.is(run.report.holding, 1000, 'every client held its open and lock before the takeover');
  const lost: string[] = [];
  for (const [move, r] of [['takeover', run.report], ['failback', run.failback!]] as const) {
    assertSafe(r, move);
    if (r.stateLost > 0 || r.reclaimedLocks < r.holding) {
      lost.push(`${move}: ${r.reclaimedLocks} of ${r.holding} reclaimed their lock, ${r.stateLost} lost their state (${Object.entries(r.failures).map(([k, n]) => `${n} × ${k}`).join('; ') || 'no error'})`);
    }
  }
  if (SWARM_1000_MAY_LOSE_STATE && lost.length > 0) {
    console.log(`    EXPECTED FAILURE (issue 13, until the fast-failover issue): ${lost.join('; ')}`);
    return;
  }
  if (SWARM_1000_MAY_LOSE_STATE) console.log('    every one of the 1000 reclaimed everything through both moves this time');
  assertEverythingReclaimed(run.report, 1000, 'takeover');
  assertEverythingReclaimed(run.failback!, 1000, 'failback');
  assert.is(run.exitCode, 0);
});

test.run();
