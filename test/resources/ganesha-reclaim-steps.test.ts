// Where the group's steps keep the list of clients that may reclaim (agent/resources/ganesha-reclaim.ts): kept when
// the address goes while Ganesha runs, put back once it has stopped, dropped once the address is up again. Ganesha
// is a stand-in process here (as in ganesha-stop.test.ts) and `ip` a fake runner; a restart of a real Ganesha found
// running with the list kept is the lab's (the fault matrix's takeover-killed-at-each-step).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ganeshaPaths } from '../../agent/resources/ganesha-config.ts';
import { SystemResources } from '../../agent/resources/system.ts';
import { FakeRunner, recordingLog, viewOf } from './fixtures.ts';

const RECORD = 'node0/198.51.100.101-(42:Linux NFSv4.1 client-a)';

interface Group {
  resources: SystemResources;
  root: string;
  ganesha: ChildProcess;
  /** Whether `ip addr show` finds the group's address on the interface. */
  address: { present: boolean };
}

async function withGroup(body: (g: Group) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-reclaim-steps-'));
  const runDir = join(dir, 'run');
  const mountPoint = join(dir, 'srv1');
  const root = join(mountPoint, '.hanfs', 'ganesha-recovery');
  mkdirSync(join(root, 'v4recov', RECORD), { recursive: true });
  const paths = ganeshaPaths(runDir, 'server1');
  mkdirSync(paths.dir, { recursive: true });
  const ganesha = spawn('/bin/sh', ['-c', 'read x', '-F', '-f', paths.configFile], { argv0: 'ganesha.nfsd', stdio: ['pipe', 'ignore', 'ignore'] });
  await new Promise((resolve) => ganesha.once('spawn', resolve));
  writeFileSync(paths.pidFile, `${ganesha.pid}\n`);
  const { log } = recordingLog();
  const address = { present: true };
  const runner = new FakeRunner((argv) => (argv[1] === '-o' && address.present ? { stdout: '2: eth0    inet 198.51.100.11/24 scope global eth0\n' } : {}));
  try {
    await body({ resources: new SystemResources({ view: viewOf({ mountPoint }), runner, log, runDir }), root, ganesha, address });
  } finally {
    ganesha.kill('SIGKILL');
    rmSync(dir, { recursive: true });
  }
}

test('the address goes while Ganesha runs: the list is kept; an expiry after it is undone once Ganesha has stopped', async () => {
  await withGroup(async ({ resources, root }) => {
    assert.equal(await resources.run('server1', 'service_ip', 'service_ip', 'stop'), { ok: true });
    assert.ok(existsSync(join(root, 'hanfs-reclaimable.json')), 'kept on the group\'s disk');
    rmSync(join(root, 'v4recov', RECORD), { recursive: true }); // Ganesha expires the client it cannot hear
    assert.equal(await resources.run('server1', 'nfs_server', 'nfs_server', 'stop'), { ok: true });
    assert.equal(readdirSync(join(root, 'v4recov', 'node0')), ['198.51.100.101-(42:Linux NFSv4.1 client-a)']);
  });
});

test('the address is up: the list is dropped, and what Ganesha drops from then on stays dropped', async () => {
  await withGroup(async ({ resources, root, address }) => {
    writeFileSync(join(root, 'hanfs-reclaimable.json'), `${JSON.stringify([RECORD])}\n`);
    address.present = false;
    assert.equal(await resources.run('server1', 'service_ip', 'service_ip', 'start'), { ok: true });
    assert.not.ok(existsSync(join(root, 'hanfs-reclaimable.json')));
    rmSync(join(root, 'v4recov', RECORD), { recursive: true });
    assert.equal(await resources.run('server1', 'nfs_server', 'nfs_server', 'stop'), { ok: true });
    assert.equal(readdirSync(join(root, 'v4recov', 'node0')), []);
  });
});

test('the address goes where no Ganesha of the group runs (its disk may not even be mounted): no list is written', async () => {
  await withGroup(async ({ resources, root, ganesha }) => {
    ganesha.kill('SIGKILL');
    await new Promise((resolve) => ganesha.once('exit', resolve));
    assert.equal(await resources.run('server1', 'service_ip', 'service_ip', 'stop'), { ok: true });
    assert.not.ok(existsSync(join(root, 'hanfs-reclaimable.json')));
  });
});

test.run();
