// The knfsd profile cannot run here (no kernel NFS server): its command sequences are checked with a fake runner.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knfsdExportOptions } from '../../agent/resources/knfsd.ts';
import { SystemResources } from '../../agent/resources/system.ts';
import { FakeRunner, recordingLog, viewOf, type Answer } from './fixtures.ts';

const exportsYaml = `
      - { path: /srv/server1/a, pseudo: /a, squash: none }
      - { path: /srv/server1/b, pseudo: /b, access: ro, clients: 198.51.100.0/24 }`;

function driver(answer?: (argv: string[]) => Answer) {
  const runner = new FakeRunner(answer);
  const { log, lines } = recordingLog();
  const resources = new SystemResources({ view: viewOf({ profile: 'knfsd', exportsYaml }), runner, log, runDir: '/nonexistent' });
  return { runner, resources, lines };
}

test('export options from access and squash, always sync and no_subtree_check', () => {
  const base = { path: '/srv/x', pseudo: '/x', clients: '*' };
  assert.is(knfsdExportOptions({ ...base, access: 'rw', squash: 'none' }), 'rw,no_root_squash,sync,no_subtree_check');
  assert.is(knfsdExportOptions({ ...base, access: 'ro', squash: 'root' }), 'ro,root_squash,sync,no_subtree_check');
});

test('exports: exportfs per export in order at start, unexported in reverse at stop', async () => {
  const { runner, resources } = driver();
  assert.equal(await resources.run('server1', 'exports', 'exports', 'start'), { ok: true });
  assert.equal(await resources.run('server1', 'exports', 'exports', 'stop'), { ok: true });
  assert.equal(runner.lines(), [
    'exportfs -o rw,no_root_squash,sync,no_subtree_check *:/srv/server1/a',
    'exportfs -o ro,root_squash,sync,no_subtree_check 198.51.100.0/24:/srv/server1/b',
    'exportfs -u 198.51.100.0/24:/srv/server1/b',
    'exportfs -u *:/srv/server1/a',
  ]);
});

test('exports stop: an export that is not there counts as stopped; any other failure is reported', async () => {
  const absent = driver(() => ({ code: 1, stderr: "exportfs: Could not find '*:/srv/server1/a' to unexport.\n" }));
  assert.equal(await absent.resources.run('server1', 'exports', 'exports', 'stop'), { ok: true });
  const broken = driver(() => ({ code: 1, stderr: 'exportfs: /var/lib/nfs/etab: Read-only file system\n' }));
  assert.equal(await broken.resources.run('server1', 'exports', 'exports', 'stop'), {
    ok: false, error: 'exportfs -u 198.51.100.0/24:/srv/server1/b: exit code 1: exportfs: /var/lib/nfs/etab: Read-only file system',
  });
});

test('nfs_server: rpc.nfsd 8 / 0; the kernel server stops only with the last group served', async () => {
  const { runner, resources, lines } = driver();
  await resources.run('server1', 'nfs_server', 'nfs_server', 'start');
  await resources.run('server2', 'nfs_server', 'nfs_server', 'start');
  await resources.run('server2', 'nfs_server', 'nfs_server', 'stop');
  assert.equal(runner.lines(), ['rpc.nfsd 8', 'rpc.nfsd 8']);
  assert.ok(lines.some((l) => l.message === 'kernel NFS server left running for group server1'));
  await resources.run('server1', 'nfs_server', 'nfs_server', 'stop');
  assert.equal(runner.lines().at(-1), 'rpc.nfsd 0');
  assert.equal(resources.monitor(), [], 'the kernel server has no process to watch');
});

test('nsm_notify: sm-notify from the group service address; nothing at stop', async () => {
  const { runner, resources } = driver();
  assert.equal(await resources.run('server2', 'nsm_notify', 'nsm_notify', 'start'), { ok: true });
  assert.equal(await resources.run('server2', 'nsm_notify', 'nsm_notify', 'stop'), { ok: true });
  assert.equal(runner.lines(), ['sm-notify -f -v 203.0.113.12']);
});

test.run();
