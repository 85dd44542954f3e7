// Whole IPv4 packets for raw sockets with IP_HDRINCL, for what must leave with a source address the kernel would
// not choose: tickle ACKs from a service address (resources/tickle.ts), and the lab's spoofed heartbeats.
import raw from 'raw-socket';
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
const IPV4_HEADER = 20;
const UDP_HEADER = 8;

export function ipv4Bytes(ip: string): number[] {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts;
}

export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The IPv4 header in front of `payload`; the kernel fills in the header checksum and the identification. */
export function ipv4Packet(src: string, dst: string, protocol: number, payload: Buffer): Buffer {
  const packet = Buffer.alloc(IPV4_HEADER + payload.length);
  packet[0] = 0x45; // version 4, 5 words of header
  packet.writeUInt16BE(packet.length, 2);
  packet.writeUInt16BE(0x4000, 6); // don't fragment
  packet[8] = 64; // TTL
  packet[9] = protocol;
  packet.set(ipv4Bytes(src), 12);
  packet.set(ipv4Bytes(dst), 16);
  payload.copy(packet, IPV4_HEADER);
  return packet;
}

/** A UDP datagram in its IPv4 packet; the UDP checksum is left 0 (none), which IPv4 allows. */
export function udpPacket(src: string, srcPort: number, dst: string, dstPort: number, data: Buffer): Buffer {
  const udp = Buffer.alloc(UDP_HEADER + data.length);
  udp.writeUInt16BE(srcPort, 0);
  udp.writeUInt16BE(dstPort, 2);
  udp.writeUInt16BE(udp.length, 4);
  data.copy(udp, UDP_HEADER);
  return ipv4Packet(src, dst, IPPROTO_UDP, udp);
}

/** Sends whole IPv4 packets; a port so that what uses it can be tested without a raw socket. */
export interface PacketSender {
  send(packet: Buffer, to: string): Promise<void>;
  close(): void;
}

/** A raw socket for `protocol` (raw.Protocol.TCP or UDP) that sends packets with their own IPv4 header. */
export function rawIpSender(protocol: number): PacketSender {
  const socket = raw.createSocket({ protocol });
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
