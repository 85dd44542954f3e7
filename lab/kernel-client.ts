// A Linux kernel NFS client (a lab guest, lab/guest/) as the fault matrix and the benchmarks use it: one guest per
// lab and network, booted once and reused, whose workload is started before each trial and stopped after it, so
// that every trial takes its locks afresh and is judged on its own: failed operations, the longest stall, fsync'ed
// writes lost, the locks kept. The guest's results port is read incrementally (the file grows over a whole matrix),
// and every guest booted here, or still booting, can be killed at once by an interrupted run.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { processAlive } from '../agent/sensors/process-alive.ts';
import { send, type GuestCommand } from './guest/control.ts';
import { DEFAULT_EXPORT, lastConsoleLines, startGuest, stopGuest } from './guest/lifecycle.ts';
import { formatLockVerdict, LOCK_LOOPS, lockVerdictOf, type LockVerdict } from './guest/locks.ts';
import { guestFile, listGuests, type Guest, type GuestNet, type NfsVersion } from './guest/registry.ts';
import { parseOps, report, streamOf, type WorkloadReport } from './guest/results.ts';
import { everyLoopAnswered, phaseReport } from './guest/window.ts';
import { waitUntil } from './wait.ts';

/** The guest workload's loops (lab/guest/init.sh). */
export const KERNEL_LOOPS = ['new files', 'read stream', 'open', ...LOCK_LOOPS];

/** One trial of the kernel client, as the fault matrix reports it. */
export interface KernelClientTrial {
  /** Which guest: name, address, NFS version, export. */
  guest: string;
  ops: number;
  /** Every failed operation, under the locks too. */
  failed: number;
  /** Failed operations outside the lock loops: the client must never see one (a hard mount waits instead). */
  failedOutsideLocks: number;
  /** A few of those, as "op file err". */
  failures: string[];
  /** The longest time between two completed operations of one workload loop (ms), and which loop. */
  longestStallMs: number;
  longestStallLoop: string;
  /** fsync'ed writes read back after the trial (new files, records of the file kept open), and how many were missing or wrong. */
  fsynced: number;
  lost: number;
  /** Both locks (flock, fcntl) held through the trial, every write under them acknowledged and read back. */
  locksKept: boolean;
  /** formatLockVerdict's line: "kept (flock and fcntl)" or what was lost. */
  locks: string;
}

/** What must fail a trial (lost locks are reported, not failed: issue 13, the takeover's grace ends too early). */
export function kernelProblems(t: KernelClientTrial): string[] {
  return [
    ...(t.failedOutsideLocks > 0 ? [`kernel client: ${t.failedOutsideLocks} operations failed outside the locks: ${t.failures.join(', ')}`] : []),
    ...(t.lost > 0 ? [`kernel client: ${t.lost} of ${t.fsynced} fsync'ed writes lost`] : []),
  ];
}

/**
 * A trial judged from the results port's lines since the workload was started (`lines`), the console text the guest
 * printed meanwhile, and the guest's reply to `verify` (`verified files=N bad=M`).
 */
export function judgeTrial(guest: string, lines: string[], consoleText: string, verified: string): KernelClientTrial {
  const ops = parseOps(lines);
  const whole = report(ops);
  const outside = whole.failures.filter((o) => !LOCK_LOOPS.includes(streamOf(o.op)));
  const [, files, bad] = /files=(\d+) bad=(\d+)/.exec(verified) ?? [];
  const open = ops.find((o) => o.op === 'open-verify');
  if (files === undefined || bad === undefined) throw new Error(`kernel client: no read-back of the new files (${verified || 'no reply'})`);
  if (open === undefined) throw new Error('kernel client: the open file was never read back (no op=open-verify)');
  const locks: LockVerdict = lockVerdictOf(consoleText, ops);
  return {
    guest, ops: whole.ops, failed: whole.failed, failedOutsideLocks: outside.length,
    failures: outside.slice(0, 5).map((o) => `${o.op} ${o.file}${o.extra.err ? ` ${o.extra.err}` : ''}`),
    longestStallMs: whole.longestStallMs, longestStallLoop: whole.longestStallStream,
    fsynced: Number(files) + Number(open.extra.records ?? 0), lost: Number(bad) + Number(open.extra.bad ?? 0),
    locksKept: locks.kept, locks: formatLockVerdict(locks),
  };
}

/** The lines of a growing file, read from where the last read ended (a line still being written waits for the next). */
export class LineTail {
  readonly lines: string[] = [];
  private offset = 0;
  private partial = '';

  constructor(private readonly file: string) {}

  read(): string[] {
    if (!existsSync(this.file)) return this.lines;
    const size = statSync(this.file).size;
    if (size <= this.offset) return this.lines;
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.partial + buf.subarray(0, n).toString('latin1').replaceAll('\r', '');
      const cut = text.lastIndexOf('\n');
      this.partial = text.slice(cut + 1);
      if (cut >= 0) this.lines.push(...text.slice(0, cut).split('\n').filter(Boolean));
    } finally {
      closeSync(fd);
    }
    return this.lines;
  }
}

const REPLY: Record<GuestCommand, string> = { start: 'started', stop: 'stopped', verify: 'verified', clean: 'cleaned', poweroff: 'bye' };

export class KernelClient {
  private readonly results: LineTail;
  /** Where the running workload's lines begin, and the console's length then. */
  private trialFrom = 0;
  private consoleFrom = 0;

  private constructor(readonly prefix: string, readonly guest: Guest) {
    this.results = new LineTail(guestFile(prefix, guest.name, 'results.log'));
  }

  /** "g1 (198.51.100.101, NFSv4.1 198.51.100.11:/srv1)" */
  get label(): string {
    return `${this.guest.name} (${this.guest.address.split('/')[0]}, NFSv${this.guest.vers} ${this.guest.server}:${this.guest.export})`;
  }

  /** Its QEMU still runs and the lab still lists it (a lab removed and built again has none). */
  get vers(): NfsVersion {
    return this.guest.vers;
  }

  alive(): boolean {
    return this.guest.pid !== undefined && processAlive(this.guest.pid)
      && listGuests(this.prefix).some((g) => g.name === this.guest.name && g.pid === this.guest.pid);
  }

  lines(): string[] {
    return this.results.read();
  }

  /** Where the results are now: the start of a phase. */
  mark(): number {
    return this.lines().length;
  }

  /** Sends a command and waits for the guest's answer to it, read from the results port. */
  async command(command: GuestCommand, timeoutMs = 60_000): Promise<string> {
    const before = this.mark();
    await send(this.prefix, this.guest.name, command);
    const word = REPLY[command];
    let reply = '';
    await waitUntil(async () => {
      reply = this.lines().slice(before).find((l) => l.startsWith(word) || l.startsWith(`${command}-failed`) || l.startsWith('unknown-command')) ?? '';
      return reply !== '';
    }, timeoutMs, `kernel client ${this.guest.name} answers ${command}`, () => lastConsoleLines(this.prefix, this.guest.name, 5), 100);
    if (!reply.startsWith(word)) throw new Error(`kernel client ${this.guest.name}: ${reply}`);
    return reply;
  }

  /** Waits until every loop of the workload has finished an operation (whatever its result) since line `from`. */
  everyLoopAnswered(from: number, timeoutMs: number): Promise<void> {
    return waitUntil(async () => everyLoopAnswered(this.lines(), from, KERNEL_LOOPS), timeoutMs,
      `every loop of kernel client ${this.guest.name}'s workload answered`, () => lastConsoleLines(this.prefix, this.guest.name, 5), 100);
  }

  /** Waits until every loop of the workload has succeeded `n` times since line `from`. */
  everyLoopSucceeded(from: number, n: number, timeoutMs = 60_000): Promise<void> {
    const counts = () => {
      const ok = new Map<string, number>();
      for (const o of parseOps(this.lines().slice(from))) if (o.ok) ok.set(streamOf(o.op), (ok.get(streamOf(o.op)) ?? 0) + 1);
      return ok;
    };
    return waitUntil(async () => KERNEL_LOOPS.every((l) => (counts().get(l) ?? 0) >= n), timeoutMs,
      `every loop of kernel client ${this.guest.name}'s workload succeeded ${n} times`, () => JSON.stringify(Object.fromEntries(counts())), 200);
  }

  /**
   * Starts the workload and waits until every loop has worked a few times; returns the mark from which the trial
   * counts. Each start writes into a new directory and takes both locks afresh.
   */
  async begin(): Promise<number> {
    this.trialFrom = this.mark();
    this.consoleFrom = consoleSize(this.prefix, this.guest.name);
    await this.command('start');
    for (let i = 0; i < 3; i++) await this.everyLoopAnswered(this.mark(), 30_000);
    return this.mark();
  }

  /** One phase of the running workload, between two marks: its stall is counted from each loop's last operation before it. */
  phase(from: number, to = this.mark()): WorkloadReport {
    const lines = this.lines().slice(this.trialFrom, to);
    return phaseReport(lines, Math.max(0, from - this.trialFrom));
  }

  /** Stops the workload (its loops end, the lock helpers read their records back) without reading the new files back. */
  async halt(): Promise<void> {
    await this.command('stop');
  }

  /** Stops the workload, reads back every fsync'ed write, and judges the trial. */
  async end(): Promise<KernelClientTrial> {
    await this.command('stop');
    const verified = await this.command('verify', 180_000);
    return judgeTrial(this.label, this.lines().slice(this.trialFrom), consoleSince(this.prefix, this.guest.name, this.consoleFrom), verified);
  }

  /** Removes the ended trial's files from the export (after end(): a test may still list them before). */
  async clean(): Promise<void> {
    await this.command('clean', 60_000);
  }

  /** Kills the guest (by its PID) and removes its tap. */
  async shutdown(): Promise<void> {
    clients.delete(key(this.prefix, this.guest.net));
    await stopGuest(this.prefix, this.guest.name);
  }

  /** A new guest mounting `target` (by default the export the lab's server serves on `net`). */
  static async boot(prefix: string, net: GuestNet, vers: NfsVersion = '4.1', target = DEFAULT_EXPORT[net]): Promise<KernelClient> {
    const guest = await startGuest(prefix, { net, vers, ...target });
    return new KernelClient(prefix, guest);
  }
}

function consoleSize(prefix: string, name: string): number {
  const file = guestFile(prefix, name, 'console.log');
  return existsSync(file) ? statSync(file).size : 0;
}

function consoleSince(prefix: string, name: string, from: number): string {
  const file = guestFile(prefix, name, 'console.log');
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, size - from));
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, from)).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

const key = (prefix: string, net: GuestNet) => `${prefix}/${net}`;
/** The guest of each lab and network, kept across trials; and the boots under way, for an interrupted run. */
const clients = new Map<string, KernelClient>();
const booting = new Map<string, { prefix: string; done: Promise<unknown> }>();

/** The lab's kernel client on `net` mounting with `vers`, booted (and its export mounted) if the lab has none yet, lost it, or has one of another version. */
export async function kernelClientIn(prefix: string, net: GuestNet, vers: NfsVersion = '4.1'): Promise<KernelClient> {
  const k = key(prefix, net);
  const known = clients.get(k);
  if (known?.alive() && known.vers === vers) return known;
  if (known) await known.shutdown();
  const boot = KernelClient.boot(prefix, net, vers);
  booting.set(k, { prefix, done: boot.catch(() => {}) });
  try {
    const client = await boot;
    clients.set(k, client);
    return client;
  } finally {
    booting.delete(k);
  }
}

/**
 * Kills every guest booted here, and those still booting (which then fail their wait for the mount): for an
 * interrupted run, before its labs are removed. Their lab's `down` would find the booted ones too; a boot under way
 * could start its QEMU after that.
 */
export async function abortKernelClients(): Promise<void> {
  const prefixes = new Set([...booting.values()].map((b) => b.prefix));
  for (const prefix of prefixes) for (const g of listGuests(prefix)) await stopGuest(prefix, g.name);
  await Promise.all([...booting.values()].map((b) => b.done));
  for (const prefix of prefixes) for (const g of listGuests(prefix)) await stopGuest(prefix, g.name);
  for (const client of [...clients.values()]) await client.shutdown();
}

/** Forgets (and kills) the kernel clients of a lab that is about to be removed. */
export async function dropKernelClients(prefix: string): Promise<void> {
  for (const client of [...clients.values()].filter((c) => c.prefix === prefix)) await client.shutdown();
}
