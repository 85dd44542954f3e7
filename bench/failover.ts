// One failover trial: server1 crashes (links cut, every process killed, addresses and mounts gone) at a random
// instant within a heartbeat or advertisement interval, while client1 writes and reads server1's export every
// 100 ms; measured: crash → server1's address answering from server2, crash → the client's first write + read-back
// begun after the crash; then server1 comes back and takes its group back (hanfs: reintegrate), which is measured too.
import { Prng } from '../agent/sim/prng.ts';
import { crash } from '../lab/agents.ts';
import type { Writer } from '../lab/client.ts';
import type { Phase } from '../lab/phases.ts';
import { addressAnsweredBy } from './probe.ts';
import { failedSteps, type BenchSystem, type Recovery } from './systems.ts';

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
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const FAILOVER_TIMEOUT_MS = 60_000;

export async function failoverTrial(sys: BenchSystem, prefix: string, writer: Writer, prng: Prng, trial: number): Promise<FailoverTrial> {
  // Steady first: the client has just written and read server1's export.
  await writer.okAfter(Date.now(), 30_000, true);
  const crashDelayMs = Math.round(prng.between(0, sys.intervalMs));
  await sleep(crashDelayMs);
  const crashAt = Date.now();
  await crash(prefix, 'server1');
  sys.crashed(prefix, 'server1');
  const [addressAt, readAt] = await Promise.all([
    addressAnsweredBy(prefix, 'server1', 'server2', FAILOVER_TIMEOUT_MS).catch(() => null),
    writer.okAfter(crashAt, FAILOVER_TIMEOUT_MS, true).catch(() => null),
  ]);
  const phases = sys.phases(prefix, 'server2', 'server1', crashAt);
  const recovery = await sys.recover(prefix, 'server1', writer);
  return {
    system: sys.name, trial, crashDelayMs,
    addressMs: addressAt === null ? null : addressAt - crashAt,
    readMs: readAt === null ? null : readAt - crashAt,
    phases, recovery, failedSteps: failedSteps(prefix, crashAt),
    ...(addressAt === null || readAt === null ? { error: `no ${addressAt === null ? 'address' : 'client read'} within ${FAILOVER_TIMEOUT_MS} ms` } : {}),
  };
}
