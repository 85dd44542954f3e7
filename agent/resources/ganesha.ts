// The ganesha profile: one NFS-Ganesha process per group (an NFS virtual server bound to the group's service
// address), its exports in its own generated config. An NFSv4-only group needs nothing else: its clients reclaim
// during grace. An NFSv3 group also has NLM, and NSM around it (nsm.ts): the machine's rpcbind and rpc.statd before
// its Ganesha starts, and a reboot notification to its lock clients once its address is up.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { addressOf } from '../../config/ipv4.ts';
import type { GroupId } from '../core/types.ts';
import { commandFailed, commandSucceeded } from '../exec/templates.ts';
import { processAlive } from '../sensors/process-alive.ts';
import { COMMAND_TIMEOUT_MS, commandArgv, groupConfig, runOrFail, type ResourceContext } from './context.ts';
import { spawnDetachedDaemon } from './detached-daemon.ts';
import { ganeshaConfig, ganeshaPaths, recoveryRoot, type GaneshaPaths } from './ganesha-config.ts';
import { dropReclaimList, keepReclaimList, reclaimList, restoreReclaimList } from './ganesha-reclaim.ts';
import { logSize, startupErrors } from './ganesha-log.ts';
import { NFS_PORT, type NfsProfile, type ServerHealth } from './nfs-profile.ts';
import { NsmSupport, servesNfsv3, SYSTEM_RUN, type SystemRun } from './nsm.ts';
import { processListensOn } from './proc-net-tcp.ts';
import { terminateProcesses } from './terminate.ts';

/** Ganesha answers within 0.04–0.2 s here; a server not listening after this is not coming. */
const LISTEN_WAIT_MS = 10_000;
const LISTEN_POLL_MS = 20;
/** Between SIGTERM and SIGKILL at stop; a clean shutdown took about 50 ms in the lab. */
const STOP_GRACE_MS = 5_000;
/**
 * The same for a Ganesha with NLM: its shutdown shuts its RPC services down first, then removes its exports, which
 * unmonitors each lock client with rpc.statd (SM_UNMON) through an RPC client whose replies can no longer arrive:
 * 3 s per client, one after the other (Ganesha 4.3, seen in the lab: "SM_UNMON failed: RPC: Timed out"). Nothing of
 * that is needed (the records stay on the group's disk on purpose, nsm.ts), so it is cut short.
 */
const NLM_STOP_GRACE_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class GaneshaProfile implements NfsProfile {
  /** The Ganesha PID of each group this agent started or adopted, until it stops it. */
  private readonly pids = new Map<GroupId, number>();

  private readonly nsm: NsmSupport;

  constructor(private readonly ctx: ResourceContext, systemRun: SystemRun = SYSTEM_RUN) {
    this.nsm = new NsmSupport(ctx, systemRun);
  }

  async startServer(group: GroupId): Promise<void> {
    const node = groupConfig(this.ctx, group);
    // Also before a Ganesha adopted after an agent restart: the callout's marker and rpc.statd are checked again.
    if (servesNfsv3(node)) await this.nsm.prepare(group);
    const root = recoveryRoot(node);
    const running = await this.findRunning(group);
    if (running !== null) {
      if ((await this.reclaimGuarded(group, 'read the list of clients that may reclaim', () => reclaimList(root))) === null) {
        this.pids.set(group, running);
        this.ctx.log('info', `Ganesha of group ${group} already runs (PID ${running}): adopted`, { event: 'resource', group, pid: running });
        return;
      }
      // Started by an earlier run of this agent and never reachable since (ganesha-reclaim.ts): its grace may be over.
      this.ctx.log('warn', `Ganesha of group ${group} (PID ${running}) runs but its address has not been up since it started: restarting it, so that its clients get a grace period they can reach`, { event: 'resource', group, pid: running });
      await this.terminate(group, running);
    }
    const paths = ganeshaPaths(this.ctx.runDir, group);
    await mkdir(paths.krbDir, { recursive: true });
    // Ganesha creates the levels below its RecoveryRoot, not the root itself.
    await mkdir(root, { recursive: true });
    await this.reclaimGuarded(group, 'put back the clients that may reclaim', async () => {
      const restored = await restoreReclaimList(root);
      if (restored > 0) this.ctx.log('info', `group ${group}: ${restored} client records put back that Ganesha had dropped while no client could reach it`, { event: 'resource', group });
      await keepReclaimList(root);
    });
    await writeFile(paths.configFile, ganeshaConfig(this.ctx.view.pair.nfs, node, paths));
    const logStart = await logSize(paths.logFile);
    const started = await spawnDetachedDaemon(this.startArgv(paths));
    if ('error' in started) throw new Error(started.error);
    this.pids.set(group, started.pid);
    this.ctx.log('info', `started Ganesha of group ${group} (PID ${started.pid})`, { event: 'resource', group, pid: started.pid });
    try {
      await this.waitListening(started.pid, addressOf(node.primary.address), () => startupErrors(paths.logFile, logStart));
    } catch (err) {
      this.pids.delete(group);
      throw err;
    }
  }

  async stopServer(group: GroupId): Promise<void> {
    const pid = await this.findRunning(group);
    if (pid !== null) await this.terminate(group, pid);
    this.pids.delete(group);
    if (pid !== null) await this.forgetConnections(group);
    if (servesNfsv3(groupConfig(this.ctx, group))) await this.nsm.release(group);
    // What it expired while its address was down is put back for the next start, here or on the partner.
    await this.reclaimGuarded(group, 'put back the clients that may reclaim', () => restoreReclaimList(recoveryRoot(groupConfig(this.ctx, group))));
  }

  /** SIGTERM, then SIGKILL past the stop grace; a Ganesha that outlives both is an error. */
  private async terminate(group: GroupId, pid: number): Promise<void> {
    const graceMs = servesNfsv3(groupConfig(this.ctx, group)) ? NLM_STOP_GRACE_MS : STOP_GRACE_MS;
    if ((await terminateProcesses([pid], graceMs)).length > 0) {
      throw new Error(`Ganesha of group ${group} (PID ${pid}) still runs after SIGTERM and SIGKILL`);
    }
    this.pids.delete(group);
  }

  /** The address has gone: no client can reach the server from now until the next start has its address up. */
  async serviceDown(group: GroupId): Promise<void> {
    if ((await this.findRunning(group)) === null) return;
    await this.reclaimGuarded(group, 'keep the list of clients that may reclaim', () => keepReclaimList(recoveryRoot(groupConfig(this.ctx, group))));
  }

  /**
   * The address is up: clients reach the server, and what they may reclaim is its business again. A list kept past
   * this point could later give back a client's record that Ganesha had rightly dropped, so a failure here fails.
   */
  async serviceUp(group: GroupId): Promise<void> {
    await dropReclaimList(recoveryRoot(groupConfig(this.ctx, group)));
  }

  /**
   * Runs one step of keeping the reclaim list (ganesha-reclaim.ts); a failure is logged as an error and the move
   * goes on: Ganesha's own records are still there, and a group not served costs more than a client's reclaim.
   */
  private async reclaimGuarded<T>(group: GroupId, what: string, step: () => Promise<T>): Promise<T | null> {
    try {
      return await step();
    } catch (err) {
      this.ctx.log('error', `group ${group}: could not ${what}: ${(err as Error).message}`, { event: 'resource', group });
      return null;
    }
  }

  /**
   * A stopped Ganesha's TCP connections outlive it in the kernel: its address went first, so their FIN is never
   * answered and they sit in FIN-WAIT-1 for minutes. Should this node bring the address up again meanwhile (the next
   * takeover, soon after a failback), a client reconnecting from its old port (Linux's NFSv3 client and its lock
   * manager keep theirs) reaches that ghost, which answers with ACKs instead of a reset: the client hangs, tickle ACKs
   * and all, until its lock reclaim is too late (seen in the lab on the second takeover of a run). `ss -K` ends them.
   * A failure is logged, not raised: the group is stopped either way.
   */
  private async forgetConnections(group: GroupId): Promise<void> {
    const { address } = groupConfig(this.ctx, group).primary;
    const argv = commandArgv(this.ctx, 'forgetConnections', { address, ip: addressOf(address) });
    const result = await this.ctx.runner.run(argv, { timeoutMs: COMMAND_TIMEOUT_MS.ip });
    if (!commandSucceeded(result)) this.ctx.log('warn', `could not end the old connections of group ${group}: ${commandFailed(result)}`, { event: 'resource', group });
  }

  /** The exports are in the server's own config: they are up exactly when the server is. */
  async startExports(group: GroupId): Promise<void> {
    if ((await this.findRunning(group)) === null) {
      throw new Error(`Ganesha of group ${group} is not running, so neither are its exports`);
    }
  }

  async stopExports(): Promise<void> {}

  /** NFSv4 clients learn of a move by themselves; an NFSv3 group's lock clients are told (sm-notify). */
  async notifyClients(group: GroupId): Promise<void> {
    if (servesNfsv3(groupConfig(this.ctx, group))) await this.nsm.notify(group);
  }

  async stopNotifying(group: GroupId): Promise<void> {
    if (servesNfsv3(groupConfig(this.ctx, group))) await this.nsm.endNotifiers(group);
  }

  serverHealth(): ServerHealth[] {
    return [...this.pids].map(([group, pid]) => {
      const ok = processAlive(pid);
      return { group, ok, detail: ok ? `Ganesha PID ${pid} runs` : `Ganesha of group ${group} (PID ${pid}) has died` };
    });
  }

  async serverState(group: GroupId, deep: boolean): Promise<{ running: boolean; problem: string | null }> {
    const pid = await this.findRunning(group);
    if (pid === null) return { running: false, problem: `Ganesha of group ${group} is not running` };
    if (!deep) return { running: true, problem: null };
    const ip = addressOf(groupConfig(this.ctx, group).primary.address);
    return (await processListensOn(pid, ip, NFS_PORT))
      ? { running: true, problem: null }
      : { running: true, problem: `Ganesha of group ${group} (PID ${pid}) runs but does not listen on ${ip}:${NFS_PORT}` };
  }

  /** The config file written again from the configuration as it is now, then the reloadExports command (SIGHUP). */
  async reloadExports(group: GroupId): Promise<void> {
    const pid = await this.findRunning(group);
    if (pid === null) return;
    const paths = ganeshaPaths(this.ctx.runDir, group);
    await writeFile(paths.configFile, ganeshaConfig(this.ctx.view.pair.nfs, groupConfig(this.ctx, group), paths));
    await runOrFail(this.ctx, commandArgv(this.ctx, 'reloadExports', { pid: String(pid) }), COMMAND_TIMEOUT_MS.nfsAdmin);
  }

  private startArgv(paths: GaneshaPaths): string[] {
    return commandArgv(this.ctx, 'start', { configFile: paths.configFile, logFile: paths.logFile, pidFile: paths.pidFile });
  }

  /**
   * The live Ganesha of this group: the PID we remember or the one in its pid file (after an agent restart), if
   * that process runs the start command's program with this group's config file (a PID may have been reused).
   */
  private async findRunning(group: GroupId): Promise<number | null> {
    const paths = ganeshaPaths(this.ctx.runDir, group);
    const program = this.startArgv(paths)[0] ?? '';
    const fromPidFile = Number((await readFile(paths.pidFile, 'utf8').catch(() => '')).trim());
    for (const pid of new Set([this.pids.get(group), fromPidFile])) {
      if (pid !== undefined && processAlive(pid) && (await runsProgram(pid, program, paths.configFile))) return pid;
    }
    return null;
  }

  /** Until the new server listens on its address; if it exits or never listens, fails with what its log says. */
  private async waitListening(pid: number, ip: string, logErrors: () => Promise<string>): Promise<void> {
    const until = Date.now() + LISTEN_WAIT_MS;
    for (;;) {
      if (!processAlive(pid)) throw new Error(`Ganesha (PID ${pid}) exited while starting; ${await logErrors()}`);
      if (await processListensOn(pid, ip, NFS_PORT)) return;
      if (Date.now() >= until) {
        await terminateProcesses([pid], STOP_GRACE_MS);
        throw new Error(`Ganesha (PID ${pid}) was not listening on ${ip}:${NFS_PORT} after ${LISTEN_WAIT_MS / 1000} s; ${await logErrors()}`);
      }
      await sleep(LISTEN_POLL_MS);
    }
  }
}

async function runsProgram(pid: number, program: string, configFile: string): Promise<boolean> {
  const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  return basename(args[0] ?? '') === basename(program) && args.includes(configFile);
}
