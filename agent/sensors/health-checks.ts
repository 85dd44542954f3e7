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

/** systeminformation, loaded at the first check that uses it (the machine's memory): no other needs it. */
let systemInformation: Promise<typeof import('systeminformation')> | null = null;
const si = () => (systemInformation ??= import('systeminformation').then((m) => m.default));

/** The aggregate "cpu" line of /proc/stat: busy and total jiffies since boot. */
async function cpuTimes(procStat: string): Promise<{ busy: number; total: number }> {
  const line = (await readFile(procStat, 'utf8')).split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error(`${procStat}: no cpu line`);
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user! + nice! + system! + irq + softirq + steal;
  return { busy, total: busy + idle! + iowait };
}

let lastCpu: { busy: number; total: number } | null = null;

/**
 * CPU load of all CPUs, in percent, since the previous check (the first measures over 0.5 s). Read from /proc/stat
 * here, not with systeminformation's currentLoad, which runs `cat /proc/stat | grep cpu` through a shell with
 * execSync, blocking the agent's event loop, heartbeats and all, at every check.
 */
export async function checkLoad(maxLoadPercent: number, procStat = '/proc/stat'): Promise<CheckOutcome> {
  if (!lastCpu) {
    lastCpu = await cpuTimes(procStat);
    await new Promise((r) => setTimeout(r, 500));
  }
  const now = await cpuTimes(procStat);
  const total = now.total - lastCpu.total;
  const load = total > 0 ? (100 * (now.busy - lastCpu.busy)) / total : 0;
  lastCpu = now;
  const detail = `CPU load ${load.toFixed(1)} %, at most ${maxLoadPercent} % wanted`;
  return load <= maxLoadPercent ? pass(detail) : fail(detail);
}

/** Memory available to new work (MemAvailable), as a share of all memory, is at least `minAvailablePercent`. */
export async function checkMemory(minAvailablePercent: number): Promise<CheckOutcome> {
  const { available, total } = await (await si()).mem();
  return checkShare('memory', available, total, minAvailablePercent, mebibytes);
}
