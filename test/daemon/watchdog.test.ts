// The watchdog adapters. A regular file stands in for /dev/watchdog: what matters is what is written to it, when.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { timerScheduler } from '../../agent/daemon/scheduler.ts';
import { DeviceWatchdog, NoWatchdog, watchdogDeviceFile } from '../../agent/daemon/watchdog.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withDevice(run: (device: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-watchdog-'));
  const device = join(dir, 'watchdog');
  writeFileSync(device, '');
  return run(device).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('it is petted while the lease is good, and no more once it has run out', () => withDevice(async (device) => {
  let now = 0;
  const w = new DeviceWatchdog(watchdogDeviceFile(device), { now: () => now }, timerScheduler, 10);
  w.arm(100);
  await sleep(50);
  const whileGood = readFileSync(device, 'utf8').length;
  assert.ok(whileGood >= 2, `petted ${whileGood} times`);
  now = 100;
  await sleep(50);
  assert.is(readFileSync(device, 'utf8').length, whileGood, 'petted after the lease ran out');
  w.close();
}));

test('disarming writes the magic close, so the driver knows the stop is deliberate', () => withDevice(async (device) => {
  const w = new DeviceWatchdog(watchdogDeviceFile(device), { now: () => 0 }, timerScheduler, 10);
  w.arm(100);
  w.arm(null);
  assert.ok(readFileSync(device, 'utf8').endsWith('V'));
  w.close();
}));

test('an agent exiting while it owns something leaves the watchdog armed: no magic close', () => withDevice(async (device) => {
  const w = new DeviceWatchdog(watchdogDeviceFile(device), { now: () => 0 }, timerScheduler, 10);
  w.arm(100);
  w.close();
  assert.not.ok(readFileSync(device, 'utf8').includes('V'));
  const written = readFileSync(device, 'utf8').length;
  await sleep(40);
  assert.is(readFileSync(device, 'utf8').length, written, 'petted after close');
}));

test('an agent exiting with nothing to guard disarms the watchdog', () => withDevice(async (device) => {
  const w = new DeviceWatchdog(watchdogDeviceFile(device), { now: () => 0 }, timerScheduler, 10);
  w.arm(100);
  w.arm(null);
  w.close();
  assert.ok(readFileSync(device, 'utf8').endsWith('V'));
}));

test('without a device the agent says so once, when it first has something to guard', () => {
  const lines: string[] = [];
  const w = new NoWatchdog((_level, message) => lines.push(message));
  w.arm(null);
  w.arm(100);
  w.arm(200);
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /no watchdog device configured/);
});

test.run();
