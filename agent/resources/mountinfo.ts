// The mounts of this process's mount namespace, from /proc/self/mountinfo (see proc(5)): what the file system
// resource checks before mounting (adopt what is already there) and before unmounting (leave what is not ours).
import { readFile } from 'node:fs/promises';

export interface MountEntry {
  /** "major:minor" of the mounted device. */
  device: string;
  mountPoint: string;
  fsType: string;
  /** What mount was given as the source, e.g. /dev/loop5. */
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash in paths as three octal digits. */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL FIELDS...] - FSTYPE SOURCE SUPEROPTIONS
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0) continue;
    mounts.push({
      device: fields[2]!,
      mountPoint: unescapeOctal(fields[4]!),
      fsType: fields[separator + 1] ?? '',
      source: unescapeOctal(fields[separator + 2] ?? ''),
    });
  }
  return mounts;
}

export async function readMounts(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountinfo(await readFile(file, 'utf8'));
}

/** The mount visible at `mountPoint`: of mounts stacked on one directory, the last one listed is on top. */
export function topMountAt(mounts: readonly MountEntry[], mountPoint: string): MountEntry | undefined {
  return mounts.filter((m) => m.mountPoint === mountPoint).at(-1);
}
