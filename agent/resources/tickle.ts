// Tickle ACKs, as CTDB and Pacemaker's portblock send them: once a service address has moved, every NFS client that
// had a TCP connection to it still believes in that connection and waits for its next retransmission, seconds
// away after an outage (exponential backoff), before it learns that the new owner knows nothing of it. An ACK with
// sequence and acknowledgement 0 from the address's NFS port makes the client's kernel answer at once with an ACK
// of its own; our kernel, which has no such connection, resets it, and the client reconnects and reclaims its
// state while the NFS server's grace period lasts.
import raw from 'raw-socket';
import { IPPROTO_TCP, ipv4Bytes, ipv4Packet, onesComplementSum, rawIpSender, type PacketSender } from '../net/ipv4-packet.ts';
import type { LogFn } from '../ports.ts';
import type { GroupId } from '../core/types.ts';

export interface TcpPeer {
  ip: string;
  port: number;
}

const TCP_HEADER = 20;
const TCP_ACK = 0x10;
/** Linux answers at most one out-of-window segment per connection every 500 ms (tcp_invalid_ratelimit). */
export const TICKLE_SPACING_MS = [0, 600, 1200];

/**
 * The whole IPv4 packet of one tickle ACK from `from` to `to`, sent with IP_HDRINCL because its source is the
 * service address, which the kernel would not pick by itself (it picks the interface's own address). The TCP
 * checksum is ours.
 */
export function tickleAck(from: TcpPeer, to: TcpPeer): Buffer {
  const tcp = Buffer.alloc(TCP_HEADER);
  tcp.writeUInt16BE(from.port, 0);
  tcp.writeUInt16BE(to.port, 2);
  // sequence and acknowledgement stay 0: out of the client's window, which is the point
  tcp[12] = (TCP_HEADER / 4) << 4;
  tcp[13] = TCP_ACK;
  tcp.writeUInt16BE(1234, 14); // window: any
  const pseudo = Uint8Array.from([...ipv4Bytes(from.ip), ...ipv4Bytes(to.ip), 0, IPPROTO_TCP, 0, TCP_HEADER]);
  tcp.writeUInt16BE(~onesComplementSum(tcp, onesComplementSum(pseudo)) & 0xffff, 16);
  return ipv4Packet(from.ip, to.ip, IPPROTO_TCP, tcp);
}

/**
 * Tickles every peer from `server`, TICKLE_SPACING_MS apart, and resolves when the last round is sent (or at once
 * with no peers). A failure is logged once per round and does not stop the rest: a tickle only speeds things up.
 */
export async function tickleClients(
  opts: { group: GroupId; server: TcpPeer; peers: readonly TcpPeer[]; log: LogFn; open?: () => PacketSender; cancelled?: () => boolean },
): Promise<void> {
  const { group, server, peers, log } = opts;
  if (peers.length === 0) return;
  let sender: PacketSender;
  try {
    sender = (opts.open ?? (() => rawIpSender(raw.Protocol.TCP)))();
  } catch (err) {
    log('warn', `tickle ACKs for ${server.ip}: no raw TCP socket (${(err as Error).message}); clients reconnect at their next retransmission`, { event: 'resource', group });
    return;
  }
  try {
    let waited = 0;
    for (const [round, at] of TICKLE_SPACING_MS.entries()) {
      if (at > waited) await new Promise((resolve) => setTimeout(resolve, at - waited));
      waited = at;
      if (opts.cancelled?.()) return;
      const results = await Promise.allSettled(peers.map((peer) => sender.send(tickleAck(server, peer), peer.ip)));
      const failed = results.filter((r) => r.status === 'rejected');
      if (failed.length > 0) {
        const reason = (failed[0] as PromiseRejectedResult).reason as Error;
        log('warn', `tickle ACKs for ${server.ip}, round ${round + 1}: ${failed.length} of ${peers.length} not sent (${reason.message})`, { event: 'resource', group });
      }
    }
    log('info', `tickled ${peers.length} NFS client connection(s) of ${server.ip}`, { event: 'resource', group, clients: peers.length });
  } finally {
    sender.close();
  }
}
