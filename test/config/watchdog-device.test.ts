// The watchdog device's timeout read from sysfs and set against the config. A temporary folder stands in for /sys
// and a regular file for the device: the host has no watchdog device.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '../../config/load.ts';
import type { PairConfig } from '../../config/schema.ts';
import { checkWatchdogDevice, deviceTimeoutMs } from '../../config/watchdog-device.ts';

function withSys(timeoutSeconds: string | null, run: (device: string, sys: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-wd-'));
  const device = join(dir, 'watchdog1');
  writeFileSync(device, '');
  const sys = join(dir, 'sys');
  if (timeoutSeconds !== null) {
    mkdirSync(join(sys, 'class/watchdog/watchdog1'), { recursive: true });
    writeFileSync(join(sys, 'class/watchdog/watchdog1/timeout'), `${timeoutSeconds}\n`);
  }
  return run(device, sys).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function configWith(device: string, timeoutMs: number): PairConfig {
  const base = parseConfig(
    readLab().replace('watchdog: none', `watchdog: { device: ${device}, timeoutMs: ${timeoutMs} }`), 'lab.yaml',
  );
  if (!base.ok) throw new Error(JSON.stringify(base.errors));
  return base.config;
}

function readLab(): string {
  return readFileSync(new URL('../../config/examples/lab.yaml', import.meta.url), 'utf8');
}

test('the timeout comes from the device’s sysfs entry, in ms', () => withSys('2', async (device, sys) => {
  assert.is(await deviceTimeoutMs(device, sys), 2000);
}));

test('a device without a sysfs entry says nothing', () => withSys(null, async (device, sys) => {
  assert.is(await deviceTimeoutMs(device, sys), null);
  assert.equal(await checkWatchdogDevice(configWith(device, 1000), 'pair.yaml', sys), []);
}));

test('a device that waits longer than the config says is refused; one that agrees passes', () => withSys('2', async (device, sys) => {
  const errors = await checkWatchdogDevice(configWith(device, 1000), 'pair.yaml', sys);
  assert.is(errors.length, 1);
  assert.match(JSON.stringify(errors[0]), /the device's own timeout, 2000/);
  assert.equal(await checkWatchdogDevice(configWith(device, 2000), 'pair.yaml', sys), []);
}));

test.run();
