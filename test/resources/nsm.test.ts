// NSM for an NFSv3 Ganesha group (agent/resources/nsm.ts): which commands bring up the machine's rpcbind and
// rpc.statd (none when they already run), the reboot notification's command line, the notifier ended as the group
// leaves, and the statd callout run for real on a scratch directory. Ganesha itself is not started here (the lab
// test test/lab/nfsv3.test.ts runs it with a kernel NFSv3 client).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { calloutScript, NsmSupport, nsmDir, statdPaths } from '../../agent/resources/nsm.ts';
import { processAlive } from '../../agent/sensors/process-alive.ts';
import { SystemResources } from '../../agent/resources/system.ts';
import { FakeRunner, recordingLog, viewOf } from './fixtures.ts';

let scratch = '';

test.before.each(() => {
  scratch = mkdtempSync(join(tmpdir(), 'hanfs-nsm-'));
});

test.after.each(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** server1 serves NFSv3 from a disk mounted at SCRATCH/srv1; the machine's /run and /proc are SCRATCH's. */
function setup(protocols = '[3, 4]') {
  const runDir = join(scratch, 'hanfs-run');
  const system = { dir: join(scratch, 'run'), proc: join(scratch, 'proc') };
  for (const dir of [runDir, system.dir, system.proc]) mkdirSync(dir, { recursive: true });
  const view = viewOf({ protocols, mountPoint: join(scratch, 'srv1') });
  const runner = new FakeRunner();
  const { log, lines } = recordingLog();
  const ctx = { view, runner, log, runDir };
  return { runDir, system, runner, lines, ctx, nsm: new NsmSupport(ctx, system), node: view.pair.nodes.server1! };
}

/** A fake live process in the fake /proc: its status and its command line. */
function fakeProcess(proc: string, pid: number, argv: string[]): void {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  writeFileSync(join(proc, String(pid), 'status'), 'Name:\tx\nState:\tS (sleeping)\nThreads:\t1\n');
  writeFileSync(join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
}

function listening(path: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.destroy()).listen(path, () => resolve(server));
  });
}

test('prepare, nothing running: NSM directories on the group disk, the marker, rpcbind, the callout checked, rpc.statd with it', async () => {
  const { nsm, runner, runDir, node } = setup();
  await nsm.prepare('server1');
  const { stateDir, callout } = statdPaths(runDir);
  assert.equal(runner.lines(), ['rpcbind -w', `${callout} check`, `rpc.statd --no-notify -P ${stateDir} -H ${callout}`]);
  assert.is(nsmDir(node), join(scratch, 'srv1/.hanfs/nsm'));
  for (const dir of [nsmDir(node), stateDir]) assert.equal(readdirSync(dir).sort(), ['sm', 'sm.bak'], dir);
  assert.is(readFileSync(join(runDir, 'server1/nsm-dir'), 'utf8'), `${nsmDir(node)}\n`);
  assert.is(readFileSync(callout, 'utf8'), calloutScript(runDir));
  await nsm.release('server1');
  assert.not.ok(existsSync(join(runDir, 'server1/nsm-dir')), 'the marker goes with the server');
});

test('prepare: a running rpcbind (its socket answers) and our rpc.statd are used as they are', async () => {
  const { nsm, runner, runDir, system } = setup();
  const rpcbind = await listening(join(system.dir, 'rpcbind.sock'));
  try {
    const { stateDir, callout } = statdPaths(runDir);
    writeFileSync(join(system.dir, 'rpc.statd.pid'), '4242\n');
    fakeProcess(system.proc, 4242, ['/usr/sbin/rpc.statd', '--no-notify', '-P', stateDir, '-H', callout]);
    await nsm.prepare('server1');
    assert.equal(runner.lines(), []);
  } finally {
    rpcbind.close();
  }
});

test('prepare: an rpc.statd running without our callout is refused, with what to do', async () => {
  const { nsm, runner, system, runDir } = setup();
  writeFileSync(join(system.dir, 'rpc.statd.pid'), '4243\n');
  fakeProcess(system.proc, 4243, ['/sbin/rpc.statd']);
  try {
    await nsm.prepare('server1');
    assert.unreachable('a foreign statd must be refused');
  } catch (err) {
    assert.is((err as Error).message, `rpc.statd (PID 4243) runs without hanfs's callout (-H ${statdPaths(runDir).callout}): its NFSv3 `
      + 'clients would not be told of a move; stop it (systemctl mask --now rpc-statd) and let hanfs start it');
  }
  assert.equal(runner.lines(), ['rpcbind -w'], 'no second statd');
  // A stale pid file (no such process) is no statd at all.
  writeFileSync(join(system.dir, 'rpc.statd.pid'), '4244\n');
  await nsm.prepare('server1');
  assert.match(runner.lines().at(-1)!, /^rpc\.statd --no-notify /);
});

test('nsm_notify: sm-notify from the service address with the group\'s own state directory; nothing for an NFSv4-only group', async () => {
  for (const [protocols, expected] of [['[3, 4]', [`sm-notify -f -v 198.51.100.11 -P ${join(scratch, 'srv1/.hanfs/nsm')}`]], ['[4]', []]] as const) {
    const runner = new FakeRunner();
    const view = viewOf({ protocols, mountPoint: join(scratch, 'srv1') });
    const resources = new SystemResources({ view, runner, log: recordingLog().log, runDir: join(scratch, 'run') });
    assert.equal(await resources.run('server1', 'nsm_notify', 'nsm_notify', 'start'), { ok: true });
    assert.equal(await resources.run('server1', 'nsm_notify', 'nsm_notify', 'stop'), { ok: true });
    assert.equal(runner.lines(), expected, protocols);
  }
});

test('a notifier of the group still retrying is ended (by PID) before a new one and when the group leaves', async () => {
  const { ctx, system, node, lines } = setup();
  const nsm = new NsmSupport(ctx, { ...system, proc: '/proc' });
  // A notifier runs while a client on the list has not answered yet.
  mkdirSync(join(nsmDir(node), 'sm.bak'), { recursive: true });
  writeFileSync(join(nsmDir(node), 'sm.bak/198.51.100.101'), '');
  // A process that reads as `sm-notify ... -P DIR` in /proc: a shell waiting on its stdin, named so.
  const notifier = spawn('/bin/sh', ['-c', 'read x', '-f', '-P', nsmDir(node)], { argv0: 'sm-notify', stdio: ['pipe', 'ignore', 'ignore'] });
  await new Promise((resolve) => notifier.once('spawn', resolve));
  const other = spawn('/bin/sh', ['-c', 'read x', '-P', '/elsewhere'], { argv0: 'sm-notify', stdio: ['pipe', 'ignore', 'ignore'] });
  await new Promise((resolve) => other.once('spawn', resolve));
  try {
    await nsm.endNotifiers('server1');
    assert.not.ok(processAlive(notifier.pid!) && notifier.exitCode === null && notifier.signalCode === null, 'the group\'s notifier ended');
    assert.ok(lines.some((l) => l.message === `ending the NSM notifier of group server1 (PID ${notifier.pid})`));
    assert.is(other.exitCode, null, 'another group\'s notifier is left alone');
    rmSync(join(nsmDir(node), 'sm.bak/198.51.100.101'));
    await nsm.endNotifiers('server1');
    assert.is(lines.length, 1, 'every client answered: no notifier to look for');
  } finally {
    notifier.kill('SIGKILL');
    other.kill('SIGKILL');
  }
});

test('the callout copies statd\'s records into each served NFSv3 group\'s directory, and never removes one', () => {
  const { runDir } = setup();
  const { stateDir, callout } = statdPaths(runDir);
  const groupDir = join(scratch, 'srv1/.hanfs/nsm');
  for (const dir of [join(stateDir, 'sm'), join(groupDir, 'sm'), join(runDir, 'server1'), join(runDir, 'server2')]) mkdirSync(dir, { recursive: true });
  writeFileSync(callout, calloutScript(runDir), { mode: 0o755 });
  const record = '0100007f 000186b5 00000004 00000010 00000000000000000000000000000000 198.51.100.101 vm\n';
  writeFileSync(join(stateDir, 'sm/198.51.100.101'), record);
  const run = (...args: string[]) => spawnSync(callout, args, { encoding: 'utf8' });

  assert.is(run('add-client', '198.51.100.101', 'vm').status, 0);
  assert.not.ok(existsSync(join(groupDir, 'sm/198.51.100.101')), 'no marker: the group is not served here');
  writeFileSync(join(runDir, 'server1/nsm-dir'), `${groupDir}\n`);
  assert.is(run('add-client', '198.51.100.101', 'vm').status, 0);
  assert.is(readFileSync(join(groupDir, 'sm/198.51.100.101'), 'utf8'), record);
  rmSync(join(stateDir, 'sm/198.51.100.101'));
  for (const event of ['del-client', 'sm-notify', 'check']) assert.is(run(event, '198.51.100.101', 'vm').status, 0, event);
  assert.is(readFileSync(join(groupDir, 'sm/198.51.100.101'), 'utf8'), record, 'still listed: sm-notify retires the list at the next move');
});

test.run();
