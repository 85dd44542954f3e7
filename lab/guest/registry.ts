// What the lab knows about its guests: one JSON file per guest under the lab's run directory, written before its
// tap or its QEMU exists and updated as they appear, so that `scripts/lab down` (and a test's cleanup) can remove
// every one of them even after a start that died half way.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labPath } from '../state.ts';

export type GuestNet = 'neta' | 'netb';
export type NfsVersion = '4.1' | '4.0' | '3';
export const NFS_VERSIONS: readonly NfsVersion[] = ['4.1', '4.0', '3'];

export interface Guest {
  name: string;
  /** 1, 2, ...: picks the guest's address, tap and MAC. */
  index: number;
  net: GuestNet;
  /** With its prefix length, e.g. 198.51.100.101/24. */
  address: string;
  /** The NFS server's address and the exported path, as in `mount SERVER:EXPORT`. */
  server: string;
  export: string;
  vers: NfsVersion;
  /** The tap device in the net's namespace, enslaved to its bridge. */
  tap: string;
  /** QEMU's PID (nsenter execs it: same process), once started. */
  pid?: number;
  /**
   * A kernel NFS server instead of a client (init-server.sh): the shared disk image it sees as /dev/vda, and the
   * NFSv4 lease and grace its nfsd runs with. `server`, `export` and `vers` are then unused.
   */
  serves?: { disk: string; leaseSeconds: number };
}

/**
 * Free addresses of the lab's ranges: the servers hold .11 and .12, client1 .50; guests take .101 upwards. Never
 * anything outside 198.51.100.0/24 and 203.0.113.0/24.
 */
export function guestAddress(net: GuestNet, index: number): string {
  if (index < 1 || index > 99) throw new Error(`guest index ${index}: 1 to 99`);
  return `${net === 'neta' ? '198.51.100' : '203.0.113'}.${100 + index}/24`;
}

export function guestsDir(prefix: string): string {
  return labPath(prefix, 'guests');
}

/** The guest's own directory: console.log, results.log, control.sock, qemu.log. */
export function guestDir(prefix: string, name: string): string {
  return join(guestsDir(prefix), name);
}

export function guestFile(prefix: string, name: string, file: 'console.log' | 'results.log' | 'control.sock' | 'qemu.log'): string {
  return join(guestDir(prefix, name), file);
}

export function saveGuest(prefix: string, guest: Guest): void {
  mkdirSync(guestDir(prefix, guest.name), { recursive: true });
  writeFileSync(join(guestsDir(prefix), `${guest.name}.json`), `${JSON.stringify(guest, null, 2)}\n`);
}

export function forgetGuest(prefix: string, name: string): void {
  rmSync(join(guestsDir(prefix), `${name}.json`), { force: true });
}

export function listGuests(prefix: string): Guest[] {
  const dir = guestsDir(prefix);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Guest)
    .sort((a, b) => a.index - b.index);
}

export function findGuest(prefix: string, name: string): Guest {
  const guest = listGuests(prefix).find((g) => g.name === name);
  if (!guest) throw new Error(`no guest ${name} in lab ${prefix} (guests: ${listGuests(prefix).map((g) => g.name).join(', ') || 'none'})`);
  return guest;
}
