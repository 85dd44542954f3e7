// From the watcher's configuration to what its parts need: the core's view of networks, servers and service
// addresses, and the listener's pairs. This client's networks are the configured ones, or else its interfaces
// with an address on one of the pairs' networks.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { addressOf, broadcastOf, subnetOf } from '../../config/ipv4.ts';
import type { NetworkConfig } from '../../config/schema.ts';
import type { WatchConfig, WatchedNode, WatchedPair } from '../../config/watch-schema.ts';
import { serverId, type ClientNetwork, type WatchCoreConfig, type WatchedServer } from './types.ts';

/** How long after a failed route change it is tried again. */
const RETRY_MS = 1000;

export interface WatchSetup {
  core: WatchCoreConfig;
  /** Where heartbeats arrive: each network's broadcast address. */
  listen: Array<{ net: string; broadcast: string }>;
  /** Each pair's node names in config order and each node's own address per network. */
  pairs: Array<{ pair: WatchedPair; sources: Record<string, Record<string, string>> }>;
  /** Service addresses on none of this client's networks: nothing to route around, said once at start. */
  unreachable: string[];
}

export function watchSetup(config: WatchConfig, networks: NetworkConfig[]): WatchSetup {
  const clientNets: ClientNetwork[] = networks.map((n) => ({
    net: subnetOf(n.address), iface: n.interface, localAddress: addressOf(n.address),
  }));
  const onClientNet = (cidr: string) => clientNets.some((n) => n.net === subnetOf(cidr));
  const addressesOf = (node: WatchedNode): Record<string, string> =>
    Object.fromEntries([node.primary, node.secondary].filter(onClientNet).map((cidr) => [subnetOf(cidr), addressOf(cidr)]));
  const servers: WatchedServer[] = config.pairs.flatMap((p) => p.nodes.map((node) => ({
    id: serverId(p.pair, node.name),
    pair: p.pair,
    node: node.name,
    addresses: addressesOf(node),
    silentAfterMs: p.heartbeatIntervalMs * p.missesBeforeSuspicion,
  })));
  const services = config.pairs.flatMap((p) => p.nodes.map((node) => ({ address: addressOf(node.primary), net: subnetOf(node.primary), pair: p.pair })));
  return {
    core: {
      networks: clientNets,
      servers,
      services: services.filter((s) => clientNets.some((n) => n.net === s.net)),
      holdMs: config.holdMs,
      retryMs: RETRY_MS,
      // The controller steps at least four times per silence period; half of one without a step is a pause.
      pauseMs: Math.min(...servers.map((s) => s.silentAfterMs)) / 2,
    },
    listen: networks.map((n) => ({ net: subnetOf(n.address), broadcast: broadcastOf(n.address) })),
    pairs: config.pairs.map((pair) => ({
      pair,
      sources: Object.fromEntries(pair.nodes.map((node) => [node.name, addressesOf(node)])),
    })),
    unreachable: services.filter((s) => !clientNets.some((n) => n.net === s.net)).map((s) => s.address),
  };
}

/** This machine's interfaces with an IPv4 address on one of the pairs' networks, one per network. */
export function discoverNetworks(
  pairs: WatchedPair[], interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): NetworkConfig[] {
  const subnets = new Set(pairs.flatMap((p) => p.nodes.flatMap((n) => [subnetOf(n.primary), subnetOf(n.secondary)])));
  const found = new Map<string, NetworkConfig>();
  for (const [name, addresses] of Object.entries(interfaces).sort(([a], [b]) => a.localeCompare(b))) {
    for (const info of addresses ?? []) {
      if (info.family !== 'IPv4' || info.internal || !info.cidr) continue;
      const subnet = subnetOf(info.cidr);
      // A server's own service address is no way out: it moves with its group.
      if (subnets.has(subnet) && !found.has(subnet) && !isServiceAddress(pairs, info.address)) {
        found.set(subnet, { interface: name, address: info.cidr });
      }
    }
  }
  return [...found.values()];
}

function isServiceAddress(pairs: WatchedPair[], address: string): boolean {
  return pairs.some((p) => p.nodes.some((n) => addressOf(n.primary) === address));
}
