// The lab pair's configuration, one file per server: the same pair, except for the paths that two agents on one
// host must not share (control socket, state directory, runtime directory).
import { writeFileSync } from 'node:fs';
import { generateSigningKey } from '../agent/net/keys.ts';
import { mailboxOf } from './disks.ts';
import { labPath, type LabState } from './state.ts';
import { LAB_WATCHDOG_MS, watchdogDevice } from './watchdog-board.ts';
import { powerOffArgv } from './mountns.ts';
import { SECONDARY_ADDRESS, SERVICE_ADDRESS } from './topology.ts';


export const SERVERS = ['server1', 'server2'] as const;
export type Server = (typeof SERVERS)[number];

/**
 * Detection 0.5 s; a lease of 3 s lets an agent frozen for 3 × detection resume without any change. The fence
 * command powers off a partner whose machine answers but whose agent does not only after 5 s: an agent that
 * crashed and is restarted by its supervisor (1 s later, then up to 2 s to start on a loaded machine) must be back
 * before that, and adopt what it left running.
 */
export const LAB_TIMING = {
  heartbeatIntervalMs: 100, missesBeforeSuspicion: 5, icmpTimeoutMs: 200, diskIntervalMs: 200,
  diskIoTimeoutMs: 400, diskProbeTimeoutMs: 800, selfFenceLeaseMs: 3000, fenceAfterMs: 5000,
};

/** Each server's agent serves metrics on its own loopback (its own network namespace): scrape it from inside. */
export const METRICS_LISTEN = '127.0.0.1:9405';

export function configPath(prefix: string, server: Server): string {
  return labPath(prefix, `${server}.yaml`);
}

export function srvDir(prefix: string, server: Server): string {
  return labPath(prefix, `srv/${server}`);
}

export function signingKeyPath(prefix: string, server: Server): string {
  return labPath(prefix, `${server}-signing.key`);
}

/** Each server's own signing key, as `hanfs key generate` makes it on a real server; returns their public keys. */
export async function createSigningKeys(prefix: string): Promise<Record<Server, string>> {
  const keys = await Promise.all(SERVERS.map((s) => generateSigningKey(signingKeyPath(prefix, s))));
  return { server1: keys[0]!, server2: keys[1]! };
}

export interface LabNfs {
  leaseSeconds: number;
  graceSeconds: number;
  /** The server whose group serves NFSv3 too (protocols: [3, 4]: NLM, rpcbind and rpc.statd); unset, both NFSv4 only. */
  nfsv3?: Server;
}

/**
 * Lab tuning, not the defaults (10 and 10): with a handful of clients, a 2 s grace lets the tests see a takeover's
 * whole client stall in seconds; Ganesha lifts it early only on its reaper's tick, every lease / 2.
 */
export const LAB_NFS: LabNfs = { leaseSeconds: 2, graceSeconds: 2 };

/**
 * The shortest lease a Linux kernel client lives with, for labs where one sits idle between workloads (the fault
 * matrix). Ganesha 4.3 judges a lease in whole seconds (time(NULL) in nfs4_lease.c), so a client silent for more
 * than lease − 1 s may be expired, and it answers the expired client's next SEQUENCE with NFS4ERR_EXPIRED, which
 * Linux turns into EIO for an operation that holds no state (a stat of the mount's root: seen in the fault matrix
 * with the 2 s lease, 1.3 s after the client's last call). A Linux client that holds no state checks its lease no
 * sooner than 5 s after its last renewal (nfs4renewd.c) and recovers before its next call; so the lease must exceed
 * 6 s. The grace is no shorter than the lease.
 */
export const KERNEL_CLIENT_NFS: LabNfs = { leaseSeconds: 7, graceSeconds: 7 };

/**
 * `timing` replaces the lab's (the benchmarks measure the agent at its defaults too: pass {}); `nfs` likewise.
 * `fenceDevice: false` leaves the fence command out, so that a takeover waits out the partner's lease.
 */
export function writeConfigs(
  state: LabState, publicKeys: Record<Server, string>, reintegrate: 'manual' | 'auto',
  timing: Readonly<Record<string, number>> = LAB_TIMING, nfs: LabNfs = LAB_NFS, fenceDevice = true,
): void {
  const p = state.prefix;
  const node = (s: Server, disk: string, pseudo: string) => `  ${s}:
    publicKey: ${publicKeys[s]}
    primary: { interface: pri, address: ${SERVICE_ADDRESS[s]} }
    secondary: { interface: sec, address: ${SECONDARY_ADDRESS[s]} }
    mailbox: ${state.loops[mailboxOf(s)]}
    disks: [{ device: ${state.loops[disk]}, mountPoint: ${srvDir(p, s)}, fsType: ext4 }]
    exports: [{ path: ${srvDir(p, s)}, pseudo: ${pseudo}, squash: none }]
${nfs.nfsv3 === s ? '    protocols: [3, 4]\n' : ''}`;
  for (const self of SERVERS) {
    writeFileSync(configPath(p, self), `# The namespace lab "${p}", as seen by ${self}'s agent (written by scripts/lab up).
pair: lab
secretFile: ${labPath(p, 'secret')}
signingKeyFile: ${signingKeyPath(p, self)}
# The lab's watchdog hardware: a file the agent pets, watched from outside the server (lab/watchdog-board.ts).
watchdog: { device: ${watchdogDevice(p, self)}, timeoutMs: ${LAB_WATCHDOG_MS} }
stateDir: ${labPath(p, `${self}-state`)}
runDir: ${labPath(p, `${self}-run`)}
controlSocket: ${labPath(p, `${self}.sock`)}
reintegrate: ${reintegrate}
fenceCommand: ${fenceDevice ? `[nsenter, -t, "${state.bmc}", -m, -n, --, ${powerOffArgv(p, self === 'server1' ? 'server2' : 'server1').map((a) => JSON.stringify(a)).join(', ')}]` : 'null'}
timing: { ${Object.entries(timing).map(([k, v]) => `${k}: ${v}`).join(', ')} }
metrics: { listen: "${METRICS_LISTEN}" }
nfs: { profile: ganesha, leaseSeconds: ${nfs.leaseSeconds}, graceSeconds: ${nfs.graceSeconds} }
nodes:
${node('server1', 'disk1', '/srv1')}${node('server2', 'disk2', '/srv2')}`);
  }
}
