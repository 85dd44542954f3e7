// Agent answers for the CLI tests: statuses made by the real status builder from one core stepped by hand
// (test/core/one-node.ts), so they are deterministic; and a stand-in agent on a real control socket.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlHandler } from '../../agent/process/control-socket.ts';
import { listenControl } from '../../agent/process/control-socket.ts';
import { buildStatus, type AgentStatus } from '../../agent/operate/status.ts';
import { noDrops } from '../../agent/ports.ts';
import { cfg, normalNode, partnerDies, type OneNode } from '../core/one-node.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HANFS = join(ROOT, 'bin/hanfs');

function statusOf(n: OneNode): AgentStatus {
  const traffic = Object.fromEntries(cfg.networks.map((net, i) => [net, { sent: 120 + i, received: 118 + i, rttMs: 0.25 + i / 10 }]));
  return buildStatus({
    core: cfg, snapshot: { state: n.s, now: n.now, startedAt: 0 }, interfaces: { a: 'pri', b: 'sec' }, traffic,
    drops: { ...noDrops(), hmac: 2, replay: 1 },
    assets: {
      node1: { address: '198.51.100.11/24', disks: [{ device: '/dev/disk/by-id/d1', mountPoint: '/srv1' }] },
      node2: { address: '203.0.113.12/24', disks: [{ device: '/dev/disk/by-id/d2', mountPoint: '/srv2' }] },
    },
    recentTransitions: [
      { at: '2025-01-01T10:00:00.000Z', from: 'booting', to: 'starting', cause: 'mailbox clear' },
      { at: '2025-01-01T10:00:01.000Z', from: 'starting', to: 'normal', cause: 'own group online' },
    ],
  });
}

/** Both nodes normal, heard on both networks. */
export function healthyStatus(): AgentStatus {
  const n = normalNode();
  n.run(1000);
  return statusOf(n);
}

/** All served, but this node is in maintenance. */
export function degradedStatus(): AgentStatus {
  const n = normalNode();
  n.command({ command: 'maintenance_on' });
  n.run(1000);
  return statusOf(n);
}

/** In maintenance, the partner died and is not taken over: its group is served by nobody. */
export function failedStatus(): AgentStatus {
  const n = normalNode();
  n.command({ command: 'maintenance_on' });
  partnerDies(n);
  n.run(8000);
  return statusOf(n);
}

/** A stand-in agent answering on a control socket in a temporary directory. */
export async function withAgent(handle: ControlHandler, body: (socket: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-cli-'));
  const socket = join(dir, 'agent.sock');
  const server = await listenControl(socket, handle);
  try {
    await body(socket);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the hanfs CLI of this checkout. */
export function hanfs(args: string[]): Promise<CliResult> {
  return captured([process.execPath, HANFS, ...args]);
}

/**
 * The hanfs CLI as another user (setpriv: that uid and gid, no supplementary groups), from a copy that user can
 * read: this checkout may lie in a directory only root may enter. scripts/install stages the copy.
 */
export async function withCliAs(uid: number, body: (run: (args: string[]) => Promise<CliResult>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hanfs-cli-as-'));
  try {
    const staged = await captured(['bash', join(ROOT, 'scripts/install'), '--destdir', dir]);
    if (staged.code !== 0) throw new Error(`scripts/install: ${staged.stderr}`);
    await captured(['chmod', '-R', 'a+rX', dir]);
    const bin = join(dir, 'usr/local/lib/hanfs/bin/hanfs');
    // Its working directory too must be one it may enter (tsx's esbuild child starts there).
    await body((args) => captured(['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, bin, ...args], dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs argv to its end, asynchronously (the test's own sockets keep answering meanwhile): exit code and output. */
export function captured(argv: string[], cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function hasSetpriv(): boolean {
  return !spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).error;
}
