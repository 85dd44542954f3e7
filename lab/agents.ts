// The servers' agents: started as a machine's boot would start them, asked for their status, and stopped the way
// a power failure stops a machine.
import { readFileSync } from 'node:fs';
import { askControl } from '../agent/process/control-socket.ts';
import { configPath, type Server } from './config.ts';
import { sh } from './exec.ts';
import { MACHINE_SCRIPT, mountNsFile, onNode, powerOffArgv } from './mountns.ts';
import { labPath, readState, writeState } from './state.ts';
import { bridgePorts, nsName, SECONDARY_ADDRESS } from './topology.ts';

const HANFS = new URL('../bin/hanfs', import.meta.url).pathname;
const AGENT_UNIT = new URL('../config/systemd/hanfs-agent.service', import.meta.url);

/** The environment hanfs-agent.service gives the agent (its Environment= lines), so that the lab runs it alike. */
function unitEnvironment(): string[] {
  return [...readFileSync(AGENT_UNIT, 'utf8').matchAll(/^Environment=(.+)$/gm)].map((m) => m[1]!.trim());
}

/**
 * A machine boot: its stable (secondary) address comes up, then its agent starts; the rest is the agent's. With
 * `links`, its links come up first. All of it under the server's lock in lab/machine.sh, as its power-off runs: a
 * power-off under way (the partner's fence command) finishes before the machine boots, never half across it.
 */
export async function boot(prefix: string, server: Server, links = false): Promise<number> {
  const argv = onNode(prefix, server, [
    'env', ...unitEnvironment(), process.execPath, HANFS, 'agent', '--config', configPath(prefix, server), '--node', server,
  ]);
  const out = await sh(['bash', MACHINE_SCRIPT, 'power-on', nsName(prefix, server), mountNsFile(prefix, server), SECONDARY_ADDRESS[server],
    labPath(prefix, `${server}.log`), ...(links ? bridgePorts(prefix, server) : []), '--', ...argv]);
  const pid = Number(out.trim().split('\n').at(-1));
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`power-on of ${server} printed no PID: ${out.trim()}`);
  const state = readState(prefix)!;
  state.agents[server] = pid;
  writeState(state);
  return pid;
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
export function powerOn(prefix: string, server: Server): Promise<number> {
  return boot(prefix, server, true);
}
