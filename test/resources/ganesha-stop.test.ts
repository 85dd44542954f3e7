// The Ganesha profile's stop of a running Ganesha (a stand-in process: a shell named ganesha.nfsd, with the group's
// config file among its arguments, as the profile finds a Ganesha it started): what it runs once the process is
// gone, checked with a fake runner. The real stop of a real Ganesha is the lab's (test/resources/lab.test.ts).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ganeshaPaths } from '../../agent/resources/ganesha-config.ts';
import { processAlive } from '../../agent/sensors/process-alive.ts';
import { SystemResources } from '../../agent/resources/system.ts';
import { FakeRunner, recordingLog, viewOf, type Answer } from './fixtures.ts';

async function stopRunning(answer?: (argv: string[]) => Answer) {
  const runDir = mkdtempSync(join(tmpdir(), 'hanfs-stop-'));
  const paths = ganeshaPaths(runDir, 'server1');
  mkdirSync(paths.dir, { recursive: true });
  const ganesha = spawn('/bin/sh', ['-c', 'read x', '-F', '-f', paths.configFile], { argv0: 'ganesha.nfsd', stdio: ['pipe', 'ignore', 'ignore'] });
  await new Promise((resolve) => ganesha.once('spawn', resolve));
  writeFileSync(paths.pidFile, `${ganesha.pid}\n`);
  const runner = new FakeRunner(answer);
  const { log, lines } = recordingLog();
  const resources = new SystemResources({ view: viewOf(), runner, log, runDir });
  try {
    return { runner, lines, result: await resources.run('server1', 'nfs_server', 'nfs_server', 'stop'), exited: !processAlive(ganesha.pid!) };
  } finally {
    ganesha.kill('SIGKILL');
    rmSync(runDir, { recursive: true });
  }
}

test('nfs_server stop: once Ganesha is gone, the kernel forgets every TCP connection still on the service address', async () => {
  const { runner, result, exited } = await stopRunning();
  assert.equal(result, { ok: true });
  assert.ok(exited, 'the stand-in Ganesha was ended');
  assert.equal(runner.lines(), ['ss -K -t src 198.51.100.11'], 'no ghost left for the next takeover');
});

test('nfs_server stop: a failed ss is a warning, not a failed stop (the server is stopped either way)', async () => {
  const { lines, result } = await stopRunning(() => ({ code: 1, stderr: 'ss: SOCK_DESTROY answers: Operation not supported\n' }));
  assert.equal(result, { ok: true });
  assert.ok(lines.some((l) => l.level === 'warn' && l.message.startsWith('could not end the old connections of group server1: ss -K -t src 198.51.100.11: exit code 1')),
    JSON.stringify(lines));
});

test.run();
