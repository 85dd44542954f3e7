// The NFS clients connected to a group's service address, kept where whoever serves the group next can read them:
// a small file on the group's own first disk, beside Ganesha's recovery records. The node serving the group rewrites
// it (atomically, fsync'ed, only when the set changed) once a second while the address is up, and once more as it
// lets the address go; the node that brings the address up next, after a takeover, a failback or a restart, sends
// each recorded connection tickle ACKs (tickle.ts), so that the clients reconnect at once instead of at their next
// TCP retransmission, and reclaim their state within the grace period.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GroupId } from '../core/types.ts';
import { rateLimited, type RateLimitedLog } from '../log.ts';
import { groupConfig, type ResourceContext } from './context.ts';
import { NFS_PORT } from './nfs-profile.ts';
import { connectedPeers, procNetAddresses } from './proc-net-tcp.ts';
import { writeDurably } from './durable-file.ts';
import { addressValues } from './service-ip.ts';
import type { PacketSender } from '../net/ipv4-packet.ts';
import { tickleClients, type TcpPeer } from './tickle.ts';

const RECORD_INTERVAL_MS = 1_000;
const ERROR_LOG_INTERVAL_MS = 60_000;
const RELEASE_WAIT_MS = 1_000;
/**
 * The most connections tickled after a move. The record lives in the exported file system (root's, mode 0600, but
 * an export with squash: none lets a client's root edit it): a forged record must not turn a takeover into a flood
 * of packets at addresses of its choosing. A pair serves far fewer NFS connections than this.
 */
export const MAX_TICKLED = 10_000;

export function clientsFile(ctx: ResourceContext, group: GroupId): string {
  return join(groupConfig(ctx, group).disks[0]!.mountPoint, '.hanfs', 'nfs-clients');
}

/**
 * "198.51.100.101 931" per line; lines that do not parse are left out (the file only speeds reconnection up), and
 * so is everything past the first MAX_TICKLED.
 */
export function parseClients(text: string): TcpPeer[] {
  return text.split('\n').flatMap((line) => {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3}) (\d{1,5})$/.exec(line.trim());
    const port = m ? Number(m[2]) : 0;
    return m && port > 0 && port < 65536 && m[1]!.split('.').every((o) => Number(o) < 256) ? [{ ip: m[1]!, port }] : [];
  }).slice(0, MAX_TICKLED);
}

export function formatClients(peers: readonly TcpPeer[]): string {
  return [...new Set(peers.map((p) => `${p.ip} ${p.port}`))].sort().map((line) => `${line}\n`).join('');
}

/** The peers connected to ip:port in this network namespace. */
export async function connectedClients(ip: string, port: number, proc = '/proc'): Promise<TcpPeer[]> {
  const local = procNetAddresses(ip, port);
  const [tcp, tcp6] = await Promise.all(['tcp', 'tcp6'].map((t) => readFile(`${proc}/net/${t}`, 'utf8').catch(() => '')));
  return [...connectedPeers(tcp!, local.tcp), ...connectedPeers(tcp6!, local.tcp6)];
}

/** "255.255.255.255 65535\n" is 22 bytes: MAX_TICKLED of the longest lines, and no more is read. */
const MAX_RECORD_BYTES = MAX_TICKLED * 22;

async function readHead(file: string, bytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
}

interface Served {
  timer: NodeJS.Timeout;
  /** The record as last written (or as read at resume): a new one is written only when it differs. */
  written: string;
  /** The record being written, if any: a disk that hangs must not pile records up behind it. */
  busy: Promise<void> | null;
  tickles: { cancelled: boolean };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class ClientConnections {
  private readonly served = new Map<GroupId, Served>();
  private readonly ticklesSending = new Set<Promise<void>>();
  private readonly logError: RateLimitedLog;

  constructor(private readonly ctx: ResourceContext, private readonly openSender?: () => PacketSender) {
    this.logError = rateLimited(ctx.log, ERROR_LOG_INTERVAL_MS);
  }

  /**
   * The group's address is up here: tickles the connections recorded by its last server (in the background), then
   * keeps the record of ours. The record is read before the first write of ours replaces it.
   */
  async resume(group: GroupId): Promise<void> {
    if (this.served.has(group)) return;
    const recorded = parseClients(await readHead(clientsFile(this.ctx, group), MAX_RECORD_BYTES).catch(() => ''));
    const tickles = { cancelled: false };
    const server = { ip: addressValues(this.ctx, group).ip, port: NFS_PORT };
    const sending = tickleClients({ group, server, peers: recorded, log: this.ctx.log, open: this.openSender, cancelled: () => tickles.cancelled })
      .finally(() => this.ticklesSending.delete(sending));
    this.ticklesSending.add(sending);
    const timer = setInterval(() => void this.record(group), RECORD_INTERVAL_MS);
    timer.unref();
    this.served.set(group, { timer, written: formatClients(recorded), busy: null, tickles });
  }

  /**
   * The address is about to go: one last record, so that the next server tickles who is connected now. Waits at
   * most RELEASE_WAIT_MS for it: a stop must not hang on a disk that does (the record only speeds clients up).
   */
  async release(group: GroupId): Promise<void> {
    const served = this.served.get(group);
    if (!served) return;
    clearInterval(served.timer);
    served.tickles.cancelled = true;
    this.served.delete(group);
    const last = (served.busy ?? Promise.resolve()).then(() => this.writeRecord(group, served.written));
    await Promise.race([last, delay(RELEASE_WAIT_MS)]);
  }

  /**
   * Records the group's clients once, for a process that does not stay to serve the group (the OCF agent's monitor
   * and stop, each a process of its own under Pacemaker): call it only while the group's address is up here, or the
   * record is emptied.
   */
  async recordOnce(group: GroupId): Promise<void> {
    await this.writeRecord(group, await readHead(clientsFile(this.ctx, group), MAX_RECORD_BYTES).catch(() => ''));
  }

  /** Resolves once no tickle is being sent (records are not waited for: see release). */
  async idle(): Promise<void> {
    while (this.ticklesSending.size > 0) await Promise.all(this.ticklesSending);
  }

  private record(group: GroupId): void {
    const served = this.served.get(group);
    if (!served || served.busy) return;
    served.busy = this.writeRecord(group, served.written).then((written) => { served.written = written; })
      .finally(() => { served.busy = null; });
  }

  /** Writes the clients connected now unless `written` (the record on disk) already says so; returns the record on disk. */
  private async writeRecord(group: GroupId, written: string): Promise<string> {
    try {
      const content = formatClients(await connectedClients(addressValues(this.ctx, group).ip, NFS_PORT));
      if (content === written) return written;
      await writeDurably(clientsFile(this.ctx, group), content);
      return content;
    } catch (err) {
      this.logError(`record:${group}`, 'warn', `recording the NFS clients of ${group} failed: ${(err as Error).message}`, { event: 'resource', group });
      return written;
    }
  }
}
