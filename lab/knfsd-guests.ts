// The knfsd profile on real kernel NFS servers: two server guests (lab/guest/init-server.sh) that share one disk
// image, as the pair's dual-ported disk, and an NFS virtual server moved from one to the other when the first is
// powered off, while a kernel NFSv4.1 client guest works on it. Each server runs the knfsd profile's own command
// lines (config/profiles.ts, filled in as the agent fills them) through its control port, in the agent's order:
// journal replay and fsck, mount, the NFSv4 client tracker on the shared disk, the kernel server, the exports, the
// address, ARP, NSM notification. The agent itself does not run in the guests: what is checked here is what the
// profile runs on a kernel server, and what the kernel client sees.
import { sh } from './exec.ts';
import { fillTemplate } from '../agent/exec/templates.ts';
import { defaultCommands } from '../config/profiles.ts';
import { knfsdExportOptions } from '../agent/resources/knfsd.ts';
import { calloutScript, statdPaths } from '../agent/resources/nsm.ts';
import { KernelClient, type KernelClientTrial } from './kernel-client.ts';
import type { WorkloadReport } from './guest/results.ts';
import { probeLocks } from './swarm/in-lab.ts';
import type { ProbeAnswer } from './swarm/lock-probe.ts';
import { startGuest, stopGuest } from './guest/lifecycle.ts';
import { runInGuest, runInGuestOrFail, shellWord, type GuestCommandResult } from './guest/server-commands.ts';
import type { Guest, NfsVersion } from './guest/registry.ts';
import { labPath } from './state.ts';

/** The virtual server: its address on net A (free in the lab: the lab's own servers hold .11 and .12), one export. */
export const KNFSD_VSERVER = { address: '198.51.100.31/24', ip: '198.51.100.31', interface: 'eth0', mountPoint: '/srv/k', device: '/dev/vda', fsType: 'ext4' };
/** Where the kernel server's NFSv4 client records live: on the group's disk, so that they move with it. */
export const TRACKER_DIR = `${KNFSD_VSERVER.mountPoint}/.hanfs/nfsdcld`;
/** The group's NSM list (its NFSv3 lock clients), on its disk too, and the agent's runtime directory in a guest. */
export const NSM_DIR = `${KNFSD_VSERVER.mountPoint}/.hanfs/nsm`;
const GUEST_RUN = '/run/hanfs';
const GROUP = 'vs';

export interface TimedStep {
  step: string;
  ms: number;
}

/** The shared disk: a file holding an ext4 file system, which both server guests open as /dev/vda. */
export async function makeSharedDisk(prefix: string, sizeMiB = 128): Promise<string> {
  const file = labPath(prefix, 'knfsd-disk.img');
  await sh(['truncate', '-s', `${sizeMiB}M`, file]);
  await sh(['mkfs.ext4', '-q', '-F', '-L', 'knfsd', file], { timeoutMs: 60_000 });
  return file;
}

export function bootServerGuest(prefix: string, disk: string, leaseSeconds: number): Promise<Guest> {
  return startGuest(prefix, { net: 'neta', vers: '4.1', serves: { disk, leaseSeconds } });
}

const STATD = statdPaths(GUEST_RUN);
const fill = (name: string, values: Record<string, string>) => fillTemplate(defaultCommands('knfsd')[name]!, values);
const DISK = { device: KNFSD_VSERVER.device, mountPoint: KNFSD_VSERVER.mountPoint, fsType: KNFSD_VSERVER.fsType };
const EXPORT = { options: knfsdExportOptions({ access: 'rw', squash: 'none' }), clients: '*', path: KNFSD_VSERVER.mountPoint };

/** A guest command that waits (up to 10 s) until nfsdcld has a descriptor open whose link contains `what`. */
function waitTrackerFd(what: string): string[] {
  return ['sh', '-c', `for i in $(seq 200); do ls -l /proc/$(pidof nfsdcld)/fd 2>/dev/null | grep -q '${what}' && exit 0; usleep 50000; done; exit 1`];
}

/** The profile's command lines for starting the virtual server, in the agent's order, filled in as the agent fills them. */
export function startSteps(): Array<{ step: string; argv: string[] }> {
  const v = KNFSD_VSERVER;
  const disk = DISK;
  const exp = EXPORT;
  return [
    { step: 'journal replay', argv: fill('journalReplay', disk) },
    { step: 'fsck', argv: fill('fsck', disk) },
    { step: 'mount', argv: fill('mount', disk) },
    // The tracker as the agent runs it (knfsd-tracker.ts): a daemon in the background, watching for the kernel's
    // pipe before the server starts, and holding it once the server uses it.
    { step: 'tracker dir', argv: ['mkdir', '-p', TRACKER_DIR] },
    { step: 'client tracker', argv: ['sh', '-c', '"$@" >/dev/null 2>&1 &', 'tracker', ...fill('clientTracker', { stateDir: TRACKER_DIR })] },
    { step: 'tracker ready', argv: waitTrackerFd('inotify') },
    // NSM as the agent prepares it (nsm.ts): the group's list on its disk, the marker the statd callout follows, the
    // callout itself, and the machine's rpc.statd with it unless one runs (rpcbind runs from the guest's boot).
    { step: 'NSM directories', argv: ['mkdir', '-p', `${NSM_DIR}/sm`, `${NSM_DIR}/sm.bak`, `${GUEST_RUN}/${GROUP}`, `${STATD.stateDir}/sm`, `${STATD.stateDir}/sm.bak`] },
    { step: 'NSM marker', argv: ['sh', '-c', `echo ${NSM_DIR} >${GUEST_RUN}/${GROUP}/nsm-dir`] },
    { step: 'statd callout', argv: ['sh', '-c', `echo ${Buffer.from(calloutScript(GUEST_RUN)).toString('base64')} | base64 -d >${STATD.callout} && chmod 755 ${STATD.callout}`] },
    { step: 'statd', argv: ['sh', '-c', 'pidof rpc.statd >/dev/null || exec "$@"', 'statd', ...fill('statd', STATD)] },
    { step: 'server', argv: fill('serverStart', {}) },
    { step: 'tracker in use', argv: waitTrackerFd('rpc_pipefs/nfsd/cld') },
    { step: 'export', argv: fill('exportAdd', exp) },
    { step: 'address', argv: fill('addressAdd', v) },
    { step: 'ARP', argv: fill('arpAnnounce', v) },
    { step: 'NSM notify', argv: fill('smNotify', { ...v, stateDir: NSM_DIR }) },
  ];
}

/** ... and for stopping it, in reverse: the address first, the disk last. */
export function stopSteps(): Array<{ step: string; argv: string[] }> {
  return [
    { step: 'address', argv: fill('addressDel', KNFSD_VSERVER) },
    { step: 'export', argv: fill('exportRemove', EXPORT) },
    { step: 'server', argv: fill('serverStop', {}) },
    { step: 'NSM marker', argv: ['rm', '-f', `${GUEST_RUN}/${GROUP}/nsm-dir`] },
    // As the agent ends it: its database must be closed before the disk goes.
    { step: 'tracker dir', argv: ['mkdir', '-p', TRACKER_DIR] },
    { step: 'client tracker', argv: ['sh', '-c', 'kill $(pidof nfsdcld) && while pidof nfsdcld >/dev/null; do usleep 20000; done'] },
    { step: 'unmount', argv: fill('umount', DISK) },
  ];
}

/**
 * What a machine of the pair has before it serves anything: the mount point, and a name for the service address
 * (sm-notify sends names only, and refuses an address it cannot resolve).
 */
export async function prepareServer(prefix: string, guest: string): Promise<void> {
  await runInGuestOrFail(prefix, guest, ['mkdir', '-p', KNFSD_VSERVER.mountPoint]);
  await runInGuestOrFail(prefix, guest, ['sh', '-c', `echo 'hosts: files' >/etc/nsswitch.conf; echo '${KNFSD_VSERVER.ip} knfsd-vs' >>/etc/hosts`]);
}

/** Runs the start (or stop) steps on a server guest; returns each step's time. A failed step throws, naming it. */
export async function startVirtualServer(prefix: string, guest: string, steps = startSteps()): Promise<TimedStep[]> {
  const times: TimedStep[] = [];
  for (const { step, argv } of steps) {
    const r: GuestCommandResult = await runInGuest(prefix, guest, argv, 120_000);
    // e2fsck -p: 1 means errors corrected, which a mount can follow (agent/resources/e2fsck.ts).
    const ok = r.code === 0 || (argv[0] === 'e2fsck' && r.code === 1);
    if (!ok) throw new Error(`guest ${guest}, ${step}: ${argv.join(' ')} exited ${r.code}: ${r.output.split('\n').slice(0, 3).join(' | ')}`);
    times.push({ step, ms: r.ms });
  }
  return times;
}

/** The guest's kernel messages about NFSv4 grace and client tracking, each with its kernel timestamp (s). */
export async function graceMessages(prefix: string, guest: string): Promise<string[]> {
  const r = await runInGuest(prefix, guest, ['sh', '-c', 'dmesg | grep -i -E "nfsd|grace|reclaim" | tail -n 30']);
  return r.output.split('\n').filter(Boolean);
}

/** One move of the virtual server, as the kernel client saw it and as the new server's kernel reported its grace. */
export interface KnfsdMove {
  /** The steps run on the old server (failback: its stop) and on the new one (its start), each timed. */
  stopped: TimedStep[];
  started: TimedStep[];
  /** From the old server's power-off (takeover) or the first stop step (failback) to the new server's last step. */
  moveMs: number;
  /** The kernel client's operations during the move, and its longest stall (from the move's start). */
  client: WorkloadReport;
  /** The new server's kernel: `NFSD: ...` lines about tracking and grace. */
  kernel: string[];
  /** Grace ended at the last client's RECLAIM_COMPLETE (the kernel says so), and how long after it began. */
  graceEndedEarly: boolean;
  graceMs: number | null;
  /** The NFSv3 lock clients on the group's NSM list on the new server (sm/ and sm.bak/, after its notification). */
  nsmListed: string[];
  /**
   * A second party (an NFSv4.1 client in client1's namespace, lab/swarm/lock-probe.ts) asking, right after the move,
   * for a conflicting lock on each of the guest's locked files: its answer per file (`locked`: refused, held by the
   * guest), and how many NFS4ERR_GRACE it got first.
   */
  probe: Record<string, ProbeAnswer>;
  /**
   * What the new server's kernel holds on each of the guest's locked files once the guest is back (/proc/locks lines
   * of the file's inode): POSIX locks (NLM's, or NFSv4 LOCKs), or the delegation an NFSv4 client holds them under.
   */
  heldOnServer: Record<string, string[]>;
}

export interface KnfsdTrial {
  takeover: KnfsdMove;
  failback: KnfsdMove;
  /** The whole run of the client's workload, judged: failed operations, fsync'ed writes lost, locks. */
  verdict: KernelClientTrial;
}

/** The /proc/locks lines of a server guest for each file (a path under the export), matched by inode. */
export async function locksOnServer(prefix: string, guest: string, files: readonly string[]): Promise<Record<string, string[]>> {
  const script = `for f in ${files.map((f) => shellWord(`${KNFSD_VSERVER.mountPoint}/${f}`)).join(' ')}; do echo "inode $(stat -c %i "$f")"; done; cat /proc/locks`;
  const lines = (await runInGuestOrFail(prefix, guest, ['sh', '-c', script])).output.split('\n');
  const inodes = lines.filter((l) => l.startsWith('inode ')).map((l) => l.slice('inode '.length));
  const locks = lines.filter((l) => /^\d+:/.test(l));
  return Object.fromEntries(files.map((f, i) => [f, locks.filter((l) => l.split(/\s+/).some((w) => w.endsWith(`:${inodes[i]}`)))]));
}

/** The kernel's grace: `[  16.674652] NFSD: starting 10-second grace period` … `all clients done reclaiming, ending`. */
export function graceOf(kernel: readonly string[]): { graceEndedEarly: boolean; graceMs: number | null } {
  const at = (re: RegExp) => {
    const line = [...kernel].reverse().find((l) => re.test(l));
    const t = line ? /^\[\s*([\d.]+)\]/.exec(line)?.[1] : undefined;
    return t === undefined ? null : Number(t);
  };
  const began = at(/starting \d+-second grace period/);
  const ended = at(/all clients done reclaiming, ending NFSv4 grace period/);
  return { graceEndedEarly: ended !== null, graceMs: began !== null && ended !== null ? Math.round((ended - began) * 1000) : null };
}

/**
 * A takeover and a failback of the knfsd virtual server under a working kernel NFSv4.1 client: server A serves,
 * A is powered off and B takes over at once (detection and fencing are the agent's, and are measured elsewhere:
 * this is the server side of the move), then A boots again and B hands the virtual server back. The lab must be up
 * (its net A carries the guests); every guest started here is stopped by the lab's `down`.
 */
export async function knfsdTrial(prefix: string, leaseSeconds = 10, log: (line: string) => void = () => {}, vers: NfsVersion = '4.1'): Promise<KnfsdTrial> {
  const disk = await makeSharedDisk(prefix);
  const [a, b] = await Promise.all([bootServerGuest(prefix, disk, leaseSeconds), bootServerGuest(prefix, disk, leaseSeconds)]);
  for (const g of [a, b]) await prepareServer(prefix, g.name);
  const first = await startVirtualServer(prefix, a.name);
  log(`${a.name} serves ${KNFSD_VSERVER.ip}:${KNFSD_VSERVER.mountPoint} (start ${sum(first)} ms)`);
  const client = await KernelClient.boot(prefix, 'neta', vers, { server: KNFSD_VSERVER.ip, export: KNFSD_VSERVER.mountPoint });
  await client.begin();
  const dir = [...client.lines()].reverse().find((l) => l.startsWith('started dir='))?.split('dir=/mnt/')[1];
  if (!dir) throw new Error(`kernel client ${client.label}: the workload did not say where it writes`);
  const lockFiles = ['flock.dat', 'fcntl.dat'].map((f) => `${dir}/${f}`);

  const move = async (from: Guest, to: Guest, powerOff: boolean): Promise<KnfsdMove> => {
    const mark = client.mark();
    const began = performance.now();
    const stopped = powerOff ? (await stopGuest(prefix, from.name), []) : await startVirtualServer(prefix, from.name, stopSteps());
    const started = await startVirtualServer(prefix, to.name);
    const moveMs = Math.round(performance.now() - began);
    const [probe] = await Promise.all([
      probeLocks(prefix, KNFSD_VSERVER.mountPoint, lockFiles, 20_000, KNFSD_VSERVER.ip),
      (async () => { for (let i = 0; i < 2; i++) await client.everyLoopAnswered(client.mark(), 120_000); })(),
    ]);
    const kernel = await graceMessages(prefix, to.name);
    const nsmListed = (await runInGuestOrFail(prefix, to.name, ['ls', `${NSM_DIR}/sm`, `${NSM_DIR}/sm.bak`])).output.split('\n').filter((l) => l && !l.endsWith(':'));
    const heldOnServer = await locksOnServer(prefix, to.name, lockFiles);
    return { stopped, started, moveMs, client: client.phase(mark), kernel, ...graceOf(kernel), nsmListed, probe, heldOnServer };
  };
  const takeover = await move(a, b, true);
  log(`takeover: moved in ${takeover.moveMs} ms, client's longest stall ${takeover.client.longestStallMs} ms, grace ${takeover.graceEndedEarly ? `ended after ${takeover.graceMs} ms` : 'ran its length'}`);
  const returned = await bootServerGuest(prefix, disk, leaseSeconds);
  await prepareServer(prefix, returned.name);
  const failback = await move(b, returned, false);
  log(`failback: moved in ${failback.moveMs} ms, client's longest stall ${failback.client.longestStallMs} ms, grace ${failback.graceEndedEarly ? `ended after ${failback.graceMs} ms` : 'ran its length'}`);
  const verdict = await client.end();
  await client.shutdown();
  for (const g of [b, returned]) await stopGuest(prefix, g.name);
  return { takeover, failback, verdict };
}

const sum = (steps: TimedStep[]) => Math.round(steps.reduce((t, s) => t + s.ms, 0));
