// Which block device a file system is on, as the kernel names it: "major:minor", the form /proc/self/mountinfo
// uses. Comparing numbers rather than paths makes /dev/disk/by-id/... links and /dev/loopN the same device.
import { stat } from 'node:fs/promises';

/** Decodes a dev_t the way glibc's major()/minor() do (numbers above 255 are split across the word). */
export function majorMinor(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** The device number a device file (or a link to one) stands for. */
export async function deviceNumberOf(devicePath: string): Promise<string> {
  return majorMinor((await stat(devicePath, { bigint: true })).rdev);
}

/** The device number of the file system a path (or the target of a /proc magic link) lives on. */
export async function fileSystemOf(path: string): Promise<string> {
  return majorMinor((await stat(path, { bigint: true })).dev);
}
