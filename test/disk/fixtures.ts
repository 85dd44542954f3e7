// Shared by the disk tests: temporary mailbox devices (a file, or a loop device over one) that are removed even
// when a test fails, sample records, and the `hanfs disk` command run as a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import type { Outbox, StatusRecord } from '../../agent/core/types.ts';
import { initMailbox, type InitDone } from '../../agent/disk/init.ts';
import type { NodeIndex } from '../../agent/disk/layout.ts';
import { DiskMailbox, type DiskMailboxOptions } from '../../agent/disk/mailbox.ts';

export const SECRET = Buffer.from('the shared secret of the test pair');
export const NODES: [string, string] = ['server1', 'server2'];
export const PAIR = 'lab';
export const MAILBOX_FILE_BYTES = 256 * 1024;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Backend = 'file' | 'loop';

/** Is the program installed? (Only a missing program counts: its exit status for --version does not matter.) */
export function hasProgram(name: string): boolean {
  return (spawnSync(name, ['--version'], { stdio: 'ignore' }).error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT';
}

export function run(program: string, args: string[]): string {
  return execFileSync(program, args, { encoding: 'utf8' }).trim();
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-disk-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Attaches `file` to a free loop device and always detaches that one device again. */
export async function withLoopDevice<T>(file: string, fn: (device: string) => Promise<T>): Promise<T> {
  const device = run('losetup', ['--find', '--show', file]);
  try {
    return await fn(device);
  } finally {
    run('losetup', ['--detach', device]);
  }
}

/** A fresh, zeroed mailbox device of the given backend, in a temporary directory. */
export async function withDevice<T>(backend: Backend, fn: (device: string, dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'mailbox.img');
    writeFileSync(file, '');
    truncateSync(file, MAILBOX_FILE_BYTES);
    return backend === 'loop' ? withLoopDevice(file, (device) => fn(device, dir)) : fn(file, dir);
  });
}

export function initTestMailbox(device: string, opts: { force?: boolean } = {}): InitDone {
  return initMailbox({
    device, pairId: PAIR, nodes: NODES, timeouts: { diskIntervalMs: 500, diskIoTimeoutMs: 1000, selfFenceLeaseMs: 5000 },
    secret: SECRET, force: opts.force ?? false,
  });
}

export function openNode(device: string, selfIndex: NodeIndex, opts: Partial<DiskMailboxOptions> = {}): Promise<DiskMailbox> {
  return DiskMailbox.open({ device, selfIndex, secret: SECRET, pairId: PAIR, nodes: NODES, ...opts });
}

export function status(node: string, fields: Partial<StatusRecord> = {}): StatusRecord {
  return {
    node, gen: 1, counter: 1, phase: 'normal', owns: [node], isolated: false, pong: 0, ackFenceTerm: 0,
    handledReintegrate: 0, handledHandover: 0, handledTakeover: 0, ...fields,
  };
}

export function outbox(fields: Partial<Outbox> = {}): Outbox {
  return { fence: null, ping: 0, reintegrateRequest: 0, handover: 0, takeoverRequest: 0, ...fields };
}

export async function assertRejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (err) {
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

/** A copy of `bytes` with one bit inverted. */
export function flipBit(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bit >> 3] = copy[bit >> 3]! ^ (1 << (bit & 7));
  return copy;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hanfs disk ARGS` in a child process, through the same commander setup as the hanfs command. */
export function runDiskCli(args: string[]): CliResult {
  const program = `
    import { Command } from 'commander';
    import { registerDiskCommands } from ${JSON.stringify(join(ROOT, 'agent/cli/disk.ts'))};
    const program = new Command('hanfs');
    registerDiskCommands(program);
    await program.parseAsync(process.argv.slice(1), { from: 'user' });`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program, 'disk', ...args], {
    cwd: ROOT, encoding: 'utf8',
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}
