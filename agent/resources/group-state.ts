// What of a group runs on this node, found afresh from the system (mountinfo, /proc, `ip addr`), not from what this
// process started: the question an outside cluster manager's monitor asks (Pacemaker's OCF monitor, `hanfs ocf`).
// Depth 0 (LooksAlive) asks whether each resource is there: its disks mounted, its NFS server running, its service
// address configured. Depth 10 (IsAlive) also asks whether they work: each disk's device present and its file
// system writable (a status file written, fsync'ed and read back), the NFS server listening on the address.
import { checkBlockDevice, checkWritable } from '../sensors/health-checks.ts';
import type { GroupId, ResourceKind } from '../core/types.ts';
import type { ResourceContext } from './context.ts';
import { diskMounts } from './disks.ts';
import type { NfsProfile } from './nfs-profile.ts';
import { addressPresent, addressValues } from './service-ip.ts';

export interface GroupState {
  /** running: every resource there (and, deep, working); stopped: none; partial: some; failed: all there, one not working. */
  state: 'running' | 'stopped' | 'partial' | 'failed';
  /** What is there and what is not, each a short phrase. */
  present: string[];
  absent: string[];
  /** Deep checks that failed. */
  problems: string[];
}

export async function inspectGroup(
  ctx: ResourceContext, nfs: NfsProfile, group: GroupId, depth: number, skip: readonly ResourceKind[] = [],
): Promise<GroupState> {
  const deep = depth >= 10;
  const present: string[] = [];
  const absent: string[] = [];
  const problems: string[] = [];
  if (!skip.includes('filesystem')) {
    for (const { disk, mounted, problem } of await diskMounts(ctx, group)) {
      if (mounted) present.push(`${disk.device} on ${disk.mountPoint}`);
      else absent.push(problem!);
      if (!deep || !mounted) continue;
      for (const check of [checkBlockDevice(disk.device), checkWritable(disk.mountPoint)]) {
        const outcome = await check.catch((err: Error) => ({ ok: false, detail: `${disk.mountPoint}: ${err.message}` }));
        if (!outcome.ok) problems.push(outcome.detail);
      }
    }
  }
  if (!skip.includes('nfs_server')) {
    const server = await nfs.serverState(group, deep && !skip.includes('service_ip'));
    if (server.running) present.push(`the NFS server of group ${group}`);
    else absent.push(server.problem ?? `the NFS server of group ${group} is not running`);
    if (server.running && server.problem) problems.push(server.problem);
  }
  if (!skip.includes('service_ip')) {
    const values = addressValues(ctx, group);
    if (await addressPresent(ctx, values.interface, values.ip)) present.push(`${values.address} on ${values.interface}`);
    else absent.push(`${values.address} is not on ${values.interface}`);
  }
  const state = absent.length === 0 ? (problems.length === 0 ? 'running' : 'failed') : present.length === 0 ? 'stopped' : 'partial';
  return { state, present, absent, problems };
}
