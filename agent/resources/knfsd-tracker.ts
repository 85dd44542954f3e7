// The kernel NFS server's NFSv4 client records, kept on the group's disk so that they move with it. The kernel
// asks a tracker daemon (nfsdcld) at its start which clients may reclaim, and ends grace as soon as the last of them
// has sent RECLAIM_COMPLETE; without one it falls back to a recovery directory on the machine's own disk, which the
// partner never sees: after a takeover it would know no client, skip grace, and refuse every reclaim.
//
// nfsdcld runs in the foreground (-F), started by the agent as a detached daemon like Ganesha, with its database in
// <first disk>/.hanfs/nfsdcld; its PID is kept in the group's run directory so that a restarted agent adopts it. It
// must be watching for the kernel's pipe before the server starts: the kernel waits 1 s for it to open the pipe, and
// nfsdcld opens its database first (lab-measured: 0.1–0.3 s on a slow guest). Once the server has started, the
// tracker must hold the kernel's pipe open: a server that fell back to another tracking method is stopped again.
import { mkdir, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeConfig } from '../../config/schema.ts';
import type { GroupId } from '../core/types.ts';
import { processAlive } from '../sensors/process-alive.ts';
import { commandArgv, groupConfig, type ResourceContext } from './context.ts';
import { spawnDetachedDaemon } from './detached-daemon.ts';
import { terminateProcesses } from './terminate.ts';

/** The kernel's upcall pipe to the tracker (rpc_pipefs), which nfsdcld holds open while the server uses it. */
const TRACKER_PIPE = '/var/lib/nfs/rpc_pipefs/nfsd/cld';
const READY_TIMEOUT_MS = 10_000;
const IN_USE_TIMEOUT_MS = 3_000;
const POLL_MS = 20;
const STOP_GRACE_MS = 5_000;

export function trackerDir(node: Pick<NodeConfig, 'disks'>): string {
  return join(node.disks[0]!.mountPoint, '.hanfs', 'nfsdcld');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the tracker's open files say about it: /proc/PID/fd's links (`anon_inode:inotify`, the pipe's path). */
export async function openFiles(pid: number, proc = '/proc'): Promise<string[]> {
  const dir = `${proc}/${pid}/fd`;
  const fds = await readdir(dir).catch(() => [] as string[]);
  return (await Promise.all(fds.map((fd) => readlink(join(dir, fd)).catch(() => '')))).filter(Boolean);
}

export class ClientTracker {
  /** The tracker this agent started or adopted, per group, while it should run. */
  private readonly pids = new Map<GroupId, number>();

  constructor(
    private readonly ctx: ResourceContext,
    private readonly proc = '/proc',
    private readonly pipe: string = TRACKER_PIPE,
  ) {}

  /** Starts the group's tracker (or adopts the one a previous agent started) and waits until it watches for the kernel. */
  async start(group: GroupId): Promise<void> {
    const node = groupConfig(this.ctx, group);
    const running = await this.running(group);
    if (running !== null) {
      this.ctx.log('info', `NFSv4 client tracker of group ${group} already runs (PID ${running}): adopted`, { event: 'resource', group, pid: running });
      this.pids.set(group, running);
      return;
    }
    await mkdir(trackerDir(node), { recursive: true });
    const started = await spawnDetachedDaemon(commandArgv(this.ctx, 'clientTracker', { stateDir: trackerDir(node) }));
    if ('error' in started) throw new Error(started.error);
    await mkdir(join(this.ctx.runDir, group), { recursive: true });
    await writeFile(this.pidFile(group), `${started.pid}\n`);
    this.pids.set(group, started.pid);
    this.ctx.log('info', `started the NFSv4 client tracker of group ${group} (PID ${started.pid}), records in ${trackerDir(node)}`, { event: 'resource', group, pid: started.pid });
    await this.waitFor(group, started.pid, READY_TIMEOUT_MS, (files) => files.some((f) => f.includes('inotify') || f === this.pipe),
      'watching for the kernel server');
  }

  /** After the kernel server started: it must be using this tracker, or its clients could not reclaim after a move. */
  async confirmInUse(group: GroupId): Promise<void> {
    const pid = await this.running(group);
    if (pid === null) throw new Error(`the NFSv4 client tracker of group ${group} is not running`);
    await this.waitFor(group, pid, IN_USE_TIMEOUT_MS, (files) => files.includes(this.pipe),
      `holding ${this.pipe} (the kernel server tracks its clients some other way: they could not reclaim after a move)`);
  }

  /** Ends the tracker (after the kernel server stopped: it closes its database before the disk goes). */
  async stop(group: GroupId): Promise<void> {
    this.pids.delete(group);
    const pid = await this.running(group);
    if (pid !== null && (await terminateProcesses([pid], STOP_GRACE_MS)).length > 0) {
      throw new Error(`the NFSv4 client tracker of group ${group} (PID ${pid}) still runs after SIGTERM and SIGKILL`);
    }
    await rm(this.pidFile(group), { force: true });
  }

  /**
   * Whether the tracker of each group started here still runs, from /proc only (every tick): one that died leaves
   * the kernel server recording no new client, whose state a move would then lose.
   */
  health(): Array<{ group: GroupId; ok: boolean; detail: string }> {
    return [...this.pids].map(([group, pid]) => {
      const ok = processAlive(pid, this.proc);
      return { group, ok, detail: ok ? `nfsdcld PID ${pid} runs` : `the NFSv4 client tracker of group ${group} (nfsdcld, PID ${pid}) has died` };
    });
  }

  /** The PID in the group's pid file, if that process still runs and is a tracker (a PID may have been reused). */
  async running(group: GroupId): Promise<number | null> {
    const pid = Number((await readFile(this.pidFile(group), 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid, this.proc)) return null;
    const cmdline = await readFile(`${this.proc}/${pid}/cmdline`, 'latin1').catch(() => '');
    const program = commandArgv(this.ctx, 'clientTracker', { stateDir: '' })[0]!;
    return cmdline.split('\0')[0]!.endsWith(program.split('/').at(-1)!) ? pid : null;
  }

  private pidFile(group: GroupId): string {
    return join(this.ctx.runDir, group, 'nfsdcld.pid');
  }

  private async waitFor(group: GroupId, pid: number, timeoutMs: number, ok: (files: string[]) => boolean, what: string): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (!processAlive(pid, this.proc)) throw new Error(`the NFSv4 client tracker of group ${group} (PID ${pid}) exited`);
      if (ok(await openFiles(pid, this.proc))) return;
      if (Date.now() >= until) throw new Error(`the NFSv4 client tracker of group ${group} (PID ${pid}) is not ${what} after ${timeoutMs} ms`);
      await sleep(POLL_MS);
    }
  }
}
