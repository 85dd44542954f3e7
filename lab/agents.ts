// The servers' agents: started as a machine's boot would start them, asked for their status, and stopped the way
// a power failure stops a machine.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { askControl } from '../agent/process/control-socket.ts';
import { processAlive } from '../agent/sensors/process-alive.ts';
import { configPath, type Server } from './config.ts';
import { sh, shQuiet } from './exec.ts';
import { onNode, replaceMountNs } from './mountns.ts';
import { labPath, readState, writeState } from './state.ts';
import { waitUntil } from './wait.ts';
import { nsName, SECONDARY_ADDRESS, setPort } from './topology.ts';

const HANFS = new URL('../bin/hanfs', import.meta.url).pathname;

/** A machine boot: its stable (secondary) address comes up, then its agent starts; the rest is the agent's. */
export async function boot(prefix: string, server: Server): Promise<number> {
  await ensureAddress(prefix, server, 'sec', SECONDARY_ADDRESS[server]);
  const out = openSync(labPath(prefix, `${server}.log`), 'a');
  const argv = onNode(prefix, server, [process.execPath, HANFS, 'agent', '--config', configPath(prefix, server), '--node', server]);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const state = readState(prefix)!;
  state.agents[server] = child.pid!;
  writeState(state);
  return child.pid!;
}

/** Adds a stable address to a server's interface unless it is there already. */
export async function ensureAddress(prefix: string, server: Server, iface: string, address: string): Promise<void> {
  const present = await sh(['ip', '-n', nsName(prefix, server), '-o', '-4', 'addr', 'show', 'dev', iface]);
  if (!present.includes(` ${address} `)) await sh(['ip', '-n', nsName(prefix, server), 'addr', 'add', address, 'dev', iface]);
}

export function agentStatus(prefix: string, server: Server): Promise<Record<string, unknown> | null> {
  return statusAt(labPath(prefix, `${server}.sock`));
}

/** The status a daemon (an agent, the watcher) answers on its control socket, or null while it does not answer. */
export async function statusAt<T = Record<string, unknown>>(socket: string): Promise<T | null> {
  try {
    const answer = (await askControl(socket, 'status', undefined, 2000)) as { ok: boolean; result?: T };
    return answer.ok ? answer.result ?? null : null;
  } catch {
    return null;
  }
}

/** Every process in the server's network namespace: its agent, its NFS servers, helpers. */
export async function nodePids(prefix: string, node: string): Promise<number[]> {
  const out = await sh(['ip', 'netns', 'pids', nsName(prefix, node)]).catch(() => '');
  return out.split('\n').filter(Boolean).map(Number);
}

/** SIGKILLs every process of the node; returns their PIDs. */
export async function killAll(prefix: string, node: string): Promise<number[]> {
  const pids = await nodePids(prefix, node);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch { /* already gone */ }
  }
  return pids;
}

/** How long a power-off waits for the killed processes to be gone (a dying Ganesha takes a moment). */
const POWER_OFF_MS = 5000;

/**
 * A power-off (or a crash): the links go dark first, as a machine's do the instant it loses power; then every process
 * is killed and its addresses and mounts are gone (a fresh mount namespace). Links first, because a killed NFS server
 * whose links are still up has its kernel reset the clients' connections, which no real power-off does, and which
 * costs an NFSv4 client its locks. A machine that loses power lets go of its disks at once; the lab's killed
 * processes hold their mount namespace, and with it the disk, until the last of their threads has exited, so the
 * power-off waits for that. Returns when the links went dark.
 */
export async function powerOff(prefix: string, server: Server): Promise<number> {
  await setPort(prefix, server, 'neta', false);
  await setPort(prefix, server, 'netb', false);
  // The instant the machine is gone for everyone else: what a client's outage is measured from.
  const darkAt = Date.now();
  const killed = await killAll(prefix, server);
  await waitUntil(async () => !killed.some((pid) => processAlive(pid)), POWER_OFF_MS, `${server}'s processes gone`, () => '', 10)
    .catch(() => { /* what still lingers is reported by the ownership sampler, if it holds anything */ });
  // IPv4 only: the kernel's IPv6 link-local addresses come back with the link at boot, and without any,
  // Ganesha ignores its IPv4 Bind_addr and listens on every address.
  for (const iface of ['pri', 'sec']) await shQuiet(['ip', '-n', nsName(prefix, server), '-4', 'addr', 'flush', 'dev', iface]);
  await replaceMountNs(prefix, server);
  return darkAt;
}

/** The phase the server's agent reports, or null while it does not answer. */
export async function phaseOf(prefix: string, server: Server): Promise<string | null> {
  return ((await agentStatus(prefix, server))?.phase as string | undefined) ?? null;
}

/** A server powered off (or crashed) comes back: links up, then a boot. */
export async function powerOn(prefix: string, server: Server): Promise<number> {
  await setPort(prefix, server, 'neta', true);
  await setPort(prefix, server, 'netb', true);
  return boot(prefix, server);
}
