import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessRunner, type ProcessRunnerOptions } from '../../agent/exec/runner.ts';
import { processAlive } from '../../agent/sensors/process-alive.ts';
import type { LogFn } from '../../agent/ports.ts';

function runnerWithLog(opts: Partial<ProcessRunnerOptions> = {}) {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const log: LogFn = (level, message, fields) => lines.push({ level, message, fields });
  return { runner: new ProcessRunner({ log, ...opts }), lines };
}

test('arguments with spaces and shell metacharacters reach the command literally', async () => {
  const { runner } = runnerWithLog();
  const r = await runner.run(['printf', '%s|', 'a b;$(x)', '`id`', '*', '']);
  assert.is(r.code, 0);
  assert.is(r.stdout, 'a b;$(x)|`id`|*||');
  assert.is(r.timedOut, false);
  assert.is(r.dryRun, false);
});

test('a run is logged with its argv, exit code and duration', async () => {
  const { runner, lines } = runnerWithLog();
  await runner.run(['true']);
  assert.is(lines.length, 1);
  assert.is(lines[0]!.level, 'info');
  assert.is(lines[0]!.message, 'ran true');
  assert.equal(lines[0]!.fields?.argv, ['true']);
  assert.is(lines[0]!.fields?.code, 0);
  assert.type(lines[0]!.fields?.durationMs, 'number');
});

test('a non-zero exit is a result with its code and stderr, logged as a warning', async () => {
  const { runner, lines } = runnerWithLog();
  const r = await runner.run(['sh', '-c', 'echo out; echo "it broke" >&2; exit 3']);
  assert.is(r.code, 3);
  assert.is(r.signal, null);
  assert.is(r.stdout, 'out\n');
  assert.is(r.stderr, 'it broke\n');
  assert.is(lines[0]!.level, 'warn');
  assert.match(lines[0]!.message, /exit code 3: it broke$/);
});

test('input is written to the command\'s stdin', async () => {
  const { runner } = runnerWithLog();
  const r = await runner.run(['cat'], { input: 'line one\nline two\n' });
  assert.is(r.stdout, 'line one\nline two\n');
});

test('input a command does not read is no error', async () => {
  const { runner } = runnerWithLog();
  const r = await runner.run(['true'], { input: 'x'.repeat(1 << 20) });
  assert.is(r.code, 0);
});

test('a command past its timeout gets SIGTERM', async () => {
  const { runner } = runnerWithLog({ killGraceMs: 5_000 });
  const r = await runner.run(['sleep', '30'], { timeoutMs: 200 });
  assert.is(r.timedOut, true);
  assert.is(r.code, null);
  assert.is(r.signal, 'SIGTERM');
  assert.ok(r.durationMs >= 200 && r.durationMs < 2_000, `took ${r.durationMs} ms`);
});

test('a command that ignores SIGTERM gets SIGKILL after the grace period, with its children', async () => {
  const { runner } = runnerWithLog({ killGraceMs: 300 });
  // The shell prints the PID of its sleep (which inherits the ignored TERM) so the test can see it is gone too.
  const r = await runner.run(['bash', '-c', 'trap "" TERM; sleep 30 & echo $!; wait'], { timeoutMs: 200 });
  const sleepPid = Number(r.stdout.trim());
  try {
    assert.is(r.timedOut, true);
    assert.is(r.signal, 'SIGKILL');
    assert.ok(r.durationMs >= 500 && r.durationMs < 2_500, `took ${r.durationMs} ms`);
    await waitFor(() => !processAlive(sleepPid), 2_000);
  } finally {
    if (processAlive(sleepPid)) process.kill(sleepPid, 'SIGKILL');
  }
});

test('a background process holding the output open does not hold up the result', async () => {
  const { runner } = runnerWithLog({ outputDrainMs: 100 });
  const r = await runner.run(['sh', '-c', 'sleep 30 & echo $!'], { timeoutMs: 10_000 });
  const sleepPid = Number(r.stdout.trim());
  try {
    assert.is(r.code, 0);
    assert.is(r.timedOut, false);
    assert.ok(r.durationMs < 1_000, `took ${r.durationMs} ms`);
  } finally {
    process.kill(sleepPid, 'SIGKILL');
  }
});

test('a command that does not exist is a failed result, not a rejection', async () => {
  const { runner, lines } = runnerWithLog();
  const r = await runner.run(['/nonexistent/hanfs-no-such-command', 'x']);
  assert.is(r.code, null);
  assert.is(r.signal, null);
  assert.is(r.timedOut, false);
  assert.match(r.stderr, /could not start: .*ENOENT/);
  assert.match(lines[0]!.message, /did not run: could not start/);
});

test('an empty argv, or an argument spawn refuses, is a failed result', async () => {
  const { runner } = runnerWithLog();
  const empty = await runner.run([]);
  assert.is(empty.code, null);
  assert.match(empty.stderr, /empty command/);
  const nul = await runner.run(['echo', 'a\0b']);
  assert.is(nul.code, null);
  assert.match(nul.stderr, /^could not start: .*null bytes/);
});

test('a dry run logs the command and runs nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-runner-'));
  try {
    const target = join(dir, 'created');
    const { runner, lines } = runnerWithLog({ dryRun: true });
    const r = await runner.run(['touch', target]);
    assert.is(r.code, 0);
    assert.is(r.dryRun, true);
    assert.not.ok(existsSync(target));
    assert.is(lines[0]!.message, `dry run: would run touch ${target}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('output beyond the cap is read, dropped and reported', async () => {
  const { runner } = runnerWithLog({ maxOutputBytes: 1000 });
  const r = await runner.run(['seq', '1', '100000']);
  assert.is(r.code, 0);
  const [kept, note] = r.stdout.split('\n[output cut: ');
  assert.is(kept!.length, 1000);
  assert.ok(kept!.startsWith('1\n2\n3\n'));
  // seq 1 100000 prints 588895 bytes.
  assert.is(note, `${588895 - 1000} more bytes not kept]`);
});

async function waitFor(condition: () => boolean, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test.run();
