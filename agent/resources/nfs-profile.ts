// What differs between the two NFS servers a pair can run (config nfs.profile): how the server of a group starts
// and stops, where its exports come from, and whether clients must be told of a restart through NSM.
import type { GroupId } from '../core/types.ts';

/** The port both servers serve NFS on: what Ganesha must listen on, and where its clients' connections go. */
export const NFS_PORT = 2049;

export interface ServerHealth {
  group: GroupId;
  ok: boolean;
  detail: string;
}

export interface NfsProfile {
  startServer(group: GroupId): Promise<void>;
  stopServer(group: GroupId): Promise<void>;
  /** The group's address is up here: its clients can reach the server (after the service_ip step's start). */
  serviceUp(group: GroupId): Promise<void>;
  /** The group's address has gone from here: no client reaches the server until the next one's address is up. */
  serviceDown(group: GroupId): Promise<void>;
  startExports(group: GroupId): Promise<void>;
  stopExports(group: GroupId): Promise<void>;
  /** Tells NFS clients that the group's server restarted, so that they reclaim their locks. */
  notifyClients(group: GroupId): Promise<void>;
  /** Ends what notifyClients left running for the group (a notifier still retrying), as the group leaves this node. */
  stopNotifying(group: GroupId): Promise<void>;
  /** Whether the server process of each group this agent runs is alive: from /proc only, called on every tick. */
  serverHealth(): ServerHealth[];
  /**
   * Whether the group's NFS server runs on this node, found afresh (not from what this process started): for an
   * outside manager's monitor. `deep` also asks whether it listens on the group's address. A problem, or null.
   */
  serverState(group: GroupId, deep: boolean): Promise<{ running: boolean; problem: string | null }>;
  /** Applies the group's exports as the configuration now has them to its running server; nothing if it does not run. */
  reloadExports(group: GroupId): Promise<void>;
}
