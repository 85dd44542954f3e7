// `hanfs disk init` and `hanfs disk dump`: set up and inspect the mailbox on the shared disk.
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { SectorDevice } from '../disk/direct-io.ts';
import { formatDump, readMailbox, unverifiable } from '../disk/dump.ts';
import { initMailbox } from '../disk/init.ts';
import { SECTOR_SIZES, type MailboxTimeouts, type SectorSize } from '../disk/layout.ts';
import { EXIT } from './exit-codes.ts';

/** An error with its own exit code (the others exit 1). */
class ExitError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

interface InitFlags {
  pair: string;
  nodes: [string, string];
  secretFile?: string;
  sectorSize?: SectorSize;
  config?: string;
  force?: boolean;
}

interface DumpFlags {
  json?: boolean;
  secretFile?: string;
}

export function registerDiskCommands(program: Command): void {
  const disk = program.command('disk').description('the mailbox on the shared disk');
  disk
    .command('init')
    .description('write a new mailbox header and clear every slot and inbox')
    .argument('<device>', 'the shared block device (a file will do in a lab)')
    .requiredOption('--pair <name>', "the pair id (the config's pair)")
    .requiredOption('--nodes <a,b>', "the two node names in the config's order: the first gets slot 0", parseNodes)
    .option('--secret-file <path>', 'the shared secret, to verify the records of a mailbox being replaced')
    .option('--sector-size <bytes>', "512 or 4096 (default: the device's logical block size)", parseSectorSize)
    .option('--config <file>', 'the pair configuration: its disk timeouts are recorded in the header, its pair and nodes must match')
    .option('--force', 'overwrite an existing mailbox, or any other data')
    .action((device: string, flags: InitFlags) => reportErrors('init', () => init(device, flags)));
  disk
    .command('dump')
    .description('show the header and every slot and inbox, read straight from the device; '
      + 'exit 65 if the header or a record does not verify (damaged, another secret, another pair), after showing it all')
    .argument('<device>', 'the shared block device')
    .option('--json', 'print the dump as JSON')
    .option('--secret-file <path>', 'the shared secret; without it records are shown unverified')
    .action((device: string, flags: DumpFlags) => reportErrors('dump', () => dump(device, flags)));
}

async function init(device: string, flags: InitFlags): Promise<void> {
  const done = initMailbox({
    device,
    pairId: flags.pair,
    nodes: flags.nodes,
    sectorSize: flags.sectorSize,
    timeouts: flags.config ? await timeoutsFrom(flags.config, flags) : { diskIntervalMs: 0, diskIoTimeoutMs: 0, selfFenceLeaseMs: 0 },
    secret: flags.secretFile ? await readSecret(flags.secretFile) : null,
    force: flags.force ?? false,
  });
  if (done.replaced) console.log(`replaced ${done.replaced}`);
  const { header } = done;
  console.log(`initialised ${device}: pair ${header.pairId}, slot 0 ${header.nodes[0]}, slot 1 ${header.nodes[1]}, `
    + `${header.sectorSize}-byte sectors, ${done.mode === 'direct' ? 'O_DIRECT' : 'O_DSYNC (O_DIRECT refused)'}`);
}

async function dump(device: string, flags: DumpFlags): Promise<void> {
  const secret = flags.secretFile ? await readSecret(flags.secretFile) : null;
  const disk = SectorDevice.open(device, { readOnly: true });
  try {
    const report = readMailbox(disk, secret, Date.now());
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatDump(report));
    const problems = unverifiable(report);
    if (problems.length > 0) {
      for (const problem of problems) console.error(`hanfs disk dump: does not verify: ${problem}`);
      process.exitCode = EXIT.dataError;
    }
  } finally {
    disk.close();
  }
}

async function timeoutsFrom(file: string, flags: InitFlags): Promise<MailboxTimeouts> {
  // The parser and the schema load only for --config.
  const { loadConfig } = await import('../../config/load.ts');
  const loaded = await loadConfig(file);
  if (!loaded.ok) throw new ExitError(`${file} is not a valid configuration (see hanfs config check ${file})`, EXIT.config);
  const { pair, nodes, timing } = loaded.config;
  const names = Object.keys(nodes).join(',');
  if (pair !== flags.pair || names !== flags.nodes.join(',')) {
    throw new Error(`${file} describes pair ${pair} with nodes ${names}, not pair ${flags.pair} with nodes ${flags.nodes.join(',')}`);
  }
  return { diskIntervalMs: timing.diskIntervalMs, diskIoTimeoutMs: timing.diskIoTimeoutMs, selfFenceLeaseMs: timing.selfFenceLeaseMs };
}

/**
 * The secret as the agent reads it: the file's bytes without one trailing newline, so that both compute the same
 * HMACs. The agent's own loader also insists on root ownership and mode 0600; reading is all a dump needs.
 */
async function readSecret(path: string): Promise<Buffer> {
  const content = await readFile(path);
  return content.at(-1) === 0x0a ? content.subarray(0, -1) : content;
}

async function reportErrors(command: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    console.error(`hanfs disk ${command}: ${(err as Error).message}`);
    process.exitCode = err instanceof ExitError ? err.exitCode : 1;
  }
}

function parseNodes(value: string): [string, string] {
  const names = value.split(',');
  if (names.length !== 2 || names.some((name) => name === '')) throw new InvalidArgumentError('expected two node names: A,B');
  return [names[0]!, names[1]!];
}

function parseSectorSize(value: string): SectorSize {
  const size = SECTOR_SIZES.find((s) => String(s) === value);
  if (size === undefined) throw new InvalidArgumentError(`expected ${SECTOR_SIZES.join(' or ')}`);
  return size;
}
