// The knfsd profile on real kernel NFS servers (issue 15): two server guests sharing one disk image run the profile's
// command lines (lab/knfsd-guests.ts), and a kernel client guest works on the virtual server through a takeover (the
// serving guest powered off) and a failback (it boots again and gets the virtual server back), once with NFSv4.1 and
// once with NFSv3 (NLM locks, rpc.statd in the guest). What must hold: no operation fails, every fsync'ed write is
// there afterwards, both locks are kept, and the new server's kernel holds them (/proc/locks) after each move.
// NFSv4.1: the kernel server, its client records on the shared disk (nfsdcld), ends grace as soon as the client has
// reclaimed (the kernel says so); the guest holds its locks under read delegations that the kernel hands out, so they
// show there as the delegations it reclaimed, and a second party's LOCKT (which recalls no delegation) cannot see
// them: its answers are printed, not judged. NFSv3: the client is on the group's NSM list on its disk after each
// move (notified, it reclaimed its locks and was monitored again), and a second party (an NFSv4.1 client: the kernel
// shares NLM and NFSv4 locks) asking for the locks right after each move is held off during grace, then refused.
// The agent does not run in the guests (see lab/knfsd-guests.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knfsdTrial, graceOf, type KnfsdMove, type KnfsdTrial } from '../../lab/knfsd-guests.ts';
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

/** What every trial must show, whatever the NFS version: nothing failed or lost, the locks kept and held by the new server. */
function assertKept(trial: KnfsdTrial): Array<[string, KnfsdMove]> {
  const { verdict } = trial;
  console.log(`    client: ${verdict.ops} operations, ${verdict.failed} failed, ${verdict.lost} of ${verdict.fsynced} fsync'ed writes lost, locks ${verdict.locks}`);
  assert.is(verdict.failed, 0, `failed operations: ${verdict.failures.join(', ')}`);
  assert.is(verdict.lost, 0);
  assert.ok(verdict.locksKept, verdict.locks);
  const moves: Array<[string, KnfsdMove]> = [['takeover', trial.takeover], ['failback', trial.failback]];
  for (const [name, move] of moves) {
    const answers = Object.entries(move.probe).map(([file, a]) => `${file.split('/').at(-1)} ${a.answer} (${a.graceAnswers} × NFS4ERR_GRACE first)`);
    console.log(`    ${name}: the second party: ${answers.join(', ')}`);
    for (const [file, held] of Object.entries(move.heldOnServer)) {
      console.log(`    ${name}: the new server holds on ${file.split('/').at(-1)}: ${held.map((l) => l.split(/\s+/).slice(1, 4).join(' ')).join(', ') || 'nothing'}`);
      assert.ok(held.length > 0, `${name}: the new server holds the guest's lock on ${file}, or its delegation`);
    }
  }
  return moves;
}

test('a kernel NFSv4.1 client keeps its data and locks through a takeover and a failback between kernel servers', async () => {
  for (const [name, move] of assertKept(await knfsdTrial(prefix, 10, (line) => console.log(`    ${line}`), '4.1'))) {
    assert.ok(move.kernel.some((l) => l.includes('Using nfsdcld client tracking')), `${name}: the kernel tracks clients with nfsdcld: ${move.kernel.join(' | ')}`);
    assert.ok(move.graceEndedEarly, `${name}: the kernel ended grace once the client had reclaimed: ${move.kernel.join(' | ')}`);
  }
});

test('a kernel NFSv3 client keeps its data and NLM locks, told of each move from the group\'s NSM list', async () => {
  for (const [name, move] of assertKept(await knfsdTrial(prefix, 10, (line) => console.log(`    ${line}`), '3'))) {
    assert.equal(move.nsmListed, ['198.51.100.103'], `${name}: the guest is on the group's NSM list on its disk`);
    assert.equal(Object.values(move.probe).map((a) => a.answer), ['locked', 'locked'], `${name}: the guest's locks are refused to a second party`);
    for (const held of Object.values(move.heldOnServer)) assert.ok(held.some((l) => /POSIX/.test(l)), `${name}: an NLM lock on the new server: ${held.join(' | ')}`);
  }
});

test.run();
