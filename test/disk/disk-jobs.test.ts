// The mailbox's job runner on a real file with O_DIRECT: writes are read back, and reads of adjacent sectors, which it
// merges into one transfer, come back each as asked, in the order asked, whatever the order and overlaps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DiskJobs } from '../../agent/disk/disk-jobs.ts';
import { assertRejects, withDevice } from './fixtures.ts';

const SECTOR = 512;
const sector = (n: number): Buffer => Buffer.alloc(SECTOR, n);

test('reads come back as asked, merged or not; a second job while one is in flight is refused as busy', () => withDevice('file', async (device) => {
  const jobs = await DiskJobs.start(device, 2000);
  try {
    const written = [1, 2, 3, 4, 9, 200];
    await jobs.run({ writes: written.map((n) => ({ offset: n * SECTOR, bytes: sector(n) })), reads: [] }, 2000);
    const asked = [
      { offset: 4 * SECTOR, length: SECTOR }, { offset: 1 * SECTOR, length: SECTOR }, { offset: 200 * SECTOR, length: SECTOR },
      { offset: 2 * SECTOR, length: 2 * SECTOR }, { offset: 3 * SECTOR, length: SECTOR }, { offset: 9 * SECTOR, length: SECTOR },
      { offset: 5 * SECTOR, length: SECTOR },
    ];
    const reads = await jobs.run({ writes: [], reads: asked }, 2000);
    const expected = [sector(4), sector(1), sector(200), Buffer.concat([sector(2), sector(3)]), sector(3), sector(9), sector(0)];
    assert.equal(reads.map((r) => Buffer.from(r).toString('hex')), expected.map((b) => b.toString('hex')));

    const first = jobs.run({ writes: [], reads: [{ offset: 0, length: SECTOR }] }, 2000);
    await assertRejects(jobs.run({ writes: [], reads: [] }, 2000), /busy/);
    await first;
  } finally {
    await jobs.close();
  }
  await assertRejects(jobs.run({ writes: [], reads: [] }, 2000), /closed/);
}));

test.run();
