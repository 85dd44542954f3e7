// Starting and stopping kernel-client guests in a lab that is up: a tap in the network's namespace, enslaved to its
// bridge; QEMU on it; a wait for the guest's `ready` (its export mounted). A guest that does not get there is
// stopped and reported with its last console lines. Stopping kills QEMU by its PID (checked to be ours) and removes
// the tap.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { processAlive } from '../../agent/sensors/process-alive.ts';
import { sh, shQuiet } from '../exec.ts';
import { readState } from '../state.ts';
import { nsName } from '../topology.ts';
import { waitUntil } from '../wait.ts';
import { guestImage } from './initramfs.ts';
import { qemuArgv, qemuName } from './qemu.ts';
import { forgetGuest, guestAddress, guestDir, guestFile, listGuests, saveGuest, type Guest, type GuestNet, type NfsVersion } from './registry.ts';
import { resultLines } from './results.ts';

export interface GuestSpec {
  net: GuestNet;
  /** The NFS server's address and export; by default the export served on the guest's network. */
  server?: string;
  export?: string;
  vers: NfsVersion;
  /** How long boot + mount may take (TCG boots in 4–7 s on an idle machine). */
  timeoutMs?: number;
  /** A kernel NFS server guest (init-server.sh) on this shared disk image, instead of a client. */
  serves?: Guest['serves'];
}

/** What each network serves: server1's /srv1 on net A, server2's /srv2 on net B (their service addresses). */
export const DEFAULT_EXPORT: Record<GuestNet, { server: string; export: string }> = {
  neta: { server: '198.51.100.11', export: '/srv1' },
  netb: { server: '203.0.113.12', export: '/srv2' },
};

/**
 * `server1`, `server2` (the service address each serves its export on) or ADDRESS:/PATH; the address must be on the
 * guest's network: the lab has no routes between its two.
 */
export function parseExport(net: GuestNet, text: string): { server: string; export: string } {
  const named: Record<string, { server: string; export: string }> = { server1: DEFAULT_EXPORT.neta, server2: DEFAULT_EXPORT.netb };
  const [, server, path] = /^([0-9.]+):(\/\S*)$/.exec(text) ?? [];
  const chosen = named[text] ?? (server && path ? { server, export: path } : undefined);
  if (!chosen) throw new Error(`export "${text}": server1, server2 or ADDRESS:/PATH`);
  const onNet = (net === 'neta' ? '198.51.100.' : '203.0.113.');
  if (!chosen.server.startsWith(onNet)) {
    throw new Error(`${chosen.server}:${chosen.export} is not on ${net} (${onNet}0/24), and the lab does not route between its networks`);
  }
  return chosen;
}

export async function startGuest(prefix: string, spec: GuestSpec): Promise<Guest> {
  if (!readState(prefix)) throw new Error(`lab "${prefix}" is not up (scripts/lab up --prefix ${prefix})`);
  const image = await guestImage();
  const index = Math.max(0, ...listGuests(prefix).map((g) => g.index)) + 1;
  const guest: Guest = {
    name: `g${index}`, index, net: spec.net, address: guestAddress(spec.net, index),
    server: spec.server ?? DEFAULT_EXPORT[spec.net].server, export: spec.export ?? DEFAULT_EXPORT[spec.net].export,
    vers: spec.vers, tap: `gt${index}`, ...(spec.serves ? { serves: spec.serves } : {}),
  };
  rmSync(guestDir(prefix, guest.name), { recursive: true, force: true });
  saveGuest(prefix, guest);
  try {
    const ns = nsName(prefix, guest.net);
    await sh(['ip', '-n', ns, 'tuntap', 'add', 'dev', guest.tap, 'mode', 'tap']);
    await sh(['ip', '-n', ns, 'link', 'set', guest.tap, 'master', 'br0', 'up']);
    mkdirSync(guestDir(prefix, guest.name), { recursive: true });
    const log = openSync(guestFile(prefix, guest.name, 'qemu.log'), 'a');
    const argv = qemuArgv(prefix, guest, image);
    const qemu = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
    qemu.unref();
    guest.pid = qemu.pid!;
    saveGuest(prefix, guest);
    await waitReady(prefix, guest, spec.timeoutMs ?? 120_000);
    return guest;
  } catch (err) {
    const console = lastConsoleLines(prefix, guest.name, 25);
    await stopGuest(prefix, guest.name);
    const what = guest.serves ? `kernel NFS server on ${guest.serves.disk}` : `vers=${guest.vers} ${guest.server}:${guest.export}`;
    throw new Error(`guest ${guest.name} (${guest.address}, ${what}): ${(err as Error).message}\n--- last console lines\n${console}`);
  }
}

async function waitReady(prefix: string, guest: Guest, timeoutMs: number): Promise<void> {
  // waitUntil takes a throwing condition for "not yet": a guest that gave up is noted and ends the wait at once.
  let gaveUp = '';
  await waitUntil(async () => {
    const lines = resultLines(prefix, guest.name);
    const failed = lines.find((l) => l.startsWith('failed '));
    if (failed) gaveUp = `the guest says: ${failed}`;
    else if (!processAlive(guest.pid!)) gaveUp = `QEMU exited: ${readText(guestFile(prefix, guest.name, 'qemu.log')).trim() || 'no message'}`;
    return gaveUp !== '' || lines.some((l) => l.startsWith('ready '));
  }, timeoutMs, `guest ${guest.name} booted and mounted ${guest.server}:${guest.export}`, () => '', 200);
  if (gaveUp) throw new Error(gaveUp);
}

function readText(file: string): string {
  return existsSync(file) ? readFileSync(file, 'latin1') : '';
}

export function lastConsoleLines(prefix: string, name: string, n: number): string {
  return readText(guestFile(prefix, name, 'console.log')).replaceAll('\r', '').trimEnd().split('\n').slice(-n).join('\n');
}

/** Kills the guest's QEMU (only if that PID still runs our QEMU), removes its tap and forgets it. */
export async function stopGuest(prefix: string, name: string): Promise<void> {
  const guest = listGuests(prefix).find((g) => g.name === name);
  if (!guest) return;
  if (guest.pid && isOurQemu(prefix, guest)) {
    try {
      process.kill(guest.pid, 'SIGKILL');
    } catch { /* gone */ }
    await waitUntil(async () => !processAlive(guest.pid!), 10_000, `QEMU of ${name} (PID ${guest.pid}) gone`).catch(() => { /* reported below by the tap */ });
  }
  await shQuiet(['ip', '-n', nsName(prefix, guest.net), 'link', 'del', guest.tap]);
  forgetGuest(prefix, name);
}

export async function stopGuests(prefix: string): Promise<void> {
  for (const guest of listGuests(prefix)) await stopGuest(prefix, guest.name);
}

/** A PID may have been recycled since we wrote it down: kill it only if it is still QEMU under our guest's name. */
function isOurQemu(prefix: string, guest: Guest): boolean {
  try {
    const argv = readFileSync(`/proc/${guest.pid}/cmdline`, 'latin1').split('\0');
    return argv.some((a) => a.includes('qemu-system')) && argv.includes(qemuName(prefix, guest));
  } catch {
    return false;
  }
}
