import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HEALTH_FILE, checkBlockDevice, checkFreeInodes, checkFreeSpace, checkLoad, checkMemory, checkMounted, checkWritable,
} from '../../agent/sensors/health-checks.ts';

function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-health-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('mounted: / is a mount point', async () => {
  const r = await checkMounted('/');
  assert.is(r.ok, true);
  assert.match(r.detail, /^\/ is mounted \(\S+ from \S+\)$/);
});

test('mounted: a directory that is not a mount point fails, saying so', () => withTempDir(async (dir) => {
  const r = await checkMounted(`${dir}/`);
  assert.is(r.ok, false);
  assert.is(r.detail, `${dir} is not a mount point: nothing is mounted there`);
}));

test('mounted: escaped mount points and stacked mounts in mountinfo', () => withTempDir(async (dir) => {
  const mountinfo = join(dir, 'mountinfo');
  writeFileSync(mountinfo, [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '40 22 7:3 / /srv/disk\\0401 rw,relatime shared:7 master:2 - ext4 /dev/loop3 rw',
    '41 40 7:4 / /srv/disk\\0401 rw,relatime - xfs /dev/loop4 rw',
    '',
  ].join('\n'));
  const r = await checkMounted('/srv/disk 1', mountinfo);
  assert.equal(r, { ok: true, detail: '/srv/disk 1 is mounted (xfs from /dev/loop4)' });
  assert.is((await checkMounted('/srv/disk', mountinfo)).ok, false);
}));

test('writable: a temp dir takes the status file, which holds what was written', () => withTempDir(async (dir) => {
  const r = await checkWritable(dir);
  assert.is(r.ok, true, r.detail);
  assert.match(readFileSync(join(dir, HEALTH_FILE), 'utf8'), /^hanfs health check \S+ pid \d+ /);
}));

test('writable: a missing directory throws, naming the file', () => withTempDir(async (dir) => {
  const error = await checkWritable(join(dir, 'missing')).then(() => null, (err: Error) => err);
  assert.match(error?.message ?? 'resolved', `ENOENT: no such file or directory, open '${dir}/missing/${HEALTH_FILE}'`);
}));

test('free space and inodes against thresholds', () => withTempDir(async (dir) => {
  const space = await checkFreeSpace(dir, 0);
  assert.is(space.ok, true);
  const mib = '[0-9.]+ MiB';
  assert.match(space.detail, new RegExp(`^${dir}: space [0-9.]+ % free \\(${mib} of ${mib}\\), at least 0 % wanted$`));
  const full = await checkFreeSpace(dir, 100.1);
  assert.is(full.ok, false);
  assert.match(full.detail, /at least 100.1 % wanted$/);
  const inodes = await checkFreeInodes(dir, 0);
  assert.is(inodes.ok, true, inodes.detail);
  assert.is((await checkFreeInodes(dir, 100.1)).ok, false);
}));

test('block device: present, not a block device, missing', async () => {
  assert.equal(await checkBlockDevice('/dev/loop0'), { ok: true, detail: '/dev/loop0 is a block device' });
  assert.equal(await checkBlockDevice('/dev/null'), { ok: false, detail: '/dev/null is not a block device' });
  assert.equal(await checkBlockDevice('/dev/hanfs-missing'), { ok: false, detail: '/dev/hanfs-missing does not exist' });
});

test('load from /proc/stat (no child process), memory through systeminformation', async () => {
  const load = await checkLoad(100);
  assert.is(load.ok, true, load.detail);
  assert.match(load.detail, /^CPU load [0-9.]+ %, at most 100 % wanted$/);
  // Between two readings of a made-up /proc/stat: 300 busy jiffies of 400.
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-stat-'));
  try {
    const file = join(dir, 'stat');
    writeFileSync(file, 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 1 1 1\n');
    await checkLoad(100, file);
    writeFileSync(file, 'cpu  250 0 250 900 0 0 0 0 0 0\n');
    assert.equal(await checkLoad(70, file), { ok: false, detail: 'CPU load 75.0 %, at most 70 % wanted' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.is((await checkMemory(0)).ok, true);
  const memory = await checkMemory(100.1);
  assert.is(memory.ok, false);
  assert.match(memory.detail, /^memory [0-9.]+ % free/);
});

test.run();
