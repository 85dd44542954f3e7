// The watchdog device's own timeout, as the kernel reports it (/sys/class/watchdog/NAME/timeout, in seconds), set
// against the config's watchdog.timeoutMs: the fence margin is built on the configured figure, so a device that
// waits longer than configured before it resets would let the partner take over from a machine still running.
import { readFile, realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ConfigError } from './errors.ts';
import type { PairConfig } from './schema.ts';

/** The device's timeout in ms, or null where the kernel does not say (no sysfs entry: a lab's file, say). */
export async function deviceTimeoutMs(device: string, sysRoot = '/sys'): Promise<number | null> {
  try {
    // /dev/watchdog is the legacy name of the first device, watchdog0.
    const name = basename(await realpath(device)).replace(/^watchdog$/, 'watchdog0');
    const seconds = Number((await readFile(`${sysRoot}/class/watchdog/${name}/timeout`, 'utf8')).trim());
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null;
  } catch {
    return null;
  }
}

/** An error if the device's timeout is longer than the config says; nothing where it agrees or cannot be read. */
export async function checkWatchdogDevice(config: PairConfig, source: string, sysRoot?: string): Promise<ConfigError[]> {
  const wd = config.watchdog;
  if (wd === undefined || wd === 'none') return [];
  const actual = await deviceTimeoutMs(wd.device, sysRoot);
  if (actual === null || actual <= wd.timeoutMs) return [];
  return [{
    kind: 'invalid', source, path: 'watchdog.timeoutMs',
    expected: `the device's own timeout, ${actual} (${wd.device}, from sysfs): the fence margin is built on it`,
    found: String(wd.timeoutMs),
  }];
}
