// The resource layer for real runs: carries out each start and stop of a group's resources on this machine, like
// Pacemaker's OCF agents (a start of a started resource and a stop of a stopped one succeed at once), and reports
// a failure as one line saying what failed and how. Which NFS server runs is the pair's nfs.profile.
import { performance } from 'node:perf_hooks';
import type { GroupId, ResourceKind } from '../core/types.ts';
import type { PairView } from '../pair-view.ts';
import type { CommandRunner, LogFn, ResourceDriver } from '../ports.ts';
import { ServiceAddressWatch, type InterfaceLister } from './address-watch.ts';
import { ArpAnnouncer } from './arp-announce.ts';
import type { ResourceContext } from './context.ts';
import { mountDisks, replayLogs, unmountDisks } from './disks.ts';
import { inspectGroup, type GroupState } from './group-state.ts';
import { ClientConnections } from './nfs-clients.ts';
import { GaneshaProfile } from './ganesha.ts';
import { KnfsdProfile } from './knfsd.ts';
import { ClientTracker } from './knfsd-tracker.ts';
import type { NfsProfile } from './nfs-profile.ts';
import { NsmSupport, type SystemRun } from './nsm.ts';
import type { PacketSender } from '../net/ipv4-packet.ts';
import { addServiceAddress, removeServiceAddress } from './service-ip.ts';

export interface SystemResourcesOptions {
  view: PairView;
  runner: CommandRunner;
  log: LogFn;
  /** Per-agent runtime directory for generated files: Ganesha's config, log and pid file, one folder per group. */
  runDir: string;
  /** Tests only: where tickle ACKs go instead of a raw socket. */
  openTickleSender?: () => PacketSender;
  /** Tests only: where rpcbind's socket and rpc.statd's pid file are looked for, instead of /run. */
  systemRun?: SystemRun;
  /** Tests only: the file a knfsd client tracker holds open once the kernel server uses it, instead of its rpc_pipefs pipe. */
  trackerPipe?: string;
  /** Tests only: the interfaces and their addresses, instead of this machine's (os.networkInterfaces). */
  listInterfaces?: InterfaceLister;
}

export interface ResourceHealth {
  group: GroupId;
  resource: string;
  ok: boolean;
  detail: string;
}

type Action = (group: GroupId) => Promise<void>;

export class SystemResources implements ResourceDriver {
  private readonly ctx: ResourceContext;
  private readonly nfs: NfsProfile;
  private readonly arp: ArpAnnouncer;
  private readonly clients: ClientConnections;
  private readonly addresses: ServiceAddressWatch;
  /** The name the core gave each group's nfs_server resource, for the health reports of monitor(). */
  private readonly serverResource = new Map<GroupId, string>();
  private readonly actions: Record<ResourceKind, { start: Action; stop: Action }>;

  constructor(opts: SystemResourcesOptions) {
    this.ctx = { view: opts.view, runner: opts.runner, log: opts.log, runDir: opts.runDir };
    this.nfs = opts.view.pair.nfs.profile === 'ganesha' ? new GaneshaProfile(this.ctx, opts.systemRun) : new KnfsdProfile(this.ctx, new ClientTracker(this.ctx, '/proc', opts.trackerPipe), new NsmSupport(this.ctx, opts.systemRun));
    this.arp = new ArpAnnouncer(this.ctx);
    this.clients = new ClientConnections(this.ctx, opts.openTickleSender);
    this.addresses = new ServiceAddressWatch(this.ctx, opts.listInterfaces);
    const nothing: Action = async () => {};
    this.actions = {
      log_replay: { start: (g) => replayLogs(this.ctx, g), stop: nothing },
      filesystem: { start: (g) => mountDisks(this.ctx, g), stop: (g) => unmountDisks(this.ctx, g) },
      nfs_server: { start: (g) => this.nfs.startServer(g), stop: (g) => this.nfs.stopServer(g) },
      exports: { start: (g) => this.nfs.startExports(g), stop: (g) => this.nfs.stopExports(g) },
      service_ip: {
        start: async (g) => { await addServiceAddress(this.ctx, g); await this.nfs.serviceUp(g); },
        stop: async (g) => { await removeServiceAddress(this.ctx, g); await this.nfs.serviceDown(g); },
      },
      // Once the address is up: announce it, and tell its NFS clients (tickle ACKs) to reconnect now.
      arp: {
        start: async (g) => { this.arp.announce(g); await this.clients.resume(g); },
        stop: async (g) => { this.arp.cancel(g); await this.clients.release(g); },
      },
      nsm_notify: { start: (g) => this.nfs.notifyClients(g), stop: (g) => this.nfs.stopNotifying(g) },
    };
  }

  async run(group: GroupId, resource: string, kind: ResourceKind, op: 'start' | 'stop'): Promise<{ ok: boolean; error?: string }> {
    const started = performance.now();
    const fields = { event: 'resource', group, resource, kind, op };
    // An address on its way out is no longer watched, whether or not its stop succeeds.
    if (kind === 'service_ip' && op === 'stop') this.addresses.forget(group);
    try {
      await this.actions[kind][op](group);
      if (kind === 'nfs_server') this.trackServer(group, resource, op);
      if (kind === 'service_ip' && op === 'start') this.addresses.watch(group, resource);
      const ms = Math.round(performance.now() - started);
      this.ctx.log('info', `${op} ${group}/${resource}: done in ${ms} ms`, { ...fields, durationMs: ms });
      return { ok: true };
    } catch (err) {
      // One line, whatever the cause: a failed command, a file that cannot be read, a bad template.
      const error = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' | ');
      this.ctx.log('error', `${op} ${group}/${resource} failed: ${error}`, fields);
      return { ok: false, error };
    }
  }

  /**
   * The NFS server of each group started here that has died since, from /proc only, and each service address held
   * here that has gone (address-watch.ts): no child process, cheap enough for every tick of the agent, which
   * restarts a failed resource.
   */
  monitor(): ResourceHealth[] {
    const servers = this.nfs.serverHealth().map(({ group, ok, detail }) => ({
      group, resource: this.serverResource.get(group) ?? 'nfs_server', ok, detail,
    }));
    return [...servers, ...this.addresses.check().map((gone) => ({ ...gone, ok: false }))];
  }

  /** What of the group runs here, found afresh (group-state.ts): for an outside cluster manager's monitor. */
  inspect(group: GroupId, depth: number, skip: readonly ResourceKind[] = []): Promise<GroupState> {
    return inspectGroup(this.ctx, this.nfs, group, depth, skip);
  }

  /** Applies the group's exports as the configuration has them now to its running NFS server. */
  reloadExports(group: GroupId): Promise<void> {
    return this.nfs.reloadExports(group);
  }

  /** Records the NFS clients of a group running here (see ClientConnections.recordOnce). */
  recordClients(group: GroupId): Promise<void> {
    return this.clients.recordOnce(group);
  }

  /** Resolves when the background work (gratuitous ARP series, tickle ACKs) is over: before the agent exits. */
  async idle(): Promise<void> {
    await Promise.all([this.arp.idle(), this.clients.idle()]);
  }

  private trackServer(group: GroupId, resource: string, op: 'start' | 'stop'): void {
    if (op === 'start') this.serverResource.set(group, resource);
    else this.serverResource.delete(group);
  }
}
