// log_replay and filesystem with a fake runner. The "disk" is /dev/null: a device file that stat can resolve to a
// device number and that is never mounted, so the driver goes on to its commands; nothing is really mounted.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { e2fsckVerdict } from '../../agent/resources/e2fsck.ts';
import { SystemResources } from '../../agent/resources/system.ts';
import { FakeRunner, recordingLog, viewOf, type Answer, type PairOptions } from './fixtures.ts';

function driver(options: PairOptions, answer?: (argv: string[]) => Answer) {
  const runner = new FakeRunner(answer);
  const { log, lines } = recordingLog();
  const resources = new SystemResources({ view: viewOf(options), runner, log, runDir: '/nonexistent' });
  return { runner, resources, lines };
}

function withTempDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hanfs-disks-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('e2fsck exit codes: 0 and 1 succeed, 2 (and 3) advise a reboot, 4 and above fail', () => {
  assert.equal([0, 1, 2, 3, 4, 8, 12, 16, 32, 128, null].map(e2fsckVerdict), [
    'ok', 'ok', 'reboot_advised', 'reboot_advised', 'failed', 'failed', 'failed', 'failed', 'failed', 'failed', 'failed',
  ]);
});

test('log_replay on ext4: journal replay, then fsck, both e2fsck -p', async () => {
  const { runner, resources } = driver({});
  assert.equal(await resources.run('server1', 'log_replay', 'log_replay', 'start'), { ok: true });
  assert.equal(runner.lines(), ['e2fsck -p -E journal_only /dev/null', 'e2fsck -p /dev/null']);
  assert.equal(await resources.run('server1', 'log_replay', 'log_replay', 'stop'), { ok: true });
  assert.is(runner.calls.length, 2, 'stop runs nothing');
});

test('log_replay: exit 1 (errors corrected) succeeds quietly, 2 succeeds with a warning', async () => {
  const corrected = driver({}, () => ({ code: 1 }));
  assert.equal(await corrected.resources.run('server1', 'log_replay', 'log_replay', 'start'), { ok: true });
  assert.not.ok(corrected.lines.some((l) => l.level === 'warn'));

  const reboot = driver({}, (argv) => ({ code: argv.includes('journal_only') ? 0 : 2 }));
  assert.equal(await reboot.resources.run('server1', 'log_replay', 'log_replay', 'start'), { ok: true });
  assert.equal(reboot.lines.filter((l) => l.level === 'warn').map((l) => l.message), [
    'e2fsck -p /dev/null repaired /dev/null and advises a reboot (exit code 2); mounting it anyway',
  ]);
});

test('log_replay: exit 4 or 8 fails with the command, its code and first stderr line; fsck is not reached', async () => {
  const uncorrected = driver({}, () => ({ code: 4, stderr: '\n/dev/null: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.\n\t(i.e., without -a or -p options)\n' }));
  assert.equal(await uncorrected.resources.run('server1', 'log_replay', 'log_replay', 'start'), {
    ok: false, error: 'e2fsck -p -E journal_only /dev/null: exit code 4: /dev/null: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.',
  });
  assert.is(uncorrected.runner.calls.length, 1);
  const timedOut = driver({}, () => ({ code: null, timedOut: true }));
  const result = await timedOut.resources.run('server1', 'log_replay', 'log_replay', 'start');
  assert.ok(result.error?.startsWith('e2fsck -p -E journal_only /dev/null: timed out'), result.error);
});

test('log_replay: a device that does not exist fails clearly', async () => {
  const { resources } = driver({ device: '/dev/hanfs-no-such-disk' });
  const result = await resources.run('server1', 'log_replay', 'log_replay', 'start');
  assert.is(result.ok, false);
  assert.match(result.error ?? '', /ENOENT.*\/dev\/hanfs-no-such-disk/);
});

test('log_replay on xfs: nothing (mount replays the log)', async () => {
  const { runner, resources } = driver({});
  assert.equal(await resources.run('server2', 'log_replay', 'log_replay', 'start'), { ok: true });
  assert.equal(runner.calls, []);
});

test('filesystem start: creates the mount point, mounts with -o and the options', withTempDir(async (dir) => {
  const mountPoint = join(dir, 'srv', 'server1');
  const { runner, resources } = driver({ mountPoint, diskExtra: 'mountOptions: [noatime, nodiratime]' });
  assert.equal(await resources.run('server1', 'filesystem', 'filesystem', 'start'), { ok: true });
  assert.ok(statSync(mountPoint).isDirectory());
  assert.equal(runner.lines(), [`mount -t ext4 /dev/null ${mountPoint} -o noatime,nodiratime`]);
}));

test('filesystem start: a failing mount is reported as such', withTempDir(async (dir) => {
  const mountPoint = join(dir, 'srv1');
  const { resources } = driver({ mountPoint }, () => ({ code: 32, stderr: `mount: ${mountPoint}: wrong fs type, bad option, bad superblock on /dev/null.\n` }));
  assert.equal(await resources.run('server1', 'filesystem', 'filesystem', 'start'), {
    ok: false, error: `mount -t ext4 /dev/null ${mountPoint}: exit code 32: mount: ${mountPoint}: wrong fs type, bad option, bad superblock on /dev/null.`,
  });
}));

test('filesystem stop when nothing is mounted there: runs nothing', withTempDir(async (dir) => {
  const { runner, resources } = driver({ mountPoint: join(dir, 'srv1') });
  assert.equal(await resources.run('server1', 'filesystem', 'filesystem', 'stop'), { ok: true });
  assert.equal(runner.calls, []);
}));

test.run();
