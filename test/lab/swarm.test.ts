// A swarm of stateful NFSv4.1 clients through a takeover, for real (lab/swarm): 30 client identities each hold an
// open file and a write lock on /srv1; server1 crashes and server2 takes 198.51.100.11 and /srv1 over with a fresh
// Ganesha in its grace period. Every client must reclaim its open (CLAIM_PREVIOUS) and its lock (reclaim) and send
// RECLAIM_COMPLETE; the intruder's conflicting lock must be refused with NFS4ERR_GRACE during grace and denied
// after it; the server must hold every open and lock afterwards. The figures are printed, not asserted: with
// many more clients the lab's 2 s grace runs out first (lab/swarm/takeover.ts measures that).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labDown, labUp } from '../../lab/lifecycle.ts';
import { swarmThroughTakeover } from '../../lab/swarm/in-lab.ts';
import { formatReport } from '../../lab/swarm/report.ts';

const prefix = `hw${process.pid}`;
const CLIENTS = 30;

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
});

test.after(async () => {
  await labDown(prefix);
});

test(`${CLIENTS} NFSv4.1 clients reclaim every open and lock after a takeover; the intruder is refused during grace`, async () => {
  const run = await swarmThroughTakeover(prefix, CLIENTS);
  const r = run.report;
  console.log(formatReport(r).split('\n').map((l) => `    ${l}`).join('\n'));
  console.log(`      crash → server2 serving both ${run.crashToServingBothMs} ms`);
  assert.is(r.holding, CLIENTS, 'every client held its open and lock before the move');
  assert.equal([r.reclaimedOpens, r.reclaimedLocks, r.reclaimCompletes], [CLIENTS, CLIENTS, CLIENTS], formatReport(r));
  assert.equal(r.failures, {});
  assert.ok(r.intruder, 'an intruder ran');
  assert.ok(r.intruder!.probedDuringGrace, 'the intruder asked for the lock during grace');
  assert.is(r.intruder!.granted, false, 'the intruder never got the lock');
  assert.ok(Object.keys(r.intruder!.answers).every((a) => a === 'NFS4ERR_GRACE' || a === 'NFS4ERR_DENIED'), JSON.stringify(r.intruder!.answers));
  assert.equal([r.opensHeld, r.locksHeld, r.rangesLocked], [CLIENTS, CLIENTS, CLIENTS], 'the server holds every open and lock');
  assert.is(r.stateLost, 0);
  assert.ok(r.settled);
  assert.is(run.exitCode, 0);
});

test.run();
