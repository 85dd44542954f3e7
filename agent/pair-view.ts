// This node's view of the pair's configuration: its partner, its two networks (named by subnet) with the partner's
// address on each, and the core's configuration derived from it.
import { addressOf, broadcastOf, subnetOf } from '../config/ipv4.ts';
import { coreTiming } from '../config/core-timing.ts';
import type { NodeConfig, PairConfig } from '../config/schema.ts';
import { RESOURCE_ORDER, type CoreConfig } from './core/types.ts';
import type { NetworkEndpoint } from './ports.ts';
import type { GroupAssets } from './operate/status.ts';

export interface PairView {
  pair: PairConfig;
  self: string;
  partner: string;
  selfIndex: 0 | 1;
  nodes: [string, string];
  selfNode: NodeConfig;
  partnerNode: NodeConfig;
  /** Our primary network first (it carries our service address), then our secondary. */
  networks: [NetworkEndpoint, NetworkEndpoint];
}

export function pairView(pair: PairConfig, self: string): PairView {
  const nodes = Object.keys(pair.nodes) as [string, string];
  const selfIndex = nodes.indexOf(self) as 0 | 1;
  if (selfIndex < 0) throw new Error(`node ${self} is not in the pair (${nodes.join(', ')})`);
  const partner = nodes[1 - selfIndex]!;
  const selfNode = pair.nodes[self]!;
  const partnerNode = pair.nodes[partner]!;
  // Our primary subnet is the partner's secondary, and the other way round (the config rules check it).
  const network = (mine: NodeConfig['primary'], theirs: NodeConfig['primary']): NetworkEndpoint => ({
    net: subnetOf(mine.address),
    iface: mine.interface,
    localAddress: addressOf(mine.address),
    prefix: Number(mine.address.split('/')[1]),
    partnerAddress: addressOf(theirs.address),
    broadcast: broadcastOf(mine.address),
  });
  return {
    pair, self, partner, selfIndex, nodes, selfNode, partnerNode,
    networks: [network(selfNode.primary, partnerNode.secondary), network(selfNode.secondary, partnerNode.primary)],
  };
}

/** Every group has one resource of each kind; a kind covers all of the group's disks or exports. */
export function coreConfigFor(v: PairView): CoreConfig {
  const resources = RESOURCE_ORDER.map((kind) => ({ name: kind, kind }));
  return {
    self: v.self,
    partner: v.partner,
    selfWinsTies: v.selfIndex === 0,
    networks: v.networks.map((n) => n.net),
    timing: coreTiming(v.pair),
    reintegrate: v.pair.reintegrate,
    restartLimit: v.pair.resources.restartLimit,
    hasFenceCommand: v.pair.fenceCommand !== null,
    groups: { [v.nodes[0]]: resources, [v.nodes[1]]: resources },
  };
}

/** The service addresses of the groups a node owns: what client watchers need to know from its heartbeats. */
export function serviceAddresses(v: PairView, groups: readonly string[]): string[] {
  return groups.map((g) => addressOf(v.pair.nodes[g]!.primary.address));
}

/** Each group's service address and disks, for `hanfs status`: what a node owns when it holds the group. */
export function groupAssets(v: PairView): Record<string, GroupAssets> {
  return Object.fromEntries(v.nodes.map((g) => {
    const node = v.pair.nodes[g]!;
    return [g, { address: node.primary.address, disks: node.disks.map(({ device, mountPoint }) => ({ device, mountPoint })) }];
  }));
}
