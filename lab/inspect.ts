// What the lab looks like right now, from outside the agents: who holds each service address (interfaces) and
// each disk (mount tables of both servers' mount namespaces). One kernel lets two namespaces mount one device
// silently, so this is where a double owner shows.
import { statSync } from 'node:fs';
import { agentStatus, nodePids } from './agents.ts';
import { SERVERS } from './config.ts';
import { sh } from './exec.ts';
import { onMachine } from './mountns.ts';
import { readState } from './state.ts';
import { NODES, SERVICE_ADDRESS, nsName } from './topology.ts';

/** Who holds each service address and each disk: the names of the machines (the pair's servers, or a cluster's nodes). */
export interface Ownership {
  addresses: Record<string, string[]>;
  disks: Record<string, string[]>;
}

export async function addressesOf(prefix: string, node: string): Promise<Record<string, string[]>> {
  const out = await sh(['ip', '-n', nsName(prefix, node), '-j', '-4', 'addr', 'show']).catch(() => '[]');
  const links = JSON.parse(out) as Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }>;
  return Object.fromEntries(links.filter((l) => l.ifname !== 'lo').map((l) => [l.ifname, l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)]));
}

/** major:minor of every block device mounted in a machine's mount namespace. */
async function mountedDevices(prefix: string, machine: string): Promise<Set<string>> {
  const out = await sh(onMachine(prefix, machine, ['cat', '/proc/self/mountinfo'])).catch(() => '');
  return new Set(out.split('\n').map((l) => l.split(' ')[2]).filter((d): d is string => !!d));
}

/** `machines`: the pair's servers by default; a Pacemaker cluster lab's nodes hold the same addresses and disks. */
export async function ownership(prefix: string, machines: readonly string[] = SERVERS): Promise<Ownership> {
  const state = readState(prefix);
  const result: Ownership = { addresses: {}, disks: {} };
  for (const s of machines) {
    const addrs = Object.values(await addressesOf(prefix, s)).flat();
    for (const service of Object.values(SERVICE_ADDRESS)) {
      (result.addresses[service.split('/')[0]!] ??= []).push(...(addrs.includes(service) ? [s] : []));
    }
    const mounted = await mountedDevices(prefix, s);
    for (const disk of ['disk1', 'disk2']) {
      const loop = state?.loops[disk];
      if (!loop) continue;
      const rdev = statSync(loop).rdev;
      const id = `${Math.floor(rdev / 256)}:${rdev % 256}`;
      (result.disks[disk] ??= []).push(...(mounted.has(id) ? [s] : []));
    }
  }
  return result;
}

export async function labStatus(prefix: string): Promise<Record<string, unknown>> {
  const state = readState(prefix);
  if (!state) return { prefix, up: false };
  const nodes: Record<string, unknown> = {};
  for (const node of NODES) {
    const entry: Record<string, unknown> = { namespace: nsName(prefix, node), addresses: await addressesOf(prefix, node) };
    if (node !== 'client1') {
      const agent = await agentStatus(prefix, node);
      entry.pids = await nodePids(prefix, node);
      entry.agent = agent && { phase: agent.phase, cause: agent.cause, groups: agent.groups };
    }
    nodes[node] = entry;
  }
  const owners = await ownership(prefix);
  const doubles = [...Object.entries(owners.addresses), ...Object.entries(owners.disks)].filter(([, o]) => o.length > 1).map(([k]) => k);
  return { prefix, up: true, disks: state.loops, nodes, owners, doubleOwnership: doubles };
}
