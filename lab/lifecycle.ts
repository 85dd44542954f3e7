// `scripts/lab up` and `down`: build the whole lab (network, disks, mount namespaces, secret, configs, mailbox,
// both agents) and wait until both servers serve their exports; remove all of it (kernel-client guests too), also after
// a crash.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { processAlive } from '../agent/sensors/process-alive.ts';
import { boot, killAll } from './agents.ts';
import { createSigningKeys, SERVERS, writeConfigs, type LabNfs } from './config.ts';
import { createDisks, destroyDisks } from './disks.ts';
import { sh } from './exec.ts';
import { stopGuests } from './guest/lifecycle.ts';
import { createMountNs, onNode, privateRunDir, releaseMountNamespaces, removeRunDir } from './mountns.ts';
import { labPath, readState, writeState, type LabState } from './state.ts';
import { createNetwork, destroyNetwork, NODES } from './topology.ts';
import { startWatchdogBoard } from './watchdog-board.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const EXPORTS = [['198.51.100.11', '/srv1'], ['203.0.113.12', '/srv2']] as const;

export interface LabOptions {
  reintegrate: 'manual' | 'auto';
  timeoutMs: number;
  /** The agents' timing instead of the lab's (LAB_TIMING). */
  timing?: Readonly<Record<string, number>>;
  /** The NFSv4 lease and grace, instead of the lab's 2 s and 2 s (LAB_NFS). */
  nfs?: LabNfs;
  /** false: no fence device (the lab's power-off as a fence command), so takeovers wait out the lease. */
  fenceDevice?: boolean;
  /** Size of each data disk, instead of 64 MiB. */
  dataDiskMiB?: number;
  /** What the servers run instead of booting the hanfs agents (keepalived, for the benchmarks). */
  startServers?: (prefix: string) => Promise<void>;
}

export async function labUp(prefix: string, opts: LabOptions): Promise<void> {
  if (readState(prefix)) throw new Error(`lab "${prefix}" is already up (scripts/lab down --prefix ${prefix})`);
  await sh(['bash', `${ROOT}scripts/ensure-deps`], { timeoutMs: 600_000 });
  const state: LabState = { prefix, loops: {}, agents: {} };
  try {
    await privateRunDir(prefix);
    state.bmc = startBoard();
    state.watchdogBoard = startWatchdogBoard(prefix);
    writeState(state);
    await createNetwork(prefix);
    await createDisks(state, opts.dataDiskMiB);
    for (const s of SERVERS) await createMountNs(prefix, s);
    writeFileSync(labPath(prefix, 'secret'), `${prefix}-lab-secret-${Date.now()}\n`, { mode: 0o600 });
    writeConfigs(state, await createSigningKeys(prefix), opts.reintegrate, opts.timing, opts.nfs, opts.fenceDevice);
    await sh([process.execPath, `${ROOT}bin/hanfs`, 'disk', 'init', state.loops.mailbox!, '--pair', 'lab',
      '--nodes', SERVERS.join(','), '--secret-file', labPath(prefix, 'secret'), '--force']);
    if (opts.startServers) await opts.startServers(prefix);
    else for (const s of SERVERS) await boot(prefix, s);
    await waitServing(prefix, opts.timeoutMs);
  } catch (err) {
    const tails = await Promise.all(SERVERS.map((s) => sh(['tail', '-n', '8', labPath(prefix, `${s}.log`)]).catch(() => '')));
    await labDown(prefix);
    throw new Error(`${(err as Error).message}\n${SERVERS.map((s, i) => `--- ${s}.log\n${tails[i]}`).join('\n')}`);
  }
}

/**
 * The lab's management board: it only has to exist, in the host's namespaces, so that an agent's fence command can
 * enter them (`nsenter -t PID -m -n`) and power its partner off from outside, as a BMC does.
 */
function startBoard(): number {
  const board = spawn('sleep', ['infinity'], { detached: true, stdio: 'ignore' });
  board.unref();
  return board.pid!;
}

/** Both exports answer a real NFSv4 client on their service addresses. */
export async function waitServing(prefix: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (const [address, pseudo] of EXPORTS) {
    for (;;) {
      try {
        await sh(onNode(prefix, 'client1', ['nfs-ls', `nfs://${address}${pseudo}?version=4`]), { timeoutMs: 5000 });
        break;
      } catch (err) {
        const dead = Object.entries(readState(prefix)?.agents ?? {}).filter(([, pid]) => !processAlive(pid));
        if (dead.length > 0) throw new Error(`the agent of ${dead.map(([s]) => s).join(' and ')} exited`);
        const deadKeepalived = Object.entries(readState(prefix)?.keepalived ?? {}).filter(([, pids]) => !pids.some((pid) => processAlive(pid)));
        if (deadKeepalived.length > 0) throw new Error(`keepalived of ${deadKeepalived.map(([s]) => s).join(' and ')} exited`);
        if (Date.now() > end) throw new Error(`${pseudo} on ${address} not served within ${timeoutMs} ms: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

export async function labDown(prefix: string): Promise<void> {
  const state = readState(prefix);
  // Kernel-client guests first: their QEMU lives in the nets' namespaces, which the node kills below do not reach.
  await stopGuests(prefix);
  for (const node of NODES) await killAll(prefix, node);
  const keepalived = Object.values(state?.keepalived ?? {}).flat();
  const others = [...keepalived, ...[state?.bmc, state?.watchdogBoard, state?.watcher].filter((pid): pid is number => pid !== undefined)];
  for (const pid of [...Object.values(state?.agents ?? {}), ...others]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }
  await destroyNetwork(prefix);
  await releaseMountNamespaces(prefix);
  await destroyDisks(prefix, state);
  await removeRunDir(prefix);
}
