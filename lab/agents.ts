// The servers' agents: started as a machine's boot would start them, asked for their status, and stopped the way
// a power failure stops a machine.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { askControl } from '../agent/process/control-socket.ts';
import { configPath, type Server } from './config.ts';
import { sh } from './exec.ts';
import { onNode, powerOffArgv } from './mountns.ts';
import { labPath, readState, writeState } from './state.ts';
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

/**
 * A power-off (or a crash): links dark first, then every process killed, the disks let go, the addresses and the
 * kernel's TCP connections gone and a fresh mount namespace in place (lab/machine.sh, which the agents' fence
 * command runs too). Returns when the links went dark.
 */
export async function powerOff(prefix: string, server: Server): Promise<number> {
  const out = await sh(powerOffArgv(prefix, server));
  return Number(out.split('\n')[0]);
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
