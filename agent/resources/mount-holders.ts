// Which processes keep a mount busy (what `fuser -m` finds): those whose working directory, root, executable,
// open files or mapped files lie under the mount point on that device. The device is checked as well as the path
// because a process in another mount namespace can show the same path on a different file system; reading /proc
// is the only way to find them without a helper program.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { fileSystemOf } from './device-numbers.ts';

function under(path: string, mountPoint: string): boolean {
  return path === mountPoint || path.startsWith(mountPoint === '/' ? '/' : `${mountPoint}/`);
}

/** The /proc magic links of one process that may point into a file system: cwd, root, exe and every open file. */
async function fileLinks(procPid: string): Promise<string[]> {
  const fds = await readdir(`${procPid}/fd`).catch(() => [] as string[]);
  return [...['cwd', 'root', 'exe'].map((name) => `${procPid}/${name}`), ...fds.map((fd) => `${procPid}/fd/${fd}`)];
}

async function linkInto(link: string, mountPoint: string, device: string): Promise<boolean> {
  try {
    // Open files that were deleted read "PATH (deleted)"; the prefix test still holds.
    return under(await readlink(link), mountPoint) && (await fileSystemOf(link)) === device;
  } catch {
    return false; // The process or the file went away, or the link is a socket or pipe.
  }
}

/** Mapped files: /proc/PID/maps gives each mapping's device as hex "major:minor" and its path. */
async function mapsInto(procPid: string, mountPoint: string, device: string): Promise<boolean> {
  const maps = await readFile(`${procPid}/maps`, 'utf8').catch(() => '');
  return maps.split('\n').some((line) => {
    // ADDRESS PERMS OFFSET MAJ:MIN INODE PATH (the path may hold spaces)
    const [, major = '', minor = '', path = ''] = /^\S+ \S+ \S+ ([0-9a-f]+):([0-9a-f]+) \d+\s+(.*)$/.exec(line) ?? [];
    return under(path, mountPoint) && `${parseInt(major, 16)}:${parseInt(minor, 16)}` === device;
  });
}

/** PIDs of the processes using files under `mountPoint` on `device` ("major:minor"). */
export async function findMountHolders(mountPoint: string, device: string, proc = '/proc'): Promise<number[]> {
  const pids = (await readdir(proc)).filter((name) => /^\d+$/.test(name)).map(Number);
  const holders: number[] = [];
  for (const pid of pids) {
    const procPid = `${proc}/${pid}`;
    const links = await fileLinks(procPid);
    const results = await Promise.all(links.map((link) => linkInto(link, mountPoint, device)));
    if (results.some(Boolean) || (await mapsInto(procPid, mountPoint, device))) holders.push(pid);
  }
  return holders;
}
