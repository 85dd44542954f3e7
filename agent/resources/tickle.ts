// Tickle ACKs, as CTDB and Pacemaker's portblock send them: once a service address has moved, every NFS client that
// had a TCP connection to it still believes in that connection and waits for its next retransmission, seconds
// away after an outage (exponential backoff), before it learns that the new owner knows nothing of it. An ACK with
// sequence and acknowledgement 0 from the address's NFS port makes the client's kernel answer at once with an ACK
// of its own; our kernel, which has no such connection, resets it, and the client reconnects and reclaims its
// state while the NFS server's grace period lasts.
import raw from 'raw-socket';
import type { LogFn } from '../ports.ts';
import type { GroupId } from '../core/types.ts';

export interface TcpPeer {
  ip: string;
  port: number;
}

const IPV4_HEADER = 20;
const TCP_HEADER = 20;
const TCP_ACK = 0x10;
/** Linux answers at most one out-of-window segment per connection every 500 ms (tcp_invalid_ratelimit). */
export const TICKLE_SPACING_MS = [0, 600, 1200];

function ipv4Bytes(ip: string): number[] {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts;
}

function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * The whole IPv4 packet of one tickle ACK from `from` to `to`, sent with IP_HDRINCL because its source is the
 * service address, which the kernel would not pick by itself (it picks the interface's own address). The kernel
 * fills in the IP checksum and identification; the TCP checksum is ours.
 */
export function tickleAck(from: TcpPeer, to: TcpPeer): Buffer {
  const packet = Buffer.alloc(IPV4_HEADER + TCP_HEADER);
  const src = ipv4Bytes(from.ip);
  const dst = ipv4Bytes(to.ip);
  packet[0] = 0x45; // version 4, 5 words of header
  packet.writeUInt16BE(packet.length, 2);
  packet.writeUInt16BE(0x4000, 6); // don't fragment
  packet[8] = 64; // TTL
  packet[9] = 6; // TCP
  packet.set(src, 12);
  packet.set(dst, 16);
  const tcp = packet.subarray(IPV4_HEADER);
  tcp.writeUInt16BE(from.port, 0);
  tcp.writeUInt16BE(to.port, 2);
  // sequence and acknowledgement stay 0: out of the client's window, which is the point
  tcp[12] = (TCP_HEADER / 4) << 4;
  tcp[13] = TCP_ACK;
  tcp.writeUInt16BE(1234, 14); // window: any
  const pseudo = Uint8Array.from([...src, ...dst, 0, 6, 0, TCP_HEADER]);
  tcp.writeUInt16BE(~onesComplementSum(tcp, onesComplementSum(pseudo)) & 0xffff, 16);
  return packet;
}

/** Sends packets; a port so that the schedule and the logging can be tested without a raw socket. */
export interface PacketSender {
  send(packet: Buffer, to: string): Promise<void>;
  close(): void;
}

export function rawTcpSender(): PacketSender {
  const socket = raw.createSocket({ protocol: raw.Protocol.TCP });
  socket.pauseRecv();
  // Without an 'error' listener a socket error would be thrown out of the event loop.
  socket.on('error', () => {});
  socket.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
  return {
    send: (packet, to) => new Promise((resolve, reject) => {
      socket.send(packet, 0, packet.length, to, (error) => (error ? reject(error) : resolve()));
    }),
    close: () => socket.close(),
  };
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
    sender = (opts.open ?? rawTcpSender)();
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
