// The client watcher's configuration (`hanfs watch`): the pairs it watches, this client's networks, and how long a
// healed network must stay heard before the detour around it goes. A pair is named by its own config file (the
// servers' pair.yaml, copied to the client) or written inline with the keys that file uses for what a watcher
// needs, so that a pair reads the same in both places; every piece of schema below is the pair config's own.
import { z } from 'zod';
import type { ConfigPath } from './errors.ts';
import { addressOf, subnetOf } from './ipv4.ts';
import { checkNetworksPairUp, type Report } from './rules.ts';
import { pairConfigSchema, publicKey, strictObject, type NetworkConfig, type PairConfig } from './schema.ts';

const pairKeys = pairConfigSchema.shape;
const pairNodes = pairKeys.nodes.in;
const networkSchema = pairNodes.valueType.shape.primary;
const absolutePath = pairKeys.secretFile;
const addressOnly = strictObject({ address: networkSchema.shape.address });

// No secretFile: a watcher checks the servers' signatures with their public keys, and holds nothing that could
// speak for a server (a pair file named in pairFiles may name the pair's secret: the watcher never reads it).
const inlinePairSchema = strictObject({
  pair: pairKeys.pair,
  heartbeatPort: pairKeys.heartbeatPort,
  // The pair's whole timing mapping, so that it can be copied from the pair's file; the watcher reads the
  // heartbeat interval and the misses that make a network silent.
  timing: pairKeys.timing,
  nodes: z.record(pairNodes.keyType, strictObject({ publicKey, primary: addressOnly, secondary: addressOnly })),
});

const watchFileSchema = strictObject({
  pairFiles: z.array(absolutePath).default([]),
  pairs: z.array(inlinePairSchema).default([]),
  // Unset: every interface of this machine with an address in one of the pairs' subnets, found at start.
  networks: z.array(networkSchema).min(1).nullable().default(null),
  holdMs: z.int().min(0).default(5000),
  controlSocket: absolutePath.default('/run/hanfs/watch.sock'),
  log: pairKeys.log,
});

type WatchFile = z.output<typeof watchFileSchema>;
type InlinePair = WatchFile['pairs'][number];

/** One node of a watched pair: its primary address is its service address, and its partner's secondary one. */
export interface WatchedNode {
  name: string;
  primary: string;
  secondary: string;
  /** Its Ed25519 public key, as the config holds it. */
  publicKey: string;
}

/** What the watcher needs of a pair, whether it came from the pair's file or inline. */
export interface WatchedPair {
  pair: string;
  heartbeatPort: number;
  heartbeatIntervalMs: number;
  missesBeforeSuspicion: number;
  /** In the order of the pair's config: a heartbeat names its sender by this index. */
  nodes: [WatchedNode, WatchedNode];
}

export interface WatchConfig {
  pairs: WatchedPair[];
  networks: NetworkConfig[] | null;
  holdMs: number;
  controlSocket: string;
  log: PairConfig['log'];
}

export function watchedPair(p: PairConfig | InlinePair): WatchedPair {
  const nodes = Object.entries(p.nodes).map(([name, n]) => ({
    name, primary: n.primary.address, secondary: n.secondary.address, publicKey: n.publicKey,
  }));
  return {
    pair: p.pair,
    heartbeatPort: p.heartbeatPort,
    heartbeatIntervalMs: p.timing.heartbeatIntervalMs,
    missesBeforeSuspicion: p.timing.missesBeforeSuspicion,
    nodes: nodes as [WatchedNode, WatchedNode],
  };
}

/**
 * The watcher's file, checked together with the pair files it names (already loaded, by path: a file that could
 * not be loaded is missing here, and its own errors are reported by the loader).
 */
export function watchConfigSchema(pairFiles: ReadonlyMap<string, WatchedPair>) {
  return watchFileSchema
    .superRefine((file, ctx) => {
      const report: Report = (path, expected, found) => ctx.addIssue({ code: 'custom', path: [...path], message: expected, input: found });
      checkFile(file, pairFiles, report);
    })
    .transform((file): WatchConfig => ({
      pairs: [...file.pairFiles.flatMap((path) => pairFiles.get(path) ?? []), ...file.pairs.map(watchedPair)],
      networks: file.networks,
      holdMs: file.holdMs,
      controlSocket: file.controlSocket,
      log: file.log,
    }));
}

function checkFile(file: WatchFile, pairFiles: ReadonlyMap<string, WatchedPair>, report: Report): void {
  if (file.pairFiles.length + file.pairs.length === 0) report(['pairs'], 'at least one pair, here or in pairFiles', file.pairs);
  file.pairs.forEach((p, i) => {
    const nodes = Object.entries(p.nodes);
    const [first, second] = nodes;
    if (nodes.length !== 2 || !first || !second) report(['pairs', i, 'nodes'], 'exactly two nodes', nodes.map(([name]) => name));
    else checkNetworksPairUp(first, second, (path, expected, found) => report(['pairs', i, ...path], expected, found));
  });
  const pairs: Array<{ at: ConfigPath; pair: WatchedPair }> = [
    ...file.pairFiles.flatMap((path, i) => {
      const pair = pairFiles.get(path);
      return pair ? [{ at: ['pairFiles', i], pair }] : [];
    }),
    ...file.pairs.map((p, i) => ({ at: ['pairs', i], pair: watchedPair(p) })),
  ];
  checkPairsApart(pairs, report);
  if (file.networks) checkNetworks(file.networks, pairs.map((p) => p.pair), report);
}

// Heartbeats are told apart by pair id, and a service address can be routed only one way.
function checkPairsApart(pairs: Array<{ at: ConfigPath; pair: WatchedPair }>, report: Report): void {
  const ids = new Map<string, ConfigPath>();
  const services = new Map<string, string>();
  for (const { at, pair } of pairs) {
    if (ids.has(pair.pair)) report(at, `a pair other than the one already watched (${pair.pair})`, pair.pair);
    ids.set(pair.pair, at);
    for (const node of pair.nodes) {
      const service = addressOf(node.primary);
      const holder = services.get(service);
      if (holder) report(at, `service addresses not already those of pair ${holder} (${service})`, pair.pair);
      services.set(service, pair.pair);
    }
  }
}

function checkNetworks(networks: NetworkConfig[], pairs: WatchedPair[], report: Report): void {
  const pairSubnets = new Set(pairs.flatMap((p) => p.nodes.flatMap((n) => [subnetOf(n.primary), subnetOf(n.secondary)])));
  const seen = new Set<string>();
  networks.forEach((network, i) => {
    const subnet = subnetOf(network.address);
    if (seen.has(subnet)) report(['networks', i, 'address'], `a subnet no other network here is on (${subnet})`, network.address);
    else if (!pairSubnets.has(subnet)) {
      report(['networks', i, 'address'], `an address on one of the pairs' networks (${[...pairSubnets].join(', ')})`, network.address);
    }
    seen.add(subnet);
  });
}
