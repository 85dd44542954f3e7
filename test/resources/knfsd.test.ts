// The knfsd profile cannot run on this host (no kernel NFS server; test/lab/knfsd-guests.test.ts runs its command
// lines on kernel servers in guests): its command sequences are checked with a fake runner, and its NFSv4 client
// tracker with a stand-in for nfsdcld (fake-nfsdcld.mjs) that holds a file open where nfsdcld holds the kernel's pipe.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knfsdExportOptions } from '../../agent/resources/knfsd.ts';
import { SystemResources } from '../../agent/resources/system.ts';
import { processAlive } from '../../agent/sensors/process-alive.ts';
import { FakeRunner, recordingLog, viewOf, type Answer } from './fixtures.ts';

const FAKE_TRACKER = new URL('./fake-nfsdcld.mjs', import.meta.url).pathname;
const exportsYaml = (mountPoint: string) => `
      - { path: ${mountPoint}/a, pseudo: /a, squash: none }
      - { path: ${mountPoint}/b, pseudo: /b, access: ro, clients: 198.51.100.0/24 }`;

const scratch: string[] = [];
test.after.each(() => {
  for (const dir of scratch.splice(0)) {
    const pidFile = join(dir, 'run', 'server1', 'nfsdcld.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
    if (pid > 0 && processAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The resource layer of server1 with the knfsd profile; its tracker is the stand-in (`never`: it is never used). */
function driver(answer?: (argv: string[]) => Answer, tracker: 'used' | 'never' = 'used') {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-knfsd-'));
  scratch.push(dir);
  const pipe = join(dir, 'cld');
  const runner = new FakeRunner(answer);
  const { log, lines } = recordingLog();
  const view = viewOf({
    profile: 'knfsd', exportsYaml: exportsYaml(join(dir, 'srv')), mountPoint: join(dir, 'srv'),
    commands: { clientTracker: [process.execPath, FAKE_TRACKER, '{stateDir}', pipe, ...(tracker === 'never' ? ['never'] : [])] },
  });
  const systemRun = { dir: join(dir, 'system-run'), proc: '/proc' };
  const resources = new SystemResources({ view, runner, log, runDir: join(dir, 'run'), trackerPipe: pipe, systemRun });
  const trackerPid = () => {
    const file = join(dir, 'run', 'server1', 'nfsdcld.pid');
    return existsSync(file) ? Number(readFileSync(file, 'utf8')) : null;
  };
  /** The kernel server's commands, without the machine's rpcbind and rpc.statd that NSM starts before them. */
  const serverLines = () => runner.lines().filter((l) => !/^rpcbind |statd/.test(l));
  return { runner, resources, lines, dir, trackerPid, serverLines };
}

test('export options from access and squash, always sync and no_subtree_check', () => {
  const base = { path: '/srv/x', pseudo: '/x', clients: '*' };
  assert.is(knfsdExportOptions({ ...base, access: 'rw', squash: 'none' }), 'rw,no_root_squash,sync,no_subtree_check');
  assert.is(knfsdExportOptions({ ...base, access: 'ro', squash: 'root' }), 'ro,root_squash,sync,no_subtree_check');
});

test('exports: exportfs per export in order at start, unexported in reverse at stop', async () => {
  const { runner, resources, dir } = driver();
  assert.equal(await resources.run('server1', 'exports', 'exports', 'start'), { ok: true });
  assert.equal(await resources.run('server1', 'exports', 'exports', 'stop'), { ok: true });
  assert.equal(runner.lines(), [
    `exportfs -o rw,no_root_squash,sync,no_subtree_check *:${dir}/srv/a`,
    `exportfs -o ro,root_squash,sync,no_subtree_check 198.51.100.0/24:${dir}/srv/b`,
    `exportfs -u 198.51.100.0/24:${dir}/srv/b`,
    `exportfs -u *:${dir}/srv/a`,
  ]);
});

test('exports stop: an export that is not there counts as stopped; any other failure is reported', async () => {
  const absent = driver(() => ({ code: 1, stderr: "exportfs: Could not find '*:/srv/server1/a' to unexport.\n" }));
  assert.equal(await absent.resources.run('server1', 'exports', 'exports', 'stop'), { ok: true });
  const broken = driver(() => ({ code: 1, stderr: 'exportfs: /var/lib/nfs/etab: Read-only file system\n' }));
  assert.equal(await broken.resources.run('server1', 'exports', 'exports', 'stop'), {
    ok: false, error: `exportfs -u 198.51.100.0/24:${broken.dir}/srv/b: exit code 1: exportfs: /var/lib/nfs/etab: Read-only file system`,
  });
});

test('nfs_server: rpcbind and statd (NSM), the client tracker on the group\'s disk, then rpc.nfsd 8; at stop rpc.nfsd 0, then the tracker', async () => {
  const { runner, resources, dir, trackerPid, serverLines } = driver();
  assert.equal(await resources.run('server1', 'nfs_server', 'nfs_server', 'start'), { ok: true });
  const pid = trackerPid();
  assert.ok(pid !== null && processAlive(pid), 'the tracker runs');
  assert.ok(existsSync(join(dir, 'srv', '.hanfs', 'nfsdcld')), 'its records go to the group\'s first disk');
  assert.ok(existsSync(join(dir, 'srv', '.hanfs', 'nsm', 'sm')), 'and so do its NFSv3 clients\' NSM records');
  const callout = join(dir, 'run', 'statd-callout');
  assert.equal(runner.lines(), ['rpcbind -w', `${callout} check`, `rpc.statd --no-notify -P ${join(dir, 'run', 'statd')} -H ${callout}`, 'rpc.nfsd 8']);
  assert.equal(resources.monitor(), [{ group: 'server1', resource: 'nfs_server', ok: true, detail: `nfsdcld PID ${pid} runs` }],
    'the kernel server has no process to watch; its tracker has');
  assert.equal(await resources.run('server1', 'nfs_server', 'nfs_server', 'stop'), { ok: true });
  assert.equal(serverLines(), ['rpc.nfsd 8', 'rpc.nfsd 0']);
  assert.equal(resources.monitor(), [], 'a stopped tracker is no longer watched');
  assert.not.ok(existsSync(join(dir, 'run', 'server1', 'nsm-dir')), 'new locks are no longer copied to the group\'s disk');
  assert.not.ok(processAlive(pid), 'the tracker ended with the server');
  assert.is(trackerPid(), null);
});

test('nfs_server: a tracker that dies under the running server fails its health check (the agent restarts the server)', async () => {
  const { resources, trackerPid } = driver();
  assert.equal(await resources.run('server1', 'nfs_server', 'nfs_server', 'start'), { ok: true });
  const pid = trackerPid()!;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(resources.monitor(), [{
    group: 'server1', resource: 'nfs_server', ok: false, detail: `the NFSv4 client tracker of group server1 (nfsdcld, PID ${pid}) has died`,
  }]);
  assert.equal(await resources.run('server1', 'nfs_server', 'nfs_server', 'stop'), { ok: true });
});

test('nfs_server: a kernel server that does not use the tracker is stopped again, and the start fails', async () => {
  const { serverLines, resources, trackerPid } = driver(undefined, 'never');
  const result = await resources.run('server1', 'nfs_server', 'nfs_server', 'start');
  assert.is(result.ok, false);
  assert.match(result.error ?? '', /tracks its clients some other way/);
  assert.equal(serverLines(), ['rpc.nfsd 8', 'rpc.nfsd 0']);
  assert.is(trackerPid(), null);
});

test('nfs_server: a second group rides on the first one\'s kernel server, told that its clients cannot reclaim', async () => {
  const { serverLines, resources, lines, trackerPid } = driver();
  await resources.run('server1', 'nfs_server', 'nfs_server', 'start');
  const pid = trackerPid()!;
  await resources.run('server2', 'nfs_server', 'nfs_server', 'start');
  assert.ok(lines.some((l) => l.level === 'warn' && /group server2's cannot reclaim/.test(l.message)));
  await resources.run('server2', 'nfs_server', 'nfs_server', 'stop');
  assert.equal(serverLines(), ['rpc.nfsd 8', 'rpc.nfsd 8']);
  assert.ok(lines.some((l) => l.message === 'kernel NFS server left running for group server1'));
  assert.ok(processAlive(pid), 'the first group\'s tracker goes on');
  await resources.run('server1', 'nfs_server', 'nfs_server', 'stop');
  assert.equal(serverLines().at(-1), 'rpc.nfsd 0');
  assert.not.ok(processAlive(pid));
});

test('nsm_notify: sm-notify from the group\'s service address with the group\'s NSM directory; nothing at stop while none retries', async () => {
  const { runner, resources, dir } = driver();
  assert.equal(await resources.run('server1', 'nsm_notify', 'nsm_notify', 'start'), { ok: true });
  assert.equal(await resources.run('server1', 'nsm_notify', 'nsm_notify', 'stop'), { ok: true });
  assert.equal(runner.lines(), [`sm-notify -f -v 198.51.100.11 -P ${join(dir, 'srv', '.hanfs', 'nsm')}`]);
});

test.run();
