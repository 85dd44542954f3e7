// The lab's shared disks: a file each, attached to a loop device. Both "servers" see every loop device, as both
// machines of a pair see every disk on the dual-ported bus. The mailbox has one loop device per server over the
// same file, each server's own path to the disk, so that one server can lose its path while the other keeps it
// (both go through the file's page cache, so what one writes with O_DIRECT the other reads).
import type { Server } from './config.ts';
import { sh, shQuiet } from './exec.ts';
import { labPath, readState, type LabState, writeState } from './state.ts';

export const DISKS = { disk1: 64, disk2: 64, mailbox: 1 } as const;
export type DiskName = keyof typeof DISKS;

/** `dataMiB` replaces the size of the two data disks (a throughput benchmark copies files bigger than 64 MiB). */
export async function createDisks(state: LabState, dataMiB?: number): Promise<void> {
  for (const [name, size] of Object.entries(DISKS) as [DiskName, number][]) {
    const mib = name === 'mailbox' ? size : dataMiB ?? size;
    const file = labPath(state.prefix, `${name}.img`);
    await sh(['truncate', '-s', `${mib}M`, file]);
    state.loops[name] = (await sh(['losetup', '--find', '--show', file])).trim();
    writeState(state);
    if (name !== 'mailbox') await sh(['mkfs.ext4', '-q', '-F', '-L', `${state.prefix}-${name}`.slice(0, 16), state.loops[name]!]);
  }
  state.loops[mailboxOf('server2')] = (await sh(['losetup', '--find', '--show', labPath(state.prefix, 'mailbox.img')])).trim();
  writeState(state);
}

/** The name in the lab state of the server's own loop device to the mailbox. */
export function mailboxOf(server: Server): string {
  return server === 'server1' ? 'mailbox' : 'mailbox-server2';
}

/** The server's path to the mailbox turns read-only (its writes fail, as on a lost path) or writable again. */
export async function setMailboxReadOnly(prefix: string, server: Server, readOnly: boolean): Promise<void> {
  const loop = readState(prefix)?.loops[mailboxOf(server)];
  if (!loop) throw new Error(`lab ${prefix} has no mailbox device for ${server}`);
  await sh(['blockdev', readOnly ? '--setro' : '--setrw', loop]);
}

/** Detaches what the state recorded and any loop device still backed by one of the lab's files. */
export async function destroyDisks(prefix: string, state: LabState | null): Promise<void> {
  const loops = new Set(Object.values(state?.loops ?? {}));
  for (const name of Object.keys(DISKS)) {
    const out = await sh(['losetup', '-j', labPath(prefix, `${name}.img`)]).catch(() => '');
    for (const line of out.split('\n')) if (line.includes(':')) loops.add(line.split(':')[0]!);
  }
  for (const loop of loops) await shQuiet(['losetup', '-d', loop]);
}
