import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { processAlive } from '../../agent/sensors/process-alive.ts';

test('a live process is alive', () => {
  assert.is(processAlive(process.pid), true);
});

test('an exited and reaped process is dead; nonsense PIDs are dead', async () => {
  const child = spawn('true');
  await once(child, 'exit');
  assert.is(processAlive(child.pid!), false);
  assert.is(processAlive(0), false);
  assert.is(processAlive(-1), false);
  assert.is(processAlive(1.5), false);
});

test('a zombie is dead, although kill -0 still succeeds on it', async () => {
  // sh starts a short sleep in the background and becomes `sleep 30`, which never reaps it: once the short sleep
  // ends it stays a zombie. It must outlive the exec, or sh could reap it first.
  const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const zombie = Number(line.toString().trim());
    const until = Date.now() + 2_000;
    while (!/^State:\s*Z/m.test(readFileSync(`/proc/${zombie}/status`, 'utf8'))) {
      if (Date.now() > until) throw new Error(`process ${zombie} did not become a zombie`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    process.kill(zombie, 0);
    assert.is(processAlive(zombie), false);
  } finally {
    parent.kill('SIGKILL');
  }
});

test('a zombie leader whose threads are still exiting still runs; once they are gone it is dead', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proc-'));
  try {
    mkdirSync(join(dir, '42'));
    writeFileSync(join(dir, '42/status'), 'Name:\tganesha.nfsd\nState:\tZ (zombie)\nThreads:\t3\n');
    assert.is(processAlive(42, dir), true);
    writeFileSync(join(dir, '42/status'), 'Name:\tganesha.nfsd\nState:\tZ (zombie)\nThreads:\t1\n');
    assert.is(processAlive(42, dir), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
