// The deep health checks (HA-NFS's IsAlive, Pacemaker's monitor): each a plain async function answering whether
// one thing is well, with a detail a reader can act on. deep-checks.ts runs them on a schedule. They may throw on
// unexpected errors; the scheduler turns a throw into a failed result.
import { randomUUID } from 'node:crypto';
import { open, readFile, stat, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface CheckOutcome {
  ok: boolean;
  detail: string;
}

const pass = (detail: string): CheckOutcome => ({ ok: true, detail });
const fail = (detail: string): CheckOutcome => ({ ok: false, detail });

/** The status file the writable check writes on each mounted file system. */
export const HEALTH_FILE = '.hanfs-health';

/** Something is mounted at `mountPoint` in this process's mount namespace. */
export async function checkMounted(mountPoint: string, mountinfo = '/proc/self/mountinfo'): Promise<CheckOutcome> {
  const wanted = resolve(mountPoint);
  // The last of several mounts stacked on one point is the one visible there.
  const mount = parseMountinfo(await readFile(mountinfo, 'utf8')).filter((m) => m.mountPoint === wanted).at(-1);
  return mount
    ? pass(`${wanted} is mounted (${mount.fsType} from ${mount.source})`)
    : fail(`${wanted} is not a mount point: nothing is mounted there`);
}

interface Mount {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** proc(5): "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS". */
function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    const mountPoint = fields[4];
    if (mountPoint === undefined || separator < 0) continue;
    mounts.push({
      mountPoint: unescapeOctal(mountPoint),
      fsType: fields[separator + 1] ?? '?',
      source: unescapeOctal(fields[separator + 2] ?? '?'),
    });
  }
  return mounts;
}

/** mountinfo writes space, tab, newline and backslash in paths as \040, \011, \012 and \134. */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * Writes a small status file into the mount point, fsyncs it and reads it back. The fsync makes the write reach the
 * device, so a failed disk, or a file system the kernel remounted read-only after an error, fails here.
 */
export async function checkWritable(mountPoint: string): Promise<CheckOutcome> {
  const file = join(mountPoint, HEALTH_FILE);
  const written = `hanfs health check ${new Date().toISOString()} pid ${process.pid} ${randomUUID()}\n`;
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(written);
    await handle.sync();
  } finally {
    await handle.close();
  }
  const read = await readFile(file, 'utf8');
  return read === written
    ? pass(`${file} written, synced and read back`)
    : fail(`${file} read back differs from what was just written`);
}

/** Space free for non-root writers, as a share of the file system's size, is at least `minFreePercent`. */
export async function checkFreeSpace(path: string, minFreePercent: number): Promise<CheckOutcome> {
  const fs = await statfs(path);
  return checkShare(`${path}: space`, fs.bavail * fs.bsize, fs.blocks * fs.bsize, minFreePercent, mebibytes);
}

/** Free inodes, as a share of all, is at least `minFreePercent` (file systems that do not count them pass). */
export async function checkFreeInodes(path: string, minFreePercent: number): Promise<CheckOutcome> {
  const fs = await statfs(path);
  if (fs.files === 0) return pass(`${path}: inodes: the file system does not count them`);
  return checkShare(`${path}: inodes`, fs.ffree, fs.files, minFreePercent, String);
}

function checkShare(
  what: string, free: number, total: number, minFreePercent: number, show: (n: number) => string,
): CheckOutcome {
  const percent = total > 0 ? (100 * free) / total : 100;
  const amounts = `${show(free)} of ${show(total)}`;
  const detail = `${what} ${percent.toFixed(1)} % free (${amounts}), at least ${minFreePercent} % wanted`;
  return percent >= minFreePercent ? pass(detail) : fail(detail);
}

function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** `path` (after symlinks, such as /dev/disk/by-id names) exists and is a block device. */
export async function checkBlockDevice(path: string): Promise<CheckOutcome> {
  try {
    const st = await stat(path);
    return st.isBlockDevice() ? pass(`${path} is a block device`) : fail(`${path} is not a block device`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fail(`${path} does not exist`);
    throw err;
  }
}

/** systeminformation, loaded at the first check that uses it (the machine's load and memory): no other needs it. */
let systemInformation: Promise<typeof import('systeminformation')> | null = null;
const si = () => (systemInformation ??= import('systeminformation').then((m) => m.default));

/** CPU load (all CPUs, in percent, since systeminformation's previous call; the first call measures ~0.5 s). */
export async function checkLoad(maxLoadPercent: number): Promise<CheckOutcome> {
  const { currentLoad } = await (await si()).currentLoad();
  const detail = `CPU load ${currentLoad.toFixed(1)} %, at most ${maxLoadPercent} % wanted`;
  return currentLoad <= maxLoadPercent ? pass(detail) : fail(detail);
}

/** Memory available to new work (MemAvailable), as a share of all memory, is at least `minAvailablePercent`. */
export async function checkMemory(minAvailablePercent: number): Promise<CheckOutcome> {
  const { available, total } = await (await si()).mem();
  return checkShare('memory', available, total, minAvailablePercent, mebibytes);
}
