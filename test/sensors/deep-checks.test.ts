import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeepChecks, type DeepCheck, type HealthResult } from '../../agent/sensors/deep-checks.ts';
import { checkMounted, checkWritable, type CheckOutcome } from '../../agent/sensors/health-checks.ts';
import type { LogFn } from '../../agent/ports.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quiet: LogFn = () => {};

function check(name: string, run: () => Promise<CheckOutcome>): DeepCheck {
  return { group: 'server1', resource: 'fs-disk1', name, run };
}

test('one round: each check gives one result for its group and resource; throws and timeouts are failures', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-deep-'));
  try {
    const results: HealthResult[] = [];
    const checks = new DeepChecks({
      cron: '*/10 * * * * *',
      timeoutMs: 300,
      log: quiet,
      onResult: (r) => results.push(r),
      checks: [
        check(`writable ${dir}`, () => checkWritable(dir)),
        check(`mounted ${dir}`, () => checkMounted(dir)),
        check('throws', () => Promise.reject(new Error('disk on fire'))),
        check('hangs', () => new Promise<CheckOutcome>(() => {})),
      ],
    });
    await checks.runOnce();
    const byDetail = results.map((r) => [r.group, r.resource, r.ok, r.detail]);
    assert.equal(byDetail.sort((x, y) => String(x[3]).localeCompare(String(y[3]))), [
      ['server1', 'fs-disk1', false, `${dir} is not a mount point: nothing is mounted there`],
      ['server1', 'fs-disk1', true, `${join(dir, '.hanfs-health')} written, synced and read back`],
      ['server1', 'fs-disk1', false, 'hangs: no answer within 300 ms'],
      ['server1', 'fs-disk1', false, 'throws: disk on fire'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a check whose I/O still hangs is not started again', async () => {
  let started = 0;
  let answer: (outcome: CheckOutcome) => void = () => {};
  const results: HealthResult[] = [];
  const checks = new DeepChecks({
    cron: '*/10 * * * * *',
    timeoutMs: 50,
    log: quiet,
    onResult: (r) => results.push(r),
    checks: [check('stuck disk', () => new Promise<CheckOutcome>((resolve) => {
      started++;
      answer = resolve;
    }))],
  });
  await checks.runOnce();
  await checks.runOnce();
  assert.is(started, 1);
  assert.equal(results.map((r) => r.detail), [
    'stuck disk: no answer within 50 ms',
    'stuck disk: the previous check has not answered yet',
  ]);
  answer({ ok: true, detail: 'late' });
  await sleep(0);
  await checks.runOnce();
  assert.is(started, 2);
});

test('scheduled by cron; stop() waits for the round under way and no round starts after it', async () => {
  const events: string[] = [];
  let rounds = 0;
  const checks = new DeepChecks({
    cron: '* * * * * *',
    timeoutMs: 5_000,
    log: quiet,
    onResult: () => events.push('result'),
    checks: [check('slow', async () => {
      rounds++;
      events.push('started');
      await sleep(700);
      return { ok: true, detail: 'fine' };
    })],
  });
  checks.start();
  const until = Date.now() + 2_500;
  while (!events.includes('started')) {
    if (Date.now() > until) throw new Error('no scheduled round within 2.5 s');
    await sleep(10);
  }
  await checks.stop();
  events.push('stopped');
  assert.equal(events, ['started', 'result', 'stopped']);
  await sleep(1_200);
  assert.is(rounds, 1);
});

test('node-cron\'s own warnings go to the agent\'s log', async () => {
  const lines: string[] = [];
  const checks = new DeepChecks({
    cron: '* * * * * *',
    timeoutMs: 5_000,
    log: (level, message) => lines.push(`${level} ${message}`),
    onResult: () => {},
    // Longer than the schedule's period: node-cron blocks the next run (noOverlap) and says so.
    checks: [check('slow', () => sleep(1_200).then(() => ({ ok: true, detail: 'fine' })))],
  });
  checks.start();
  const warned = () => lines.some((l) => l.startsWith('warn deep checks: ') && l.includes('overlap'));
  const until = Date.now() + 3_000;
  while (!warned() && Date.now() < until) await sleep(20);
  await checks.stop();
  assert.ok(warned(), lines.join('\n'));
});

test.run();
