// Which deep checks the agent runs, and what a failure means. Failures that restarting or moving the group can
// cure (device gone, not mounted, not writable) go to the core as health events against the file system resource.
// Low space, few inodes, high load or little memory are only warned about: the partner has the same disk and
// moving a group because the machine is busy would only move the trouble (and a busy machine is no dead one).
import type { DeepCheck } from '../sensors/deep-checks.ts';
import {
  checkBlockDevice, checkFreeInodes, checkFreeSpace, checkLoad, checkMemory, checkMounted, checkWritable,
} from '../sensors/health-checks.ts';
import type { PairView } from '../pair-view.ts';

/** Checks whose failures are only logged carry no group. */
export const MACHINE = '';

const LOW_SPACE_PERCENT = 5;
const HIGH_LOAD_PERCENT = 95;
const LOW_MEMORY_PERCENT = 5;

export function deepChecksFor(view: PairView, serves: (group: string) => boolean): DeepCheck[] {
  const checks: DeepCheck[] = [];
  for (const group of view.nodes) {
    for (const disk of view.pair.nodes[group]!.disks) {
      const only = (run: () => ReturnType<DeepCheck['run']>) => async () =>
        serves(group) ? run() : { ok: true, detail: 'not served here' };
      const mp = disk.mountPoint;
      checks.push(
        { group, resource: 'filesystem', name: `device ${disk.device}`, run: only(() => checkBlockDevice(disk.device)) },
        { group, resource: 'filesystem', name: `mounted ${mp}`, run: only(() => checkMounted(mp)) },
        { group, resource: 'filesystem', name: `writable ${mp}`, run: only(() => writableIfMounted(mp)) },
        { group: MACHINE, resource: 'space', name: `free space ${mp}`, run: only(() => checkFreeSpace(mp, LOW_SPACE_PERCENT)) },
        { group: MACHINE, resource: 'inodes', name: `free inodes ${mp}`, run: only(() => checkFreeInodes(mp, LOW_SPACE_PERCENT)) },
      );
    }
  }
  checks.push(
    { group: MACHINE, resource: 'load', name: 'CPU load', run: () => checkLoad(HIGH_LOAD_PERCENT) },
    { group: MACHINE, resource: 'memory', name: 'available memory', run: () => checkMemory(LOW_MEMORY_PERCENT) },
  );
  return checks;
}

/** Never writes into the directory under a mount point that is not mounted: that is the root file system. */
async function writableIfMounted(mountPoint: string): ReturnType<DeepCheck['run']> {
  if (!(await checkMounted(mountPoint)).ok) return { ok: false, detail: `${mountPoint} is not mounted` };
  return checkWritable(mountPoint);
}
