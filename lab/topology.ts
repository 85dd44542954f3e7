// The lab's network: two servers and a client, each a network namespace, on two networks that are bridges in
// namespaces of their own. Only the documentation ranges 198.51.100.0/24 (net A) and 203.0.113.0/24 (net B) are
// used; nothing is connected to the host's interfaces and there is no default route.
//
//   P-server1  pri ── s1 ┐              ┌ s1 ── sec   P-server1
//   P-server2  sec ── s2 ├─ P-neta br0  │
//   P-client1 neta ── c1 ┘              │
//                          P-netb br0 ──┤ s2 ── pri   P-server2
//                                       └ c1 ── netb  P-client1
import { inNetns, sh, shQuiet } from './exec.ts';

export type LabNode = 'server1' | 'server2' | 'client1';

interface Port {
  node: LabNode;
  iface: string;
  net: 'neta' | 'netb';
  port: string;
  /** The interface's stable address; a server's primary (service) address is brought up by its agent instead. */
  address: string | null;
}

export const SERVICE_ADDRESS = { server1: '198.51.100.11/24', server2: '203.0.113.12/24' } as const;
export const SECONDARY_ADDRESS = { server1: '203.0.113.11/24', server2: '198.51.100.12/24' } as const;

export const PORTS: readonly Port[] = [
  { node: 'server1', iface: 'pri', net: 'neta', port: 's1', address: null },
  { node: 'server1', iface: 'sec', net: 'netb', port: 's1', address: SECONDARY_ADDRESS.server1 },
  { node: 'server2', iface: 'pri', net: 'netb', port: 's2', address: null },
  { node: 'server2', iface: 'sec', net: 'neta', port: 's2', address: SECONDARY_ADDRESS.server2 },
  { node: 'client1', iface: 'neta', net: 'neta', port: 'c1', address: '198.51.100.50/24' },
  { node: 'client1', iface: 'netb', net: 'netb', port: 'c1', address: '203.0.113.50/24' },
];

export const NODES: readonly LabNode[] = ['server1', 'server2', 'client1'];
const NETS = ['neta', 'netb'] as const;

export function nsName(prefix: string, name: string): string {
  return `${prefix}-${name}`;
}

/** Every namespace of the lab, for cleanup. */
export function labNamespaces(prefix: string): string[] {
  return [...NODES, ...NETS].map((n) => nsName(prefix, n));
}

export async function createNetwork(prefix: string): Promise<void> {
  for (const ns of labNamespaces(prefix)) {
    await sh(['ip', 'netns', 'add', ns]);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  for (const net of NETS) {
    const ns = nsName(prefix, net);
    await sh(['ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
    await sh(['ip', '-n', ns, 'link', 'set', 'br0', 'up']);
  }
  for (const p of PORTS) {
    const nodeNs = nsName(prefix, p.node);
    const netNs = nsName(prefix, p.net);
    await sh(['ip', 'link', 'add', p.iface, 'netns', nodeNs, 'type', 'veth', 'peer', 'name', p.port, 'netns', netNs]);
    await sh(['ip', '-n', netNs, 'link', 'set', p.port, 'master', 'br0', 'up']);
    await sh(['ip', '-n', nodeNs, 'link', 'set', p.iface, 'up']);
    if (p.address) await sh(['ip', '-n', nodeNs, 'addr', 'add', p.address, 'dev', p.iface]);
  }
  // Servers bind their NFS server to a service address before it is up (it arrives with the group).
  for (const server of ['server1', 'server2']) {
    await sh(inNetns(nsName(prefix, server), ['sysctl', '-q', '-w', 'net.ipv4.ip_nonlocal_bind=1']));
  }
}

/** Removes every namespace of the lab that exists; deleting a namespace deletes its veth ends with it. */
export async function destroyNetwork(prefix: string): Promise<void> {
  const existing = new Set((await sh(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0]));
  for (const ns of labNamespaces(prefix)) if (existing.has(ns)) await shQuiet(['ip', 'netns', 'del', ns]);
}

/** Cuts (or restores) one node's port on one network, as a pulled cable would. */
/** The node's ports on the bridges, as BRIDGE_NETNS:PORT (what a power-off or a fabric fence switches off). */
export function bridgePorts(prefix: string, node: LabNode): string[] {
  return PORTS.filter((p) => p.node === node).map((p) => `${nsName(prefix, p.net)}:${p.port}`);
}

export async function setPort(prefix: string, node: LabNode, net: 'neta' | 'netb', up: boolean): Promise<void> {
  const p = PORTS.find((x) => x.node === node && x.net === net);
  if (!p) throw new Error(`${node} has no port on ${net}`);
  await sh(['ip', '-n', nsName(prefix, net), 'link', 'set', p.port, up ? 'up' : 'down']);
}
