// TCP sockets in this process's network namespace, from /proc/net/tcp and /proc/net/tcp6 (no `ss` child process):
// whether a process listens on an address and port, and which peers are connected to one. Ganesha binds an IPv6 socket even for an IPv4 Bind_addr, so its socket
// shows in tcp6 with the v4-mapped address ::ffff:a.b.c.d; both tables are read. The socket must also belong to
// the process asked about: a leftover server on the same address would otherwise pass for the new one.
import { readdir, readlink, readFile } from 'node:fs/promises';
import { endianness } from 'node:os';

const LISTEN = '0A';
const ESTABLISHED = '01';

/** The kernel prints each 32-bit word of an address as %08X of the value in host byte order. */
function word(octets: readonly number[]): string {
  const ordered = endianness() === 'LE' ? [...octets].reverse() : octets;
  return ordered.map((o) => o.toString(16).padStart(2, '0')).join('').toUpperCase();
}

/** The first three words of a v4-mapped IPv6 address (::ffff:a.b.c.d). */
const V4_MAPPED = `${word([0, 0, 0, 0])}${word([0, 0, 0, 0])}${word([0, 0, 0xff, 0xff])}`;

/** How an IPv4 address and port read in /proc/net/tcp and, v4-mapped, in /proc/net/tcp6. */
export function procNetAddresses(ip: string, port: number): { tcp: string; tcp6: string } {
  const octets = ip.split('.').map(Number);
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return {
    tcp: `${word(octets)}:${hexPort}`,
    tcp6: `${V4_MAPPED}${word(octets)}:${hexPort}`,
  };
}

/** The IPv4 address and port of a /proc/net/tcp* address field; null for an IPv6 address that is not v4-mapped. */
export function decodeProcNetAddress(field: string): { ip: string; port: number } | null {
  const m = /^([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4})$/i.exec(field);
  if (!m) return null;
  const hex = m[1]!.toUpperCase();
  if (hex.length === 32 && hex.slice(0, 24) !== V4_MAPPED) return null;
  const v4 = hex.slice(-8);
  const bytes = [0, 2, 4, 6].map((i) => parseInt(v4.slice(i, i + 2), 16));
  const octets = endianness() === 'LE' ? bytes.reverse() : bytes;
  return { ip: octets.join('.'), port: parseInt(m[2]!, 16) };
}

/** The remote ends of the ESTABLISHED connections to `local` (as procNetAddresses writes it) in one table. */
export function connectedPeers(table: string, local: string): Array<{ ip: string; port: number }> {
  const peers: Array<{ ip: string; port: number }> = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== local || fields[3] !== ESTABLISHED) continue;
    const peer = decodeProcNetAddress(fields[2] ?? '');
    if (peer) peers.push(peer);
  }
  return peers;
}

/** Socket inodes in LISTEN state on `local` in one /proc/net/tcp* table. */
export function listeningInodes(table: string, local: string): string[] {
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
    const fields = line.trim().split(/\s+/);
    if (fields[1] === local && fields[3] === LISTEN && fields[9]) inodes.push(fields[9]);
  }
  return inodes;
}

export async function processListensOn(pid: number, ip: string, port: number, proc = '/proc'): Promise<boolean> {
  const local = procNetAddresses(ip, port);
  const tables = await Promise.all(['tcp', 'tcp6'].map((t) => readFile(`${proc}/net/${t}`, 'utf8').catch(() => '')));
  const inodes = new Set([...listeningInodes(tables[0]!, local.tcp), ...listeningInodes(tables[1]!, local.tcp6)]);
  if (inodes.size === 0) return false;
  const fds = await readdir(`${proc}/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => '');
    if (inodes.has(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? '')) return true;
  }
  return false;
}
