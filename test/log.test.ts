import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asLogFn, closeLogger, createLogger, isJournalStream, rateLimited, withPriority } from '../agent/log.ts';
import type { LogFn } from '../agent/ports.ts';

/** Keeps the Console transport's lines out of the test output while the logger runs. */
async function withStdoutCaptured<T>(body: () => Promise<T>): Promise<{ value: T; stdout: string }> {
  const write = process.stdout.write;
  let stdout = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { value: await body(), stdout };
  } finally {
    process.stdout.write = write;
  }
}

test('closeLogger flushes the file completely: 1000 lines logged, 1000 lines in the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-log-'));
  try {
    const file = join(dir, 'agent.log');
    const { stdout } = await withStdoutCaptured(async () => {
      const logger = createLogger({ level: 'info', file });
      const log = asLogFn(logger);
      for (let i = 0; i < 1000; i++) log('info', `line ${i}`, { i });
      await closeLogger(logger);
    });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.is(lines.length, 1000);
    assert.is(stdout.trimEnd().split('\n').length, 1000);
    const last = JSON.parse(lines[999]!);
    assert.is(last.message, 'line 999');
    assert.is(last.i, 999);
    assert.is(last.level, 'info');
    assert.ok(!Number.isNaN(Date.parse(last.timestamp)), `timestamp ${last.timestamp}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lines below the level are dropped; closing twice is harmless', async () => {
  const { stdout } = await withStdoutCaptured(async () => {
    const logger = createLogger({ level: 'warn' });
    asLogFn(logger)('info', 'quiet');
    asLogFn(logger)('error', 'loud');
    await closeLogger(logger);
    await closeLogger(logger);
  });
  const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
  assert.equal(lines.map((l) => l.message), ['loud']);
});

test('rateLimited: one line per key per interval, then the suppressed count', () => {
  let now = 0;
  const seen: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const log: LogFn = (level, message, fields) => seen.push([level, message, fields]);
  const limited = rateLimited(log, 1000, () => now);
  limited('a', 'warn', 'a failed', { net: 'a' });
  limited('a', 'warn', 'a failed', { net: 'a' });
  limited('b', 'warn', 'b failed');
  now = 999;
  limited('a', 'warn', 'a failed', { net: 'a' });
  now = 1000;
  limited('a', 'warn', 'a failed again', { net: 'a' });
  limited('a', 'warn', 'a failed');
  now = 2500;
  limited('a', 'warn', 'a failed');
  assert.equal(seen, [
    ['warn', 'a failed', { net: 'a' }],
    ['warn', 'b failed', undefined],
    ['warn', 'a failed again', { net: 'a', suppressed: 2 }],
    ['warn', 'a failed', { suppressed: 1 }],
  ]);
});

test('under journald every stdout line carries the priority of its level; the file gets the plain line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-log-'));
  try {
    const file = join(dir, 'agent.log');
    const { stdout } = await withStdoutCaptured(async () => {
      const logger = createLogger({ level: 'debug', file, journal: true });
      const log = asLogFn(logger);
      log('error', 'e', { n: 1 });
      log('warn', 'w');
      log('info', 'i');
      log('debug', 'd');
      await closeLogger(logger);
    });
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.map((line) => line.slice(0, 3)), ['<3>', '<4>', '<6>', '<7>']);
    assert.equal(lines.map((line) => JSON.parse(line.slice(3)).message), ['e', 'w', 'i', 'd']);
    assert.is(JSON.parse(lines[0]!.slice(3)).n, 1);
    const plain = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(plain.map((line) => JSON.parse(line).message), ['e', 'w', 'i', 'd']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('not under journald (JOURNAL_STREAM unset, or naming another stream): plain JSON lines', async () => {
  const { stdout } = await withStdoutCaptured(async () => {
    const logger = createLogger({ level: 'info', journal: false });
    asLogFn(logger)('error', 'plain');
    await closeLogger(logger);
  });
  assert.is(JSON.parse(stdout).message, 'plain');
});

test('isJournalStream: JOURNAL_STREAM must name the device and inode of that very descriptor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-log-'));
  const fd = openSync(join(dir, 'stream'), 'w');
  try {
    const st = fstatSync(fd, { bigint: true });
    assert.ok(isJournalStream(fd, `${st.dev}:${st.ino}`));
    assert.not.ok(isJournalStream(fd, `${st.dev}:${st.ino + 1n}`), 'inherited by a process whose output goes elsewhere');
    assert.not.ok(isJournalStream(fd, undefined));
    assert.not.ok(isJournalStream(fd, 'garbage'));
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('withPriority prefixes every line (journald makes each line an entry)', () => {
  assert.is(withPriority('error', 'hanfs agent: invalid configuration:\na.yaml:1:1: x'), '<3>hanfs agent: invalid configuration:\n<3>a.yaml:1:1: x');
  assert.is(withPriority('warn', 'w'), '<4>w');
});

test.run();
