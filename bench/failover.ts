// One failover trial: server1 crashes (links cut, every process killed, addresses and mounts gone) at a random
// instant within a heartbeat or advertisement interval, while client1 writes and reads server1's export every
// 100 ms; measured: crash → server1's address answering from server2, crash → the client's first write + read-back
// begun after the crash; then server1 comes back and takes its group back (hanfs: reintegrate), which is measured too.
// A Linux kernel NFSv4.1 client (a lab guest on net A, hard mount of server1's export) runs its workload through the
// trial, started afresh before it: its longest stall around the crash and around the failback.
// With a quiet time, client1's libnfs writer falls silent that long before the crash and before the failback, so
// that its NFSv4.0 clients (a new one per operation, never reclaiming) are off the record when the group moves and
// the kernel client is the only client the new Ganesha waits for: a site whose clients are all NFSv4.1.
import { Prng } from '../agent/sim/prng.ts';
import { powerOff } from '../lab/agents.ts';
import type { Writer } from '../lab/client.ts';
import { LOCK_LOOPS } from '../lab/guest/locks.ts';
import { streamOf, type WorkloadReport } from '../lab/guest/results.ts';
import type { KernelClient } from '../lab/kernel-client.ts';
import type { Phase } from '../lab/phases.ts';
import { graceOnServer, type GraceSeen } from './grace.ts';
import { addressAnsweredBy } from './probe.ts';
import { failedSteps, type BenchSystem, type Recovery } from './systems.ts';

/** The kernel client in one phase of a trial. */
export interface KernelPhase {
  /** The longest time one of its workload loops waited between two completed operations (ms), and which loop. */
  stallMs: number;
  stallLoop: string;
  ops: number;
  /** Failed operations outside the lock loops (a hard mount waits instead of failing). */
  failedOutsideLocks: number;
}

export interface KernelFailover {
  guest: string;
  /** From the crash until every loop has answered again after the libnfs client's first read. */
  crash: KernelPhase | null;
  /** From the command that brings server1 back until every loop has answered again once both serve their own. */
  failback: KernelPhase | null;
  /** Why a phase has no figure. */
  error?: string;
}

export interface FailoverTrial {
  system: string;
  trial: number;
  /** Where in the interval the crash fell: ms after the trial's start. */
  crashDelayMs: number;
  addressMs: number | null;
  readMs: number | null;
  phases: Phase[];
  recovery: Recovery;
  /** Resource steps that failed during the trial (failover and recovery), on either server. */
  failedSteps: string[];
  error?: string;
  /** Absent in results from before the kernel client, and when it was turned off. */
  kernel?: KernelFailover;
  /** The grace period of the Ganesha that took the group over, and of the one that took it back (absent in older results). */
  grace?: { takeover: GraceSeen | null; failback: GraceSeen | null };
}

export function kernelPhase(r: WorkloadReport): KernelPhase {
  return {
    stallMs: r.longestStallMs, stallLoop: r.longestStallStream, ops: r.ops,
    failedOutsideLocks: r.failures.filter((o) => !LOCK_LOOPS.includes(streamOf(o.op))).length,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const FAILOVER_TIMEOUT_MS = 60_000;

/**
 * The kernel client's phase that began at line `from`, once each of its loops has finished an operation begun after
 * now (a stall still going on would otherwise be cut off); null and a reason if it does not come back in time.
 */
async function kernelPhaseSince(kernel: KernelClient, from: number, errors: string[], what: string): Promise<KernelPhase | null> {
  try {
    await kernel.everyLoopAnswered(kernel.mark(), FAILOVER_TIMEOUT_MS);
    return kernelPhase(kernel.phase(from));
  } catch (err) {
    errors.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
}

/** The writer silent for `quietMs` (nothing if 0); it resumes when the trial next waits for it. */
async function quiet(writer: Writer, quietMs: number): Promise<void> {
  if (quietMs === 0) return;
  writer.pause();
  await sleep(quietMs);
}

export async function failoverTrial(sys: BenchSystem, prefix: string, writer: Writer, prng: Prng, trial: number, kernel: KernelClient | null = null, quietMs = 0): Promise<FailoverTrial> {
  // Steady first: the client has just written and read server1's export, and the kernel client's workload runs.
  await writer.okAfter(Date.now(), 30_000, true);
  await quiet(writer, quietMs);
  const kernelErrors: string[] = [];
  const kernelUp = kernel ? await kernel.begin().then(() => true, (err: Error) => (kernelErrors.push(`start: ${err.message.split('\n')[0]}`), false)) : false;
  const crashDelayMs = Math.round(prng.between(0, sys.intervalMs));
  await sleep(crashDelayMs);
  const crashMark = kernel?.mark() ?? 0;
  const crashAt = await powerOff(prefix, 'server1');
  writer.resume();
  sys.crashed(prefix, 'server1');
  const [addressAt, readAt] = await Promise.all([
    addressAnsweredBy(prefix, 'server1', 'server2', FAILOVER_TIMEOUT_MS).catch(() => null),
    writer.okAfter(crashAt, FAILOVER_TIMEOUT_MS, true).catch(() => null),
  ]);
  const phases = sys.phases(prefix, 'server2', 'server1', crashAt);
  const crashPhase = kernel && kernelUp ? await kernelPhaseSince(kernel, crashMark, kernelErrors, 'crash') : null;
  await quiet(writer, quietMs);
  const backMark = kernel?.mark() ?? 0;
  const backAt = Date.now();
  // A writer resumed before the group is back would put new clients on record with the survivor's Ganesha.
  const recovery = await sys.recover(prefix, 'server1', {
    okAfter: (since, timeoutMs, begunAfter) => (writer.resume(), writer.okAfter(since, timeoutMs, begunAfter)),
  });
  writer.resume();
  const failbackPhase = kernel && kernelUp ? await kernelPhaseSince(kernel, backMark, kernelErrors, 'failback') : null;
  if (kernel && kernelUp) await kernel.halt().catch((err: Error) => kernelErrors.push(`stop: ${err.message.split('\n')[0]}`));
  // A guest that did not answer is in a state nobody knows: the next trial boots a fresh one.
  if (kernel && kernelErrors.length > 0) await kernel.shutdown();
  return {
    system: sys.name, trial, crashDelayMs,
    addressMs: addressAt === null ? null : addressAt - crashAt,
    readMs: readAt === null ? null : readAt - crashAt,
    phases, recovery, failedSteps: failedSteps(prefix, crashAt),
    grace: { takeover: graceOnServer(prefix, 'server2', 'server1', crashAt), failback: graceOnServer(prefix, 'server1', 'server1', backAt) },
    ...(addressAt === null || readAt === null ? { error: `no ${addressAt === null ? 'address' : 'client read'} within ${FAILOVER_TIMEOUT_MS} ms` } : {}),
    ...(kernel ? {
      kernel: { guest: kernel.label, crash: crashPhase, failback: failbackPhase, ...(kernelErrors.length ? { error: kernelErrors.join('; ') } : {}) },
    } : {}),
  };
}
