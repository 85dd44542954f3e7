// Rules that relate several fields. They run only once every field has parsed on its own,
// so they can trust the types.
import { posix } from 'node:path';
import type { z } from 'zod';
import { formatPath, type ConfigPath } from './errors.ts';
import { ganeshaClientsProblem, knfsdClientProblem } from './clients.ts';
import { addressOf, subnetOf } from './ipv4.ts';
import { commandPlaceholders, defaultCommands, fencePlaceholders } from './profiles.ts';
import { closest } from './suggest.ts';
import { fenceMargin } from '../agent/core/lease.ts';
import { coreTiming } from './core-timing.ts';
import { placeholderNames } from '../agent/exec/templates.ts';
import type { NfsConfig, NodeConfig, PairConfig, TimingConfig } from './schema.ts';

/** One mistake: where, what was expected there, what was found, and what was probably meant ("did you mean X?"). */
export type Report = (path: ConfigPath, expected: string, found: unknown, hint?: string) => void;
type NodeEntry = readonly [name: string, node: NodeConfig];
/** What the pairing of the networks needs of a node: also the shape of a pair described in a watcher's config. */
type AddressedNode = readonly [name: string, node: { primary: { address: string }; secondary: { address: string } }];

export function checkPairRules(config: PairConfig, ctx: z.core.$RefinementCtx<PairConfig>): void {
  const report: Report = (path, expected, found, hint) =>
    ctx.addIssue({ code: 'custom', path: [...path], message: expected, input: found, ...(hint ? { params: { hint } } : {}) });
  checkTiming(config.timing, report);
  checkGrace(config, report);
  checkWatchdog(config, report);
  checkCommandNames(config.nfs, report);
  checkPlaceholders(config, report);
  checkClients(config, report);
  checkNodes(Object.entries(config.nodes), report);
  if (config.nfs.profile === 'ganesha') checkNfsv3(Object.entries(config.nodes), report);
}

function checkTiming(timing: TimingConfig, report: Report): void {
  const diskCycleMs = timing.diskIntervalMs + timing.diskIoTimeoutMs;
  // A probe's pong comes back within one mailbox cycle of the partner; a shorter wait would
  // declare a healthy partner's disk path dead.
  if (timing.diskIoTimeoutMs >= timing.diskProbeTimeoutMs) {
    report(['timing', 'diskIoTimeoutMs'], `less than timing.diskProbeTimeoutMs (${timing.diskProbeTimeoutMs})`, timing.diskIoTimeoutMs);
  } else if (diskCycleMs >= timing.diskProbeTimeoutMs) {
    report(['timing', 'diskProbeTimeoutMs'], `more than diskIntervalMs + diskIoTimeoutMs (${diskCycleMs})`, timing.diskProbeTimeoutMs);
  }
  // The lease must outlive one failed mailbox cycle, or a single slow write makes a healthy node fence itself.
  if (timing.selfFenceLeaseMs < 2 * diskCycleMs) {
    report(['timing', 'selfFenceLeaseMs'], `at least 2 × (diskIntervalMs + diskIoTimeoutMs) = ${2 * diskCycleMs}`, timing.selfFenceLeaseMs);
  }
  // The partner's machine must have answered two ICMP rounds, a silence period apart, before it is powered off.
  const twoRoundsMs = 2 * timing.heartbeatIntervalMs * timing.missesBeforeSuspicion;
  if (timing.fenceAfterMs < twoRoundsMs) {
    report(['timing', 'fenceAfterMs'], `at least 2 × heartbeatIntervalMs × missesBeforeSuspicion = ${twoRoundsMs}`, timing.fenceAfterMs);
  }
}

/**
 * A client whose lease was still running at a crash must find the grace period open when it comes to reclaim: it
 * renews at most a lease apart, so a grace shorter than the lease can close before it notices (Ganesha warns too).
 */
function checkGrace(config: PairConfig, report: Report): void {
  const { profile, leaseSeconds, graceSeconds } = config.nfs;
  if (profile === 'ganesha' && graceSeconds < leaseSeconds) {
    report(['nfs', 'graceSeconds'], `at least nfs.leaseSeconds (${leaseSeconds})`, graceSeconds);
  }
}

function checkWatchdog(config: PairConfig, report: Report): void {
  const wd = config.watchdog;
  if (wd === undefined) {
    report(['watchdog'], 'a watchdog device ({ device: /dev/watchdog, timeoutMs: 1000 }), or none to run without one '
      + '(unsafe: a frozen agent then keeps serving past its lease)', undefined);
    return;
  }
  if (wd === 'none') return;
  // SBD's rule: the partner waits lease + margin, the margin holding the device's timeout; a lease shorter than two
  // timeouts would make every freeze longer than the timeout a reset before the lease could even run out.
  const lease = config.timing.selfFenceLeaseMs;
  const needed = 2 * wd.timeoutMs + fenceMargin(coreTiming({ ...config, watchdog: 'none' }));
  if (lease < needed) {
    report(['timing', 'selfFenceLeaseMs'], `at least 2 × watchdog.timeoutMs + the fence margin = ${needed}`, lease);
  }
}

function checkCommandNames(nfs: NfsConfig, report: Report): void {
  const known = Object.keys(defaultCommands(nfs.profile));
  for (const [name, argv] of Object.entries(nfs.commands)) {
    if (!known.includes(name)) {
      const meant = closest(name, known);
      report(['nfs', 'commands', name], `a command the ${nfs.profile} profile knows (${known.join(', ')})`, argv, meant && `did you mean ${meant}?`);
    }
  }
}

// A placeholder the agent does not fill in stops the command when it runs: at the agent's start (the fence command)
// or in the middle of a takeover (an NFS or mount command). Each argument with one is reported once.
function checkPlaceholders(config: PairConfig, report: Report): void {
  const check = (path: ConfigPath, argv: readonly string[], what: string, known: readonly string[]): void => {
    argv.forEach((arg, index) => {
      const unknown = placeholderNames(arg).filter((name) => !known.includes(name));
      if (unknown.length === 0) return;
      const expected = known.length === 0
        ? `no placeholders (${what} has none)`
        : `only the placeholders of ${what} (${known.map((name) => `{${name}}`).join(', ')})`;
      const meant = unknown.flatMap((name) => closest(name, known) ?? []);
      report([...path, index], expected, arg, meant.length > 0 ? `did you mean ${meant.map((name) => `{${name}}`).join(' and ')}?` : undefined);
    });
  };
  const known = defaultCommands(config.nfs.profile);
  for (const [name, argv] of Object.entries(config.nfs.commands)) {
    // An unknown command is checkCommandNames' error; its placeholders would only repeat it.
    if (name in known) check(['nfs', 'commands', name], argv, `the ${name} command`, commandPlaceholders[name] ?? []);
  }
  if (config.fenceCommand) check(['fenceCommand'], config.fenceCommand, 'the fence command', fencePlaceholders);
}

// Ganesha takes a comma-separated list of clients; exportfs one client per export (CLIENT:PATH).
function checkClients(config: PairConfig, report: Report): void {
  const problemOf: (clients: string) => { expected: string; hint?: string } | null =
    config.nfs.profile === 'ganesha' ? ganeshaClientsProblem : knfsdClientProblem;
  for (const [name, node] of Object.entries(config.nodes)) {
    node.exports.forEach((exported, index) => {
      const problem = problemOf(exported.clients);
      if (problem) report(['nodes', name, 'exports', index, 'clients'], problem.expected, exported.clients, problem.hint);
    });
  }
}

function checkNodes(nodes: NodeEntry[], report: Report): void {
  const [first, second] = nodes;
  if (nodes.length !== 2 || !first || !second) {
    report(['nodes'], 'exactly two nodes', nodes.map(([name]) => name));
  } else {
    checkNetworksPairUp(first, second, report);
  }
  for (const node of nodes) checkNode(node, report);
  checkUniqueAcrossPair(nodes, report);
}

// Each node's service subnet is its partner's secondary subnet: on takeover the survivor brings
// the partner's service address up on its own secondary interface.
export function checkNetworksPairUp([nameA, a]: AddressedNode, [nameB, b]: AddressedNode, report: Report): void {
  for (const [primaryName, primary, secondaryName, secondary] of [
    [nameA, a, nameB, b],
    [nameB, b, nameA, a],
  ] as const) {
    const serviceSubnet = subnetOf(primary.primary.address);
    if (subnetOf(secondary.secondary.address) !== serviceSubnet) {
      report(
        ['nodes', secondaryName, 'secondary', 'address'],
        `an address in the subnet of nodes.${primaryName}.primary (${serviceSubnet})`,
        secondary.secondary.address,
      );
    }
  }
}

function checkNode([name, node]: NodeEntry, report: Report): void {
  if (node.secondary.interface === node.primary.interface) {
    report(['nodes', name, 'secondary', 'interface'], `an interface other than the primary's`, node.secondary.interface);
  }
  const primarySubnet = subnetOf(node.primary.address);
  if (subnetOf(node.secondary.address) === primarySubnet) {
    report(['nodes', name, 'secondary', 'address'], `an address outside the primary's subnet (${primarySubnet})`, node.secondary.address);
  }
  const mountPoints = node.disks.map((disk) => disk.mountPoint);
  node.exports.forEach((exported, index) => {
    if (!mountPoints.some((mountPoint) => isWithin(exported.path, mountPoint))) {
      report(['nodes', name, 'exports', index, 'path'], `a path under one of this node's mount points (${mountPoints.join(', ')})`, exported.path);
    }
  });
}

/**
 * NFSv3 is a choice of the group's (nodes.X.protocols: [3, 4]): an export cannot ask for it on its own, since its
 * group's Ganesha then runs without NLM and MOUNT and no NSM notification follows a move. And only one group of the
 * pair can have it: the survivor of a takeover runs both groups' Ganesha under the machine's one rpcbind, which
 * keeps one address per RPC program; the Ganesha that stops first (at the failback) unregisters NFSv3, MOUNT and
 * NLM, and the other group's NFSv3 clients could no longer mount or find the lock manager.
 */
function checkNfsv3(nodes: NodeEntry[], report: Report): void {
  // A list that did not parse is the schema's error; the node's transform (which fills the exports' in) did not run.
  const servesNfsv3 = (protocols: readonly number[] | undefined) => Array.isArray(protocols) && protocols.includes(3);
  for (const [name, node] of nodes) {
    if (!Array.isArray(node.protocols) || servesNfsv3(node.protocols)) continue;
    node.exports.forEach((exported, index) => {
      if (!servesNfsv3(exported.protocols)) return;
      report(['nodes', name, 'exports', index, 'protocols'],
        `versions group ${name} serves: it is NFSv4 only (nodes.${name}.protocols: [4])`, exported.protocols,
        `to serve NFSv3 with NLM locks, set nodes.${name}.protocols: [3, 4] (NLM keeps Ganesha from ending grace early `
          + 'after a move, for every client of the group)');
    });
  }
  const withNfsv3 = nodes.filter(([, node]) => servesNfsv3(node.protocols));
  if (withNfsv3.length > 1) {
    const [[first], [second, node]] = withNfsv3 as [NodeEntry, NodeEntry];
    report(['nodes', second, 'protocols'],
      `[4]: only one group of the pair can serve NFSv3, and nodes.${first} does (the survivor of a takeover runs both `
        + 'under one rpcbind, and the first Ganesha to stop would unregister the NFSv3, MOUNT and NLM services of the other)',
      node.protocols);
  }
}

function isWithin(path: string, directory: string): boolean {
  const relative = posix.relative(directory, path);
  return relative !== '..' && !relative.startsWith('../');
}

// The survivor of a failure mounts and exports both nodes' disks, so these must not collide.
function checkUniqueAcrossPair(nodes: NodeEntry[], report: Report): void {
  const claimAddress = firstUseTracker('an address', report);
  const claimDevice = firstUseTracker('a device', report);
  const claimMountPoint = firstUseTracker('a mount point', report);
  const claimPseudo = firstUseTracker('a pseudo path', report);
  for (const [name, node] of nodes) {
    claimDevice(node.mailbox, ['nodes', name, 'mailbox'], { shared: true });
  }
  for (const [name, node] of nodes) {
    for (const network of ['primary', 'secondary'] as const) {
      const { address } = node[network];
      claimAddress(address, ['nodes', name, network, 'address'], { key: addressOf(address) });
    }
    node.disks.forEach((disk, index) => {
      claimDevice(disk.device, ['nodes', name, 'disks', index, 'device']);
      if (disk.journalDevice !== null) claimDevice(disk.journalDevice, ['nodes', name, 'disks', index, 'journalDevice']);
      claimMountPoint(disk.mountPoint, ['nodes', name, 'disks', index, 'mountPoint']);
    });
    node.exports.forEach((exported, index) => {
      claimPseudo(exported.pseudo, ['nodes', name, 'exports', index, 'pseudo']);
    });
  }
}

function firstUseTracker(what: string, report: Report) {
  const firstUse = new Map<string, string>();
  return (value: string, path: ConfigPath, { key = value, shared = false } = {}): void => {
    const earlier = firstUse.get(key);
    if (earlier === undefined) firstUse.set(key, formatPath(path));
    else if (!shared) report(path, `${what} not already used by ${earlier}`, value);
  };
}
