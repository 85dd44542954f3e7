// Each server has a persistent mount namespace of its own, so that its mounts are its own, as on two machines
// (`ip netns exec` would make a throwaway one per call). It is pinned by a bind mount of /proc/PID/ns/mnt on a file
// under the lab's private run directory; `nsenter` enters it together with the server's network namespace.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { addressOf } from '../config/ipv4.ts';
import type { Server } from './config.ts';
import { sh, shQuiet } from './exec.ts';
import { labPath, runDir } from './state.ts';
import { bridgePorts, nsName, SERVICE_ADDRESS, type LabNode } from './topology.ts';

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
  writeHostsFile(prefix, server);
  await sh(['bash', MACHINE_SCRIPT, 'fresh-mountns', nsName(prefix, server), mountNsFile(prefix, server)]);
}

/** The host names of the service addresses, in each server's /etc/hosts: sm-notify sends a name, never an address. */
export const SERVICE_NAMES: Readonly<Record<Server, string>> = { server1: 'hanfs-lab-srv1', server2: 'hanfs-lab-srv2' };

/** The server's /etc/hosts (lab/machine.sh binds it over the host's in the server's mount namespace at each boot). */
function writeHostsFile(prefix: string, server: string): void {
  const names = Object.entries(SERVICE_NAMES).map(([s, name]) => `${addressOf(SERVICE_ADDRESS[s as Server])} ${name}\n`);
  writeFileSync(labPath(prefix, `${server}-hosts`), `${readFileSync('/etc/hosts', 'utf8').trimEnd()}\n# the lab's service addresses\n${names.join('')}`);
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
  return onMachine(prefix, node, argv);
}

/** argv that runs CMD in both namespaces of a machine: one of the pair's servers, or a cluster lab's node. */
export function onMachine(prefix: string, machine: string, argv: string[]): string[] {
  return ['nsenter', `--mount=${mountNsFile(prefix, machine)}`, `--net=/run/netns/${nsName(prefix, machine)}`, ...argv];
}
