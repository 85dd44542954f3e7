// The knfsd profile: the kernel's NFS server, started and stopped with rpc.nfsd, exports added and removed one by
// one with exportfs, and NSM reboot notifications with sm-notify (NFSv3 clients reclaim their locks on them).
// One kernel server serves every group this node holds, so it stops only with the last of them.
import { readFile } from 'node:fs/promises';
import { addressOf } from '../../config/ipv4.ts';
import type { ExportConfig } from '../../config/schema.ts';
import type { GroupId } from '../core/types.ts';
import { commandFailed, commandSucceeded } from '../exec/templates.ts';
import { COMMAND_TIMEOUT_MS, commandArgv, groupConfig, runOrFail, type ResourceContext } from './context.ts';
import type { NfsProfile, ServerHealth } from './nfs-profile.ts';

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

  constructor(private readonly ctx: ResourceContext) {}

  async startServer(group: GroupId): Promise<void> {
    await runOrFail(this.ctx, commandArgv(this.ctx, 'serverStart', {}), COMMAND_TIMEOUT_MS.nfsAdmin);
    this.serving.add(group);
  }

  async stopServer(group: GroupId): Promise<void> {
    this.serving.delete(group);
    if (this.serving.size > 0) {
      this.ctx.log('info', `kernel NFS server left running for group ${[...this.serving].join(', ')}`, { event: 'resource', group });
      return;
    }
    await runOrFail(this.ctx, commandArgv(this.ctx, 'serverStop', {}), COMMAND_TIMEOUT_MS.nfsAdmin);
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
    // sm-notify -v takes the address to send from, without a prefix length.
    const ip = addressOf(groupConfig(this.ctx, group).primary.address);
    await runOrFail(this.ctx, commandArgv(this.ctx, 'notify', { address: ip, ip }), COMMAND_TIMEOUT_MS.nfsAdmin);
  }

  /** sm-notify keeps no state of its own here: the kernel server's /var/lib/nfs is the machine's. */
  async stopNotifying(): Promise<void> {}

  /** The kernel server runs while it has threads (/proc/fs/nfsd/threads, 0 when stopped, absent without nfsd). */
  async serverState(): Promise<{ running: boolean; problem: string | null }> {
    const threads = Number((await readFile('/proc/fs/nfsd/threads', 'utf8').catch(() => '0')).trim());
    return threads > 0 ? { running: true, problem: null } : { running: false, problem: 'the kernel NFS server has no threads' };
  }

  /** exportfs -o of an export already there updates its options. */
  async reloadExports(group: GroupId): Promise<void> {
    if ((await this.serverState()).running) await this.startExports(group);
  }

  /** The kernel server has no process of its own to watch. */
  serverHealth(): ServerHealth[] {
    return [];
  }
}
