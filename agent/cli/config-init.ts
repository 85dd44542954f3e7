// `hanfs config init`: the smallest working pair configuration, from flags (no questions asked): the pair, its two
// nodes with their networks, key, data disk and export, the shared mailbox, the watchdog and, if there is one, the
// fence command. Every other setting keeps its default. The text is checked by the loader `hanfs config check` uses
// before it is printed or written; a file written with --out is read back as the agent would read it.
import { link, open, rename, unlink } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { loadOrReport } from './config-load.ts';
import { EXIT } from './exit-codes.ts';
import { commandPath } from './usage.ts';

export interface NetworkDraft {
  interface: string;
  address: string;
}

/** One node as the flags after its --node describe it. */
export interface NodeDraft {
  name: string;
  publicKey?: string;
  primary?: NetworkDraft;
  secondary?: NetworkDraft;
  disk?: string;
  mountPoint?: string;
  fsType?: string;
  exportPath?: string;
  pseudo?: string;
  clients?: string;
}

export interface PairDraft {
  pair: string;
  secretFile: string;
  mailbox: string;
  watchdog: 'none' | { device: string; timeoutMs: number };
  profile: string;
  fenceCommand: string[] | null;
  nodes: readonly [NodeDraft, NodeDraft];
}

/** The node's flags, each with the draft field it sets: the help, the checks and the error messages read this. */
const NODE_FLAGS = [
  ['--public-key <key>', 'publicKey', 'what hanfs key generate printed on that node (required)'],
  ['--primary <interface=address>', 'primary', 'its primary network: the interface and the service address clients mount, e.g. eno1=198.51.100.21/24 (required)'],
  ['--secondary <interface=address>', 'secondary', 'its secondary network: the interface and its own address there, on the partner\'s primary subnet (required)'],
  ['--disk <device>', 'disk', 'its data disk, by a path that is the same on both servers (/dev/disk/by-id/...) (required)'],
  ['--mount-point <path>', 'mountPoint', 'where its data disk is mounted (required)'],
  ['--fs-type <type>', 'fsType', 'ext4 or xfs (default: ext4)'],
  ['--export <path>', 'exportPath', 'the exported directory (default: the mount point)'],
  ['--pseudo <path>', 'pseudo', 'the NFSv4 path clients mount (default: the exported directory)'],
  ['--clients <spec>', 'clients', 'who may mount it: a host, a network such as 198.51.100.0/24, or * (default: *)'],
] as const satisfies readonly (readonly [string, keyof NodeDraft, string])[];

type NodeField = (typeof NODE_FLAGS)[number][1];
const REQUIRED: readonly NodeField[] = ['publicKey', 'primary', 'secondary', 'disk', 'mountPoint'];
const flagOf = (field: NodeField): string => NODE_FLAGS.find(([, f]) => f === field)![0].split(' ')[0]!;

interface InitOptions {
  pair: string;
  secretFile: string;
  mailbox: string;
  watchdog: string;
  watchdogTimeout?: number;
  profile: string;
  out?: string;
  force?: boolean;
}

export function registerConfigInit(config: Command): void {
  // The flags after a --node describe that node: commander hands them over in the order they were typed.
  const nodes: NodeDraft[] = [];
  const init = config
    .command('init')
    .description('write the smallest working pair configuration from flags, checked as hanfs config check checks it; '
      + 'to stdout, or to a new file with --out. Give --node twice, each followed by that node\'s flags: the nodes '
      + 'in the order of the file (on equal fence terms the first wins), their names the servers\' host names')
    .argument('[fence-command...]', 'after --: the fence command, one argument a word, with {node} and {partner} '
      + 'for the node names (e.g. -- fence_ipmilan --ip={partner}-bmc --action=off); none by default')
    .requiredOption('--pair <name>', 'the pair id (a-z, 0-9, -)')
    .requiredOption('--mailbox <device>', 'the shared mailbox disk, by a path that is the same on both servers')
    .option('--secret-file <path>', 'the shared secret (hanfs secret generate)', '/etc/hanfs/secret')
    .option('--watchdog <device>', 'the watchdog device, or none (unsafe: a frozen agent keeps serving)', '/dev/watchdog')
    .option('--watchdog-timeout <ms>', "the device's timeout as loaded (softdog soft_margin=1: 1000); "
      + "default: what the kernel reports for the device in sysfs", parseMs)
    .option('--profile <name>', 'the NFS server: ganesha or knfsd', 'ganesha')
    .option('--out <file>', 'write the configuration to this new file (root\'s, mode 0644) instead of stdout')
    .option('--force', 'with --out: replace an existing file')
    .option('--node <name>', 'a node of the pair (its host name): the flags below, until the next --node, describe it', (name: string) => {
      nodes.push({ name });
      return name;
    });
  init.optionsGroup('Each node\'s, after its --node:');
  for (const [flag, field, description] of NODE_FLAGS) {
    init.option(flag, description, (value: string) => {
      const node = nodes.at(-1);
      if (!node) throw new InvalidArgumentError('give --node NAME first: the flags after it describe that node');
      if (node[field] !== undefined) throw new InvalidArgumentError(`given twice for --node ${node.name}`);
      Object.assign(node, { [field]: field === 'primary' || field === 'secondary' ? parseNetwork(value) : value });
      return value;
    });
  }
  init.action(async (fence: string[], options: InitOptions) => {
    if (nodes.length !== 2) init.error(`give --node twice, once for each server of the pair (got ${nodes.length})`, { exitCode: EXIT.usage });
    if (nodes[0]!.name === nodes[1]!.name) init.error(`give the two nodes different names (both are ${nodes[0]!.name})`, { exitCode: EXIT.usage });
    for (const node of nodes) {
      const missing = REQUIRED.filter((field) => node[field] === undefined).map(flagOf);
      if (missing.length > 0) init.error(`--node ${node.name} lacks ${missing.join(', ')}`, { exitCode: EXIT.usage });
    }
    const watchdog = options.watchdog === 'none' ? 'none' as const : await watchdogOf(options.watchdog, options.watchdogTimeout);
    if (watchdog === null) {
      init.error(`the kernel does not report a timeout for ${options.watchdog}: give --watchdog-timeout`, { exitCode: EXIT.usage });
    }
    const draft: PairDraft = {
      pair: options.pair, secretFile: options.secretFile, mailbox: options.mailbox, watchdog: watchdog!,
      profile: options.profile, fenceCommand: fence.length > 0 ? fence : null, nodes: [nodes[0]!, nodes[1]!],
    };
    const text = await pairConfigText(draft);
    const problems = await checkText(text, draft);
    // One line each, every line naming the command as usage errors do.
    if (problems.length > 0) init.error(problems.join(`\n${commandPath(init)}: `), { exitCode: EXIT.usage });
    if (options.out === undefined) {
      process.stdout.write(text);
      return;
    }
    await writeNew(options.out, text, options.force ?? false).then(
      () => reread(options.out!),
      (err: Error) => {
        console.error(`hanfs config init: ${err.message}`);
        process.exitCode = 1;
      },
    );
  });
}

/** The configuration as YAML, in the shape of config/examples/minimal.yaml: one line per network, disk and export. */
export async function pairConfigText(draft: PairDraft): Promise<string> {
  const { Document, isMap, isSeq } = await import('yaml');
  const node = (n: NodeDraft) => {
    const exportPath = n.exportPath ?? n.mountPoint;
    return {
      publicKey: n.publicKey,
      primary: n.primary,
      secondary: n.secondary,
      mailbox: draft.mailbox,
      disks: [{ device: n.disk, mountPoint: n.mountPoint, fsType: n.fsType ?? 'ext4' }],
      exports: [{ path: exportPath, pseudo: n.pseudo ?? exportPath, ...(n.clients === undefined ? {} : { clients: n.clients }) }],
    };
  };
  const document = new Document({
    pair: draft.pair,
    secretFile: draft.secretFile,
    watchdog: draft.watchdog,
    ...(draft.fenceCommand ? { fenceCommand: draft.fenceCommand } : {}),
    nfs: { profile: draft.profile },
    nodes: Object.fromEntries(draft.nodes.map((n) => [n.name, node(n)])),
  });
  (document.contents as { commentBefore?: string }).commentBefore = ` The pair ${draft.pair}, written by hanfs config init: the same file on both servers, owned by root and`
    + '\n writable by root only. Every setting not written here has its default: hanfs config check FILE prints them all.';
  // Everything one level below a node (and the top level's small mappings) on one line each, as the examples have it.
  const oneLine = (path: string[]) => {
    const value = document.getIn(path, true);
    if (isMap(value) || isSeq(value)) value.flow = true;
  };
  for (const key of ['watchdog', 'fenceCommand', 'nfs']) oneLine([key]);
  for (const n of draft.nodes) for (const key of ['primary', 'secondary', 'disks', 'exports']) oneLine(['nodes', n.name, key]);
  return document.toString({ lineWidth: 0 });
}

/** What the loader says of the text, each mistake named by the flag that made it. */
async function checkText(text: string, draft: PairDraft): Promise<string[]> {
  const [{ parseConfig }, { checkWatchdogDevice }] = await Promise.all([
    import('../../config/load.ts'), import('../../config/watchdog-device.ts'),
  ]);
  const parsed = parseConfig(text, 'hanfs config init');
  const errors = parsed.ok ? await checkWatchdogDevice(parsed.config, 'hanfs config init') : parsed.errors;
  return errors.map((error) => error.kind === 'invalid'
    ? `${error.path} (${flagFor(error.path, draft)}): expected ${error.expected}, got ${error.found}${error.hint ? `; ${error.hint}` : ''}`
    : `the configuration made: ${error.message}`);
}

/** The flag behind a path of the configuration: the flag given, or the one whose value it took by default. */
export function flagFor(path: string, draft: Pick<PairDraft, 'nodes'>): string {
  const [top, name, key, sub] = path.replace(/\[\d+\]/g, '').split('.');
  const node = draft.nodes.find((n) => n.name === name);
  if (top === 'nodes' && node) {
    if (key === 'mailbox') return '--mailbox';
    let field = NODE_FIELD_AT[`${key}.${sub}`] ?? NODE_FIELD_AT[key!];
    if (field === undefined) return `--node ${name}`;
    const asked = field;
    while (node[field] === undefined && DEFAULTS_TO[field]) field = DEFAULTS_TO[field]!;
    return `${flagOf(field)} of --node ${name}${field === asked ? '' : `, which ${flagOf(asked)} defaults to`}`;
  }
  if (top === 'nodes') return '--node';
  return TOP_FLAGS[top!] ?? 'the flags';
}

/** The node's fields by their place in the configuration. */
const NODE_FIELD_AT: Record<string, NodeField> = {
  publicKey: 'publicKey', primary: 'primary', secondary: 'secondary', disks: 'disk', 'disks.mountPoint': 'mountPoint',
  'disks.fsType': 'fsType', exports: 'exportPath', 'exports.pseudo': 'pseudo', 'exports.clients': 'clients',
};
/** Unset, a field takes another's value. */
const DEFAULTS_TO: Partial<Record<NodeField, NodeField>> = { pseudo: 'exportPath', exportPath: 'mountPoint' };
const TOP_FLAGS: Record<string, string> = {
  pair: '--pair', secretFile: '--secret-file', watchdog: '--watchdog, --watchdog-timeout', fenceCommand: 'the fence command after --',
  nfs: '--profile', timing: '--watchdog-timeout, too long for the default lease',
};

/** The device with its timeout: the flag's, else the kernel's (sysfs); null if neither says. */
async function watchdogOf(device: string, timeoutMs: number | undefined): Promise<{ device: string; timeoutMs: number } | null> {
  if (timeoutMs !== undefined) return { device, timeoutMs };
  const { deviceTimeoutMs } = await import('../../config/watchdog-device.ts');
  const fromKernel = await deviceTimeoutMs(device);
  return fromKernel === null ? null : { device, timeoutMs: fromKernel };
}

/**
 * Writes the file whole, mode 0644 whatever the umask (a group-writable file is refused), and never over an existing
 * one unless forced: it is written beside the target and linked (fails if the target exists) or renamed into place.
 */
async function writeNew(path: string, text: string, force: boolean): Promise<void> {
  const temporary = `${path}.hanfs-init-${process.pid}`;
  const file = await open(temporary, 'wx', 0o644);
  try {
    await file.writeFile(text);
    await file.chmod(0o644);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    if (force) {
      await rename(temporary, path);
      return;
    }
    await link(temporary, path).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new Error(`${path} exists: --force replaces it`) : err;
    });
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** The written file read back as the agent and hanfs config check read it: its owner and mode too. */
async function reread(path: string): Promise<void> {
  if (await loadOrReport(path)) console.log(`wrote ${path}`);
}

function parseNetwork(value: string): NetworkDraft {
  const at = value.lastIndexOf('=');
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError('expected INTERFACE=ADDRESS/PREFIX, like eno1=198.51.100.21/24');
  return { interface: value.slice(0, at), address: value.slice(at + 1) };
}

function parseMs(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('expected a whole number of milliseconds, like 1000');
  return Number(value);
}
