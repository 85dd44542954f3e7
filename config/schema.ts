// The pair's YAML configuration: shapes, defaults and the resolved types the rest of hanfs reads.
// Error messages are phrased as what was expected; config/errors.ts adds the path and the value found.
import { z } from 'zod';
import cron from 'node-cron';
import { PUBLIC_KEY_PATTERN } from '../agent/net/keys.ts';
import { parseListen } from './listen.ts';
import { defaultCommands, nfsProfiles } from './profiles.ts';
import { checkPairRules } from './rules.ts';

export function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const knownKeys = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `one of the known keys (${knownKeys})` : undefined),
  });
}

const NAME = /^[a-z0-9-]{1,32}$/;
const name = z.string().regex(NAME, 'a name of 1 to 32 characters a-z, 0-9 or -');

const absolutePath = z.string({ error: 'an absolute path' }).startsWith('/');
const absolutePathOrNull = z.string({ error: 'an absolute path or null' }).startsWith('/').nullable();

// The kernel's rule (dev_valid_name): shorter than IFNAMSIZ, not "." or "..", no '/', ':' or whitespace.
const interfaceName = z
  .string()
  .regex(/^(?!\.\.?$)[^\s/:]{1,15}$/, 'a Linux interface name (1 to 15 characters, no "/", ":" or whitespace)');

const ipv4Cidr = z.cidrv4({ error: 'an IPv4 address with its prefix length, like 198.51.100.11/24' });

const argv = z.array(z.string().min(1), { error: 'a command as a list of strings' }).min(1);

const cronWithSeconds = z
  .string()
  .refine(
    (expression) => expression.trim().split(/\s+/).length === 6 && cron.validate(expression),
    'a node-cron expression of 6 fields (with seconds), like "*/10 * * * * *"',
  );

const logSchema = strictObject({
  level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  file: absolutePathOrNull.default(null),
});

const timingSchema = strictObject({
  heartbeatIntervalMs: z.int().min(10).default(500),
  missesBeforeSuspicion: z.int().min(2).default(4),
  icmpTimeoutMs: z.int().min(1).default(500),
  diskIntervalMs: z.int().min(1).default(500),
  diskIoTimeoutMs: z.int().min(1).default(1000),
  diskProbeTimeoutMs: z.int().min(1).default(2000),
  selfFenceLeaseMs: z.int().min(1).default(5000),
  // Unset, it is the lease: a partner silent for that long would have stopped serving, were its agent running.
  fenceAfterMs: z.int().min(1).optional(),
  deepCheckCron: cronWithSeconds.default('*/10 * * * * *'),
}).transform(({ fenceAfterMs, ...timing }) => ({ ...timing, fenceAfterMs: fenceAfterMs ?? timing.selfFenceLeaseMs }));

// Required, as SBD requires one: without a watchdog a frozen agent keeps its NFS server, mounts and address past
// its lease. "none" says so explicitly (and \`hanfs status\` then shows the pair as unsafe). The timeout is the
// device's own, as loaded (softdog's soft_margin): Node cannot set it, and it belongs in the fence margin.
const watchdogSchema = z.union([
  z.literal('none'),
  strictObject({ device: absolutePath, timeoutMs: z.int().min(100) }),
], { error: 'none, or { device: /dev/watchdog, timeoutMs: the device timeout in ms }' });

const metricsSchema = strictObject({
  // Off unless asked for: the endpoint tells anyone who reaches it how the pair is doing.
  listen: z.string().refine((v) => parseListen(v) !== null, 'HOST:PORT with a port 1–65535, like 127.0.0.1:9405 or [::1]:9405')
    .nullable().default(null),
});

const resourcesSchema = strictObject({
  restartLimit: z.int().min(0).default(3),
});

const nfsSchema = strictObject({
  profile: z.enum(nfsProfiles),
  // Ganesha 4.3 never leaves its grace period with a 1-second lease. The defaults are for a site with many clients:
  // a lease that a few seconds of network trouble do not expire, and a grace no shorter (README: NFSv4 lease and grace).
  leaseSeconds: z.int().min(2).default(10),
  graceSeconds: z.int().min(0).default(10),
  commands: z.record(z.string(), argv).default({}),
}).transform((nfs) => ({ ...nfs, commands: { ...defaultCommands(nfs.profile), ...nfs.commands } }));

const networkSchema = strictObject({
  interface: interfaceName,
  address: ipv4Cidr,
});

const diskSchema = strictObject({
  device: absolutePath,
  mountPoint: absolutePath,
  fsType: z.enum(['ext4', 'xfs']),
  journalDevice: absolutePathOrNull.default(null),
  mountOptions: z.array(z.string().min(1)).default([]),
});

/** An NFS version a group or an export is served with: 3 (with NLM locks and NSM reboot notification) or 4. */
export type NfsProtocol = 3 | 4;
const protocolList = (allowed: readonly (readonly NfsProtocol[])[], expected: string) => z
  .array(z.int(), { error: expected })
  .refine((list) => allowed.some((choice) => sameSet(list, choice)), expected)
  .transform((list) => [...new Set(list)].sort((a, b) => a - b) as NfsProtocol[]);

function sameSet(list: readonly number[], choice: readonly number[]): boolean {
  return list.length > 0 && list.every((v) => choice.includes(v as NfsProtocol)) && choice.every((v) => list.includes(v));
}

// A group is NFSv4 only unless it says otherwise: with NLM on, Ganesha cannot end its grace period early after a
// move (README: NFSv3 and NLM), so NFSv3 costs every client of the group, not only the NFSv3 ones.
const groupProtocols = protocolList([[4], [3, 4]], '[4] (NFSv4 only) or [3, 4] (NFSv3 with NLM locks, and NFSv4)');
const exportProtocols = protocolList([[3], [4], [3, 4]], '[3], [4] or [3, 4]');

const exportSchema = strictObject({
  path: absolutePath,
  pseudo: absolutePath,
  access: z.enum(['rw', 'ro']).default('rw'),
  clients: z.string().min(1).default('*'),
  squash: z.enum(['root', 'none']).default('root'),
  // Unset, the group's: an export may serve fewer versions than its group, never one the group does not run.
  protocols: exportProtocols.optional(),
});

// What `hanfs key generate` prints: the node's Ed25519 public key, with which client watchers check its heartbeats.
export const publicKey = z.string().regex(PUBLIC_KEY_PATTERN, 'an Ed25519 public key as hanfs key generate prints it (43 characters of base64url)');

const nodeSchema = strictObject({
  hostname: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'a host name').optional(),
  publicKey,
  primary: networkSchema,
  secondary: networkSchema,
  mailbox: absolutePath,
  disks: z.array(diskSchema).min(1),
  exports: z.array(exportSchema).min(1),
  protocols: groupProtocols.default([4]),
});

// A node name starts with a letter: JavaScript orders all-digit keys numerically, which would lose the file's
// order of the nodes, and that order settles simultaneous fences.
const nodeName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a node name: a letter, then up to 31 characters a-z, 0-9 or -');

const nodesSchema = z.record(nodeName, nodeSchema).transform((nodes) =>
  Object.fromEntries(
    Object.entries(nodes).map(([nodeName, { hostname = nodeName, exports, ...node }]) => [nodeName, {
      hostname, ...node,
      exports: exports.map(({ protocols = node.protocols, ...exported }) => ({ ...exported, protocols: [...protocols] })),
    }] as const),
  ),
);

const resolvedPairSchema = strictObject({
  pair: name,
  secretFile: absolutePath,
  // This node's own Ed25519 key (hanfs key generate): each node has its own file at this path.
  signingKeyFile: absolutePath.default('/etc/hanfs/signing.key'),
  heartbeatPort: z.int().min(1).max(65535).default(7405),
  reintegrate: z.enum(['manual', 'auto']).default('manual'),
  controlSocket: absolutePath.default('/run/hanfs/agent.sock'),
  stateDir: absolutePath.default('/var/lib/hanfs'),
  runDir: absolutePath.default('/run/hanfs'),
  watchdog: watchdogSchema.optional(),
  log: logSchema.prefault({}),
  timing: timingSchema.prefault({}),
  resources: resourcesSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  fenceCommand: argv.nullable().default(null),
  nfs: nfsSchema,
  nodes: nodesSchema,
});

export type PairConfig = z.output<typeof resolvedPairSchema>;
export type LogConfig = PairConfig['log'];
export type TimingConfig = PairConfig['timing'];
export type ResourcesConfig = PairConfig['resources'];
export type MetricsConfig = PairConfig['metrics'];
export type NfsConfig = PairConfig['nfs'];
export type NodeConfig = PairConfig['nodes'][string];
export type NetworkConfig = NodeConfig['primary'];
export type DiskConfig = NodeConfig['disks'][number];
export type ExportConfig = NodeConfig['exports'][number];

export const pairConfigSchema = resolvedPairSchema.superRefine(checkPairRules);
