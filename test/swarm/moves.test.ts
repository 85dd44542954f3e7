// A swarm through more than one move (a takeover, then the failback; lab/swarm/swarm.ts nextMove): what a member
// and the intruder keep from one move to the next, and which members are out. No server: nothing here connects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Holder } from '../../lab/swarm/holder.ts';
import { Intruder } from '../../lab/swarm/intruder.ts';
import { NFS4ERR } from '../../lab/swarm/nfs4-const.ts';
import { stillHeld, type Verification } from '../../lab/swarm/swarm.ts';

const OPTS = { host: '198.51.100.11', port: 2049, ownerId: 'test', callTimeoutMs: 100, connectTimeoutMs: 100 };
const stateid = (n: number) => ({ seqid: n, other: Buffer.alloc(12, n) });

function reclaimed(): Holder {
  const h = new Holder(OPTS, ['srv1', 'd'], 'client-0000');
  h.openStateid = stateid(1);
  h.lockStateid = stateid(2);
  h.phase = 'reclaimed';
  h.times.failedAt = 1;
  h.times.lockReclaimedAt = 2;
  h.errors.push('connection lost: timed out');
  return h;
}

test('held: the server said NFS4_OK for the open and the lock, and LOCKT found the range locked', () => {
  const ok = { open: NFS4ERR.OK, lock: NFS4ERR.OK };
  const v: Verification = {
    held: [ok, ok, { open: NFS4ERR.OK, lock: NFS4ERR.BAD_STATEID }, 'connection lost: reset'],
    locked: [true, false, true, true],
  };
  assert.equal([0, 1, 2, 3, 4].map((i) => stillHeld(v, i)), [true, false, false, false, false]);
});

test('a member that kept its state starts the next move holding it, its times and errors cleared', () => {
  const h = reclaimed();
  h.nextMove(true);
  assert.is(h.phase, 'holding');
  assert.equal(h.times, {});
  assert.equal(h.errors, []);
  assert.equal([h.openStateid?.seqid, h.lockStateid?.seqid], [1, 2]);
});

test('a member whose state is gone, or whose recovery failed, is out: nothing held for the next move to count', () => {
  const lost = reclaimed();
  lost.nextMove(false);
  const failed = reclaimed();
  failed.phase = 'failed';
  failed.nextMove(true);
  for (const h of [lost, failed]) {
    assert.is(h.phase, 'failed');
    assert.equal([h.openStateid, h.lockStateid], [null, null]);
  }
});

test('the intruder probes grace again at the next move', () => {
  const x = new Intruder(OPTS, Buffer.alloc(8));
  x.attempts.push({ at: 1, answer: 'NFS4ERR_GRACE', via: 'lock' });
  x.failedAt = x.graceEndedAt = 1;
  x.done = true;
  x.nextMove();
  assert.equal([x.attempts.length, x.failedAt, x.graceEndedAt, x.done], [0, undefined, undefined, false]);
});

test.run();
