// The knfsd profile on real kernel NFS servers (issue 15): two server guests sharing one disk image run the profile's
// command lines (lab/knfsd-guests.ts), and a kernel NFSv4.1 client guest works on the virtual server through a
// takeover (the serving guest powered off) and a failback (it boots again and gets the virtual server back).
// What must hold: no operation fails, every fsync'ed write is there afterwards, both locks are kept; and the kernel
// server, its NFSv4 client records on the shared disk (nfsdcld), ends grace as soon as the client has reclaimed
// (the kernel says so), after each move. The agent does not run in the guests (see lab/knfsd-guests.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knfsdTrial, graceOf, type KnfsdMove } from '../../lab/knfsd-guests.ts';
import { labDown, labUp } from '../../lab/lifecycle.ts';

const prefix = `hk${process.pid}`;

test.before(async () => {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
});

test.after(async () => {
  await labDown(prefix); // stops the guests too
});

test('graceOf reads when the kernel began and ended grace', () => {
  assert.equal(graceOf([
    '[   16.674415] NFSD: Using nfsdcld client tracking operations.',
    '[   16.674652] NFSD: starting 10-second grace period (net f0000000)',
    '[   17.557057] NFSD: all clients done reclaiming, ending NFSv4 grace period (net f0000000)',
  ]), { graceEndedEarly: true, graceMs: 882 });
  assert.equal(graceOf(['[    5.161121] NFSD: starting 10-second grace period (net f0000000)']), { graceEndedEarly: false, graceMs: null });
});

test('a kernel NFSv4.1 client keeps its data and locks through a takeover and a failback between kernel servers', async () => {
  const trial = await knfsdTrial(prefix, 10, (line) => console.log(`    ${line}`));
  const { verdict } = trial;
  console.log(`    client: ${verdict.ops} operations, ${verdict.failed} failed, ${verdict.lost} of ${verdict.fsynced} fsync'ed writes lost, locks ${verdict.locks}`);
  assert.is(verdict.failed, 0, `failed operations: ${verdict.failures.join(', ')}`);
  assert.is(verdict.lost, 0);
  assert.ok(verdict.locksKept, verdict.locks);
  const moves: Array<[string, KnfsdMove]> = [['takeover', trial.takeover], ['failback', trial.failback]];
  for (const [name, move] of moves) {
    assert.ok(move.kernel.some((l) => l.includes('Using nfsdcld client tracking')), `${name}: the kernel tracks clients with nfsdcld: ${move.kernel.join(' | ')}`);
    assert.ok(move.graceEndedEarly, `${name}: the kernel ended grace once the client had reclaimed: ${move.kernel.join(' | ')}`);
  }
});

test.run();
