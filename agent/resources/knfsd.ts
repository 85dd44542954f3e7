// The knfsd profile: the kernel's NFS server, started and stopped with rpc.nfsd, its NFSv4 client records kept by
// nfsdcld on the group's disk (knfsd-tracker.ts), exports added and removed one by one with exportfs, and NFSv3
// lock recovery as Ganesha's NFSv3 groups have it (nsm.ts): the kernel's lockd asks the machine's rpc.statd, whose
// callout copies each client's record onto the group's disk, and after a move sm-notify tells them from the group's
// address, with the group's state number raised, to reclaim their locks. One kernel server serves every
// group this node holds, so it stops only with the last of them; and it has one tracker, the first group's: the
// NFSv4 clients of a second group served beside it (a takeover in a pair where both nodes serve) find no records
// after the move and cannot reclaim, which the start of that group says in the log.
import { readFile } from 'node:fs/promises';
import type { ExportConfig } from '../../config/schema.ts';
import type { GroupId } from '../core/types.ts';
import { commandFailed, commandSucceeded } from '../exec/templates.ts';
import { COMMAND_TIMEOUT_MS, commandArgv, groupConfig, runOrFail, type ResourceContext } from './context.ts';
import { ClientTracker } from './knfsd-tracker.ts';
import type { NfsProfile, ServerHealth } from './nfs-profile.ts';
import { NsmSupport } from './nsm.ts';

/** exportfs -o options of one export: sync, because a reply must not promise data a failover would lose. */
export function knfsdExportOptions(exp: Pick<ExportConfig, 'access' | 'squash'>): string {
  return [exp.access, exp.squash === 'none' ? 'no_root_squash' : 'root_squash', 'sync', 'no_subtree_check'].join(',');
}

function exportValues(exp: ExportConfig): Record<string, string> {
  return { options: knfsdExportOptions(exp), clients: exp.clients, path: exp.path };
}

export class KnfsdProfile implements NfsProfile {
  /** Groups whose NFS server resource is started on this node. */
  private readonly serving = new Set<GroupId>();
  /** The group whose client records the kernel server's tracker keeps, while one runs. */
  private trackerOf: GroupId | null = null;
  constructor(
    private readonly ctx: ResourceContext,
    private readonly tracker: ClientTracker,
    private readonly nsm: NsmSupport,
  ) {}

  async startServer(group: GroupId): Promise<void> {
    // rpcbind before the server (rpc.nfsd registers NFSv3 and lockd with it), statd before any NFSv3 lock.
    await this.nsm.prepare(group);
    const first = this.serving.size === 0;
    if (first) {
      await this.tracker.start(group);
      this.trackerOf = group;
    } else {
      this.ctx.log('warn', `group ${group} is served by the kernel NFS server of group ${[...this.serving].join(', ')}, whose client tracker knows only that group's NFSv4 clients: group ${group}'s cannot reclaim their opens and locks`, { event: 'resource', group });
    }
    const started = await this.ctx.runner.run(commandArgv(this.ctx, 'serverStart', {}), { timeoutMs: COMMAND_TIMEOUT_MS.nfsAdmin });
    try {
      if (!commandSucceeded(started)) throw new Error(commandFailed(started));
      if (first) await this.tracker.confirmInUse(group);
    } catch (err) {
      if (first) await this.stopKernelServer(group);
      throw err;
    }
    this.serving.add(group);
  }

  async stopServer(group: GroupId): Promise<void> {
    this.serving.delete(group);
    await this.nsm.release(group);
    if (this.serving.size > 0) {
      if (this.trackerOf === group) {
        // Its records are on the disk that leaves with the group: the server goes on without a tracker.
        await this.tracker.stop(group);
        this.trackerOf = null;
        this.ctx.log('warn', `kernel NFS server left running for group ${[...this.serving].join(', ')} without an NFSv4 client tracker (it was group ${group}'s): their clients cannot reclaim after the next move`, { event: 'resource', group });
      } else {
        this.ctx.log('info', `kernel NFS server left running for group ${[...this.serving].join(', ')}`, { event: 'resource', group });
      }
      return;
    }
    await this.stopKernelServer(group);
  }

  /** rpc.nfsd 0, then the tracker (it closes its database before the group's disk is unmounted). */
  private async stopKernelServer(group: GroupId): Promise<void> {
    await runOrFail(this.ctx, commandArgv(this.ctx, 'serverStop', {}), COMMAND_TIMEOUT_MS.nfsAdmin);
    await this.tracker.stop(this.trackerOf ?? group);
    this.trackerOf = null;
  }

  /**
   * Nothing: the kernel server's NFSv4 client records live in its own tracker, which hanfs does not read; the guard
   * the Ganesha profile keeps around unreachable moves (ganesha-reclaim.ts) has no counterpart here yet.
   */
  async serviceUp(): Promise<void> {}

  async serviceDown(): Promise<void> {}

  async startExports(group: GroupId): Promise<void> {
    for (const exp of groupConfig(this.ctx, group).exports) {
      await runOrFail(this.ctx, commandArgv(this.ctx, 'exportAdd', exportValues(exp)), COMMAND_TIMEOUT_MS.nfsAdmin);
    }
  }

  async stopExports(group: GroupId): Promise<void> {
    for (const exp of [...groupConfig(this.ctx, group).exports].reverse()) {
      const result = await this.ctx.runner.run(commandArgv(this.ctx, 'exportRemove', exportValues(exp)), { timeoutMs: COMMAND_TIMEOUT_MS.nfsAdmin });
      // exportfs -u of an export that is not there says so ("Could not find '*:/srv' to unexport."): already stopped.
      if (!commandSucceeded(result) && !/could not find/i.test(result.stderr)) throw new Error(commandFailed(result));
    }
  }

  async notifyClients(group: GroupId): Promise<void> {
    await this.nsm.notify(group);
  }

  async stopNotifying(group: GroupId): Promise<void> {
    await this.nsm.endNotifiers(group);
  }

  /** The kernel server runs while it has threads (/proc/fs/nfsd/threads, 0 when stopped, absent without nfsd). */
  async serverState(): Promise<{ running: boolean; problem: string | null }> {
    const threads = Number((await readFile('/proc/fs/nfsd/threads', 'utf8').catch(() => '0')).trim());
    return threads > 0 ? { running: true, problem: null } : { running: false, problem: 'the kernel NFS server has no threads' };
  }

  /** exportfs -o of an export already there updates its options. */
  async reloadExports(group: GroupId): Promise<void> {
    if ((await this.serverState()).running) await this.startExports(group);
  }

  /** The kernel server has no process of its own to watch; its client tracker has (knfsd-tracker.ts). */
  serverHealth(): ServerHealth[] {
    return this.tracker.health();
  }
}
