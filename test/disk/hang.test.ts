// A hung disk, for real: the mailbox file lives on an ext4 file system that `fsfreeze` suspends, so the I/O
// thread's O_DIRECT write blocks in the kernel (uninterruptibly, as on a dead disk path) until it is thawed.
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  assertRejects, hasProgram, initTestMailbox, MAILBOX_FILE_BYTES, openNode, outbox, run, status, withLoopDevice, withTempDir,
} from './fixtures.ts';

const DEADLINE_MS = 300;
const missing = ['losetup', 'mkfs.ext4', 'mount', 'fsfreeze'].filter((program) => !hasProgram(program));
if (missing.length > 0) console.log(`hung-disk test SKIPPED: ${missing.join(', ')} not installed`);
const it = missing.length > 0 ? test.skip : test;

const write = (counter: number) => ({ slot: status('server1', { counter }), outbox: outbox({ ping: counter }), intents: [] });

it('a hung disk: the cycle misses its deadline, the event loop keeps going, close() returns promptly', () => withTempDir(async (dir) => {
  const image = join(dir, 'ext4.img');
  writeFileSync(image, '');
  truncateSync(image, 16 * 1024 * 1024);
  run('mkfs.ext4', ['-q', image]);
  await withLoopDevice(image, async (fsDevice) => {
    const mountPoint = join(dir, 'mnt');
    mkdirSync(mountPoint);
    run('mount', [fsDevice, mountPoint]);
    try {
      const device = join(mountPoint, 'mailbox.img');
      writeFileSync(device, '');
      truncateSync(device, MAILBOX_FILE_BYTES);
      initTestMailbox(device);
      await hangAndRecover(device, mountPoint);
    } finally {
      await unmount(mountPoint);
    }
  });
}));

async function hangAndRecover(device: string, mountPoint: string): Promise<void> {
  const mailbox = await openNode(device, 0);
  let frozen = false;
  try {
    await mailbox.cycle(write(1), DEADLINE_MS);
    run('fsfreeze', ['--freeze', mountPoint]);
    frozen = true;

    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      const started = performance.now();
      await assertRejects(mailbox.cycle(write(2), DEADLINE_MS), new RegExp(`no answer from the disk within ${DEADLINE_MS} ms`));
      const waited = performance.now() - started;
      assert.ok(waited >= DEADLINE_MS - 10 && waited < 2 * DEADLINE_MS, `rejected after ${waited} ms`);
      assert.ok(ticks >= 20, `the event loop ran ${ticks} ticks of 10 ms during a ${DEADLINE_MS} ms wait`);

      // The thread is still stuck in the write: the next cycle is refused, not queued behind it.
      await assertRejects(mailbox.cycle(write(3), DEADLINE_MS), /busy: the I\/O started \d+ ms ago has not returned/);

      const closing = performance.now();
      await mailbox.close();
      assert.ok(performance.now() - closing < 500, 'close() does not wait for the stuck thread');
      await assertRejects(mailbox.cycle(null, DEADLINE_MS), /closed/);
    } finally {
      clearInterval(ticker);
    }
  } finally {
    if (frozen) run('fsfreeze', ['--unfreeze', mountPoint]);
    // Thawed, the stuck write returns and the terminated thread ends, which closes its descriptor.
    await mailbox.close();
  }
}

/** The file system is busy until the I/O thread's descriptor is closed, a moment after the thread ends. */
async function unmount(mountPoint: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      run('umount', [mountPoint]);
      return;
    } catch (err) {
      if (attempt >= 20) throw err;
      await sleep(100);
    }
  }
}

test.run();
