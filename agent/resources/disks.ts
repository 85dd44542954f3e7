// The group's disks: replaying their journals before mounting (log_replay), and mounting and unmounting them
// (filesystem). Both adopt what is already there, so a start after an agent restart, or a second start, changes
// nothing; and both look at this mount namespace's mountinfo, never at paths alone.
import { mkdir, realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DiskConfig } from '../../config/schema.ts';
import type { GroupId } from '../core/types.ts';
import { commandFailed, commandSucceeded, formatArgv } from '../exec/templates.ts';
import { COMMAND_TIMEOUT_MS, commandArgv, groupConfig, runOrFail, type ResourceContext } from './context.ts';
import { deviceNumberOf } from './device-numbers.ts';
import { e2fsckVerdict } from './e2fsck.ts';
import { findMountHolders } from './mount-holders.ts';
import { readMounts, topMountAt } from './mountinfo.ts';
import { terminateProcesses } from './terminate.ts';

/** The whole unmount of one disk, with killing what keeps it busy, stays within this bound. */
const UNMOUNT_BOUND_MS = 10_000;
/** How long the processes holding a busy mount get between SIGTERM and SIGKILL. */
const HOLDER_GRACE_MS = 2_000;
/** Pause before retrying an unmount that is busy for no process we can see (e.g. a mount nested inside it). */
const BUSY_RETRY_MS = 200;

function diskValues(disk: DiskConfig): Record<string, string> {
  return { device: disk.device, mountPoint: disk.mountPoint, fsType: disk.fsType };
}

/** The mount point as mountinfo shows it: no trailing slash, symbolic links resolved. */
async function canonicalMountPoint(mountPoint: string): Promise<string> {
  return realpath(mountPoint).catch(() => resolve(mountPoint));
}

/** journalReplay then fsck (e2fsck -p) on each ext4 disk not mounted yet; xfs replays its log itself at mount. */
export async function replayLogs(ctx: ResourceContext, group: GroupId): Promise<void> {
  const mounts = await readMounts();
  for (const disk of groupConfig(ctx, group).disks) {
    if (disk.fsType !== 'ext4') continue;
    const device = await deviceNumberOf(disk.device);
    if (mounts.some((m) => m.device === device)) {
      ctx.log('info', `${disk.device} is already mounted: no journal replay (adopted)`, { event: 'resource', group });
      continue;
    }
    for (const step of ['journalReplay', 'fsck']) await checkExt4(ctx, group, step, disk);
  }
}

async function checkExt4(ctx: ResourceContext, group: GroupId, step: string, disk: DiskConfig): Promise<void> {
  const result = await ctx.runner.run(commandArgv(ctx, step, diskValues(disk)), { timeoutMs: COMMAND_TIMEOUT_MS.fsck });
  const verdict = result.timedOut ? 'failed' : e2fsckVerdict(result.code);
  if (verdict === 'failed') throw new Error(commandFailed(result));
  if (verdict === 'reboot_advised') {
    ctx.log('warn', `${formatArgv(result.argv)} repaired ${disk.device} and advises a reboot (exit code ${result.code}); mounting it anyway`,
      { event: 'resource', group });
  }
}

/** Mounts each disk, creating its mount point; a disk already mounted there is adopted. */
export async function mountDisks(ctx: ResourceContext, group: GroupId): Promise<void> {
  for (const disk of groupConfig(ctx, group).disks) {
    await mkdir(disk.mountPoint, { recursive: true });
    const mountPoint = await canonicalMountPoint(disk.mountPoint);
    const device = await deviceNumberOf(disk.device);
    const present = topMountAt(await readMounts(), mountPoint);
    if (present?.device === device) {
      ctx.log('info', `${disk.device} is already mounted on ${mountPoint} (adopted)`, { event: 'resource', group });
      continue;
    }
    if (present) {
      throw new Error(`${mountPoint} already has ${present.source} (device ${present.device}) mounted on it, not ${disk.device} (device ${device})`);
    }
    const options = mountOptions(disk);
    const argv = [...commandArgv(ctx, 'mount', diskValues(disk)), ...(options.length > 0 ? ['-o', options.join(',')] : [])];
    await runOrFail(ctx, argv, COMMAND_TIMEOUT_MS.mount);
  }
}

/** The configured options; an xfs log on its own device must be named at every mount. */
function mountOptions(disk: DiskConfig): string[] {
  const logdev = disk.fsType === 'xfs' && disk.journalDevice !== null ? [`logdev=${disk.journalDevice}`] : [];
  return [...disk.mountOptions, ...logdev];
}

/** Each disk of the group and whether it is mounted where it belongs in this mount namespace (a monitor's question). */
export async function diskMounts(ctx: ResourceContext, group: GroupId): Promise<Array<{ disk: DiskConfig; mounted: boolean; problem: string | null }>> {
  const mounts = await readMounts();
  return Promise.all(groupConfig(ctx, group).disks.map(async (disk) => {
    const mountPoint = await canonicalMountPoint(disk.mountPoint);
    const device = await deviceNumberOf(disk.device).catch(() => null);
    const present = topMountAt(mounts, mountPoint);
    if (present && (present.device === device || present.source === disk.device)) return { disk, mounted: true, problem: null };
    return {
      disk, mounted: false,
      problem: present ? `${mountPoint} has ${present.source} mounted on it, not ${disk.device}` : `${disk.device} is not mounted on ${mountPoint}`,
    };
  }));
}

/** Unmounts each disk, last mounted first. */
export async function unmountDisks(ctx: ResourceContext, group: GroupId): Promise<void> {
  for (const disk of [...groupConfig(ctx, group).disks].reverse()) await unmountDisk(ctx, group, disk);
}

async function unmountDisk(ctx: ResourceContext, group: GroupId, disk: DiskConfig): Promise<void> {
  const mountPoint = await canonicalMountPoint(disk.mountPoint);
  // A device that has vanished (a by-id link gone with its path) can still be mounted: know it by its source then.
  const device = await deviceNumberOf(disk.device).catch(() => null);
  const isOurs = (m: { device: string; source: string }) => m.device === device || m.source === disk.device;
  const until = Date.now() + UNMOUNT_BOUND_MS;
  // A loop, because the same device may be mounted on that directory more than once.
  for (;;) {
    const present = topMountAt(await readMounts(), mountPoint);
    if (!present || !isOurs(present)) return;
    const timeoutMs = Math.max(1, Math.min(COMMAND_TIMEOUT_MS.umount, until - Date.now()));
    const result = await ctx.runner.run(commandArgv(ctx, 'umount', diskValues(disk)), { timeoutMs });
    if (commandSucceeded(result)) continue;
    const busy = /busy/i.test(result.stderr);
    // The agent never ends itself: if it is the one holding the mount, the retries run out and the stop fails.
    const holders = busy ? (await findMountHolders(mountPoint, present.device)).filter((pid) => pid !== process.pid) : [];
    if (!busy || Date.now() >= until) {
      const still = holders.length > 0 ? ` (still used by PID ${holders.join(', ')})` : '';
      throw new Error(`${commandFailed(result)}${still}`);
    }
    if (holders.length === 0) {
      await new Promise((r) => setTimeout(r, BUSY_RETRY_MS));
      continue;
    }
    ctx.log('warn', `${mountPoint} is busy: ending PID ${holders.join(', ')} (TERM, then KILL after ${HOLDER_GRACE_MS} ms)`,
      { event: 'resource', group, pids: holders });
    await terminateProcesses(holders, Math.min(HOLDER_GRACE_MS, Math.max(0, until - Date.now())));
  }
}
