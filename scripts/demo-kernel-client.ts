// The demo's second client: a Linux kernel NFSv4.1 client (a lab guest, lab/guest/) with a hard mount of server1's
// export, running the guest workload through the same failover as the libnfs client. It boots and starts working
// before the crash, so that its boot is not part of the timeline; the host marks where each phase begins in its
// results, and at the end the guest stops, reads back everything it was told was fsync'ed, and reports.
import { commandGuest } from '../lab/guest/control.ts';
import { startGuest } from '../lab/guest/lifecycle.ts';
import { lockVerdict, type LockVerdict } from '../lab/guest/locks.ts';
import type { Guest } from '../lab/guest/registry.ts';
import { parseOps, resultLines, type WorkloadReport } from '../lab/guest/results.ts';
import { everyLoopAnswered, phaseReport } from '../lab/guest/window.ts';
import { waitUntil } from '../lab/wait.ts';

/** The guest workload's loops (lab/guest/init.sh). */
const LOOPS = ['new files', 'read stream', 'open', 'flock', 'fcntl'];

export interface KernelClientResult {
  /** fsync'ed writes missing or wrong when read back: new files, and records of the file kept open. */
  lost: number;
  /** fsync'ed writes read back: new files and records of the open file. */
  checked: number;
  locks: LockVerdict;
  whole: WorkloadReport;
}

export class KernelClient {
  private constructor(private readonly prefix: string, readonly guest: Guest) {}

  /** Boots the guest, mounts server1's export, starts the workload and waits until every loop has worked a few times. */
  static async start(prefix: string): Promise<KernelClient> {
    const guest = await startGuest(prefix, { net: 'neta', vers: '4.1' });
    const client = new KernelClient(prefix, guest);
    await commandGuest(prefix, guest.name, 'start');
    for (let i = 0; i < 3; i++) await client.everyLoopAnswered(client.mark(), 30_000);
    return client;
  }

  /** Where the guest's results are now: the start of a phase. */
  mark(): number {
    return resultLines(this.prefix, this.guest.name).length;
  }

  /**
   * Waits until every loop has finished an operation since `from`: a stall still going on when a phase is cut off
   * would otherwise be counted in the next one, or not at all.
   */
  everyLoopAnswered(from: number, timeoutMs: number): Promise<void> {
    return waitUntil(async () => everyLoopAnswered(resultLines(this.prefix, this.guest.name), from, LOOPS), timeoutMs,
      `every loop of the kernel client's workload answered again`, () => '', 100);
  }

  phase(from: number, to: number): WorkloadReport {
    return phaseReport(resultLines(this.prefix, this.guest.name), from, to);
  }

  /** Ends the workload and reads back every fsync'ed write through the (now failed-back) mount. */
  async finish(): Promise<KernelClientResult> {
    await commandGuest(this.prefix, this.guest.name, 'stop');
    const verified = await commandGuest(this.prefix, this.guest.name, 'verify');
    const [, files, bad] = /files=(\d+) bad=(\d+)/.exec(verified) ?? [];
    const ops = parseOps(resultLines(this.prefix, this.guest.name));
    const open = ops.find((o) => o.op === 'open-verify');
    if (files === undefined || open === undefined) throw new Error(`the kernel client did not report its read-back (${verified})`);
    const whole = phaseReport(resultLines(this.prefix, this.guest.name), 0);
    return {
      lost: Number(bad) + Number(open.extra.bad),
      checked: Number(files) + Number(open.extra.records),
      locks: lockVerdict(this.prefix, this.guest.name, ops),
      whole,
    };
  }
}
