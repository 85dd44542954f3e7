// keepalived in the namespace lab instead of the hanfs agents: each server runs Debian's keepalived in its own
// network and mount namespaces (so that the notify script's mounts and Ganesha are the server's), with its config,
// pid files and log in the lab's run directory and its PIDs in the lab's state, so that `scripts/lab down` kills
// them by PID. VRRP needs an address of its own on each interface it speaks on; the agents' lab leaves `pri` bare
// until the service address comes, so keepalived's servers get a stable address there first (.21 / .22).
import { spawn } from 'node:child_process';
import { chmodSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ensureAddress } from '../lab/agents.ts';
import { configPath, SERVERS, type Server } from '../lab/config.ts';
import { onNode } from '../lab/mountns.ts';
import { labPath, readState, writeState } from '../lab/state.ts';
import { SECONDARY_ADDRESS, SERVICE_ADDRESS, setPort } from '../lab/topology.ts';
import { waitUntil } from '../lab/wait.ts';
import { keepalivedConfig, labInstances, notifyScript, type KeepalivedSetting } from './keepalived-config.ts';

const HANFS = new URL('../bin/hanfs', import.meta.url).pathname;
export const KEEPALIVED_PRIMARY_ADDRESS = { server1: '198.51.100.21/24', server2: '203.0.113.22/24' } as const;

const file = (prefix: string, server: Server, what: string) => labPath(prefix, `${server}.keepalived.${what}`);

/** Writes the server's keepalived config and notify script for `setting`. */
export function writeKeepalivedFiles(prefix: string, server: Server, setting: KeepalivedSetting): void {
  const notify = file(prefix, server, 'notify');
  writeFileSync(notify, notifyScript({
    server, log: labPath(prefix, `${server}.log`), hanfs: [process.execPath, HANFS], config: configPath(prefix, server),
  }));
  chmodSync(notify, 0o755);
  writeFileSync(file(prefix, server, 'conf'), keepalivedConfig({
    routerId: server, setting, instances: labInstances(server, SERVERS, SERVICE_ADDRESS), notify,
  }));
}

/** A boot of a keepalived server: its stable addresses, then keepalived (VRRP only, in the foreground). */
export async function bootKeepalived(prefix: string, server: Server): Promise<number[]> {
  await ensureAddress(prefix, server, 'sec', SECONDARY_ADDRESS[server]);
  await ensureAddress(prefix, server, 'pri', KEEPALIVED_PRIMARY_ADDRESS[server]);
  const out = openSync(file(prefix, server, 'log'), 'a');
  const vrrpPidFile = file(prefix, server, 'vrrp.pid');
  // keepalived refuses to start while its pid files name a running process; a crash leaves them behind.
  for (const f of [vrrpPidFile, file(prefix, server, 'pid')]) rmSync(f, { force: true });
  const argv = onNode(prefix, server, ['keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp',
    '--use-file', file(prefix, server, 'conf'), '--pid', file(prefix, server, 'pid'), '--vrrp_pid', vrrpPidFile]);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  // nsenter execs keepalived itself: the child's PID is keepalived's; its VRRP process writes its own pid file.
  recordPids(prefix, server, [child.pid!]);
  let vrrp = 0;
  await waitUntil(async () => (vrrp = Number(readFileSync(vrrpPidFile, 'utf8').trim())) > 0, 10_000,
    `keepalived's VRRP process on ${server} (${file(prefix, server, 'log')})`);
  const pids = [child.pid!, vrrp];
  recordPids(prefix, server, pids);
  return pids;
}

/** keepalived's PIDs on the server, as recorded at its last boot ([] after a crash took them). */
export function keepalivedPids(prefix: string, server: Server): number[] {
  return readState(prefix)?.keepalived?.[server] ?? [];
}

/** Forget the PIDs of a server whose processes are gone (a crash), so that nobody later signals a reused PID. */
export function forgetKeepalived(prefix: string, server: Server): void {
  recordPids(prefix, server, []);
}

function recordPids(prefix: string, server: Server, pids: number[]): void {
  const state = readState(prefix)!;
  state.keepalived = { ...state.keepalived, [server]: pids };
  writeState(state);
}

/** labUp's startServers for a keepalived lab: both servers' files written, both booted. */
export function keepalivedServers(setting: KeepalivedSetting): (prefix: string) => Promise<void> {
  return async (prefix) => {
    for (const s of SERVERS) writeKeepalivedFiles(prefix, s, setting);
    // Both at once: a server booted alone becomes master of its partner's address too, and starts its group.
    await Promise.all(SERVERS.map((s) => bootKeepalived(prefix, s)));
  };
}

/** The crashed server comes back: links up, then a boot (keepalived, with the files of its first boot). */
export async function restoreKeepalived(prefix: string, server: Server): Promise<void> {
  await setPort(prefix, server, 'neta', true);
  await setPort(prefix, server, 'netb', true);
  await bootKeepalived(prefix, server);
}
