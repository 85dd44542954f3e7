// Each server has a persistent mount namespace of its own, so that its mounts are its own, as on two machines
// (`ip netns exec` would make a throwaway one per call). It is pinned by a bind mount of /proc/PID/ns/mnt on a file
// under the lab's private run directory; `nsenter` enters it together with the server's network namespace.
import { existsSync } from 'node:fs';
import { sh, shQuiet } from './exec.ts';
import { labPath, runDir } from './state.ts';
import { bridgePorts, nsName, type LabNode } from './topology.ts';

export async function privateRunDir(prefix: string): Promise<void> {
  const dir = runDir(prefix);
  await sh(['mkdir', '-p', dir]);
  // The pinning bind mounts must not propagate to (or from) the host's mount tree.
  await sh(['mount', '--bind', dir, dir]);
  await sh(['mount', '--make-private', dir]);
}

export function mountNsFile(prefix: string, server: string): string {
  return labPath(prefix, `${server}.mntns`);
}

/** The lab's machine switch (power-off and the fresh mount namespace a machine boots with): lab/machine.sh. */
export const MACHINE_SCRIPT = new URL('./machine.sh', import.meta.url).pathname;

export async function createMountNs(prefix: string, server: string): Promise<void> {
  await sh(['bash', MACHINE_SCRIPT, 'fresh-mountns', nsName(prefix, server), mountNsFile(prefix, server)]);
}

/** The argv that powers `server` off (lab/machine.sh): the lab's power switch, and its agents' fence command. */
export function powerOffArgv(prefix: string, server: string): string[] {
  return ['bash', MACHINE_SCRIPT, 'power-off', nsName(prefix, server), mountNsFile(prefix, server), ...bridgePorts(prefix, server as LabNode)];
}

/** Unpins both servers' mount namespaces: with no process left in them, their mounts go too. */
export async function releaseMountNamespaces(prefix: string): Promise<void> {
  for (const server of ['server1', 'server2']) {
    if (existsSync(mountNsFile(prefix, server))) await shQuiet(['umount', '-l', mountNsFile(prefix, server)]);
  }
}

export async function removeRunDir(prefix: string): Promise<void> {
  await shQuiet(['umount', '-l', runDir(prefix)]);
  await sh(['rm', '-rf', runDir(prefix)]);
}

/** argv that runs CMD on NODE: in both namespaces of a server, or in the client's network namespace. */
export function onNode(prefix: string, node: LabNode, argv: string[]): string[] {
  if (node === 'client1') return ['ip', 'netns', 'exec', nsName(prefix, node), ...argv];
  return ['nsenter', `--mount=${mountNsFile(prefix, node)}`, `--net=/run/netns/${nsName(prefix, node)}`, ...argv];
}
