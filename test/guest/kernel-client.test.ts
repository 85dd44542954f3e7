// The kernel client as the fault matrix judges one trial of it, from its result lines, its console and its reply
// to `verify`: failures outside the locks and lost fsync'ed writes fail the trial, lost locks are only reported;
// and the incremental reading of its results port.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { judgeTrial, kernelProblems, LineTail } from '../../lab/kernel-client.ts';

const clean = [
  'started dir=/mnt/g1.1',
  'op=write file=w1 ok=1 startMs=0 durMs=20',
  'op=read file=w1 ok=1 startMs=20 durMs=10',
  'op=write file=w2 ok=1 startMs=100 durMs=6000',
  'op=read file=w2 ok=1 startMs=6100 durMs=10',
  'op=stream file=stream.dat@0 ok=1 startMs=0 durMs=5',
  'op=open-write file=open.dat ok=1 startMs=0 durMs=5',
  'op=flock-write file=flock.dat ok=1 startMs=0 durMs=5',
  'op=fcntl-write file=fcntl.dat ok=1 startMs=0 durMs=5',
  'op=open-verify file=open.dat ok=1 startMs=7000 durMs=5 records=40 bad=0 writeFailures=0',
  'op=flock-verify file=flock.dat ok=1 startMs=7000 durMs=5 records=20 bad=0 writeFailures=0',
  'op=fcntl-verify file=fcntl.dat ok=1 startMs=7000 durMs=5 records=20 bad=0 writeFailures=0',
  'stopped',
  'op=verify file=w1 ok=1 startMs=7100 durMs=5',
  'op=verify file=w2 ok=1 startMs=7105 durMs=5',
  'verified files=2 bad=0',
];

test('a clean trial: no failures, the longest stall and its loop, every fsync\'ed write back, locks kept', () => {
  const t = judgeTrial('g1', clean, '[  3.1] nfs: server 198.51.100.11 not responding, still trying\n', 'verified files=2 bad=0');
  assert.equal([t.ops, t.failed, t.failedOutsideLocks, t.longestStallMs, t.longestStallLoop], [8, 0, 0, 6070, 'new files']);
  assert.equal([t.fsynced, t.lost, t.locksKept, t.locks], [42, 0, true, 'kept (flock and fcntl)']);
  assert.equal(kernelProblems(t), []);
});

test('lost locks are reported and do not fail the trial; a failure outside them and a lost write do', () => {
  const lines = clean.map((l) => l
    .replace('op=flock-write file=flock.dat ok=1', 'op=flock-write file=flock.dat ok=0')
    .replace('op=flock-verify file=flock.dat ok=1 startMs=7000 durMs=5 records=20 bad=0', 'op=flock-verify file=flock.dat ok=0 startMs=7000 durMs=5 records=20 bad=3'));
  lines[7] += ' err=EIO';
  const lost = judgeTrial('g1', lines, '[ 12.5] NFS: 198.51.100.11: lost 2 locks\r\n', 'verified files=2 bad=0');
  assert.is(lost.locksKept, false);
  assert.match(lost.locks, /^LOST: NFS: 198\.51\.100\.11: lost 2 locks; 1 operations under them failed \(EIO\); read back wrong or failed: flock 3 of 20 records$/);
  assert.equal([lost.failed, lost.failedOutsideLocks], [1, 0]);
  assert.equal(kernelProblems(lost), []);

  const broken = [...clean];
  broken[2] = 'op=read file=w1 ok=0 startMs=20 durMs=10 err=EIO';
  broken[9] = 'op=open-verify file=open.dat ok=0 startMs=7000 durMs=5 records=40 bad=1 writeFailures=0';
  const t = judgeTrial('g1', broken, '', 'verified files=2 bad=1');
  assert.equal([t.failedOutsideLocks, t.failures, t.lost, t.fsynced], [1, ['read w1 EIO'], 2, 42]);
  assert.equal(kernelProblems(t), ['kernel client: 1 operations failed outside the locks: read w1 EIO', "kernel client: 2 of 42 fsync'ed writes lost"]);
});

test('a trial without its read-backs cannot be judged', () => {
  assert.throws(() => judgeTrial('g1', clean, '', 'stopped'), /no read-back of the new files/);
  assert.throws(() => judgeTrial('g1', clean.filter((l) => !l.startsWith('op=open-verify')), '', 'verified files=2 bad=0'), /open file was never read back/);
});

test('the results port read from where it was left: a line still being written waits, CRs and blank lines dropped', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-tail-'));
  try {
    const file = join(dir, 'results.log');
    const tail = new LineTail(file);
    assert.equal(tail.read(), [], 'no file yet');
    writeFileSync(file, 'ready mount=x\r\nop=write file=w1 ok=1 st');
    assert.equal(tail.read(), ['ready mount=x']);
    appendFileSync(file, 'artMs=0 durMs=1\r\n\r\nstarted dir=/mnt/g1.1\n');
    assert.equal(tail.read(), ['ready mount=x', 'op=write file=w1 ok=1 startMs=0 durMs=1', 'started dir=/mnt/g1.1']);
    assert.is(tail.read().length, 3, 'nothing new');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
