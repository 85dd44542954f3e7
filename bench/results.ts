// The benchmark's results as written to bench/results/bench-DATE.json, and the figures derived from the trials:
// per system medians and ranges, and hanfs/keepalived ratios pair by pair (trial i of each, taken in one round).
import type { FailoverTrial } from './failover.ts';
import type { FreezeKind, FreezeTrial } from './freeze.ts';
import type { LoadResult } from './load.ts';
import type { DaemonOverhead, Throughput } from './overhead.ts';
import { median, pairRatios, summarize, type Summary } from './stats.ts';

export interface SystemInfo {
  name: string;
  kind: 'hanfs' | 'keepalived';
  describe: string;
  intervalMs: number;
  silenceMs: number;
  /** Groups left down by the notify scripts when the lab came up, repaired by hand (keepalived). */
  repairsAtStart: number;
}

export interface BenchSettings {
  trials: number;
  freezeSeconds: number;
  loadSeconds: number;
  overheadSeconds: number;
  throughputMiB: number;
  throughputRuns: number;
  seed: number;
  /** A kernel NFS client guest ran through the failover trials (absent in results from before it: false). */
  kernelClient?: boolean;
  /** Both systems' Ganesha NFSv4 lease and grace (absent in results from before the option: 7, or 2 before 1bf2cbb). */
  leaseSeconds?: number;
  /** Who was on record when a group moved (bench/run.ts, --clients; absent: libnfs-v4.0). */
  clients?: string;
  /** The settings are trials 5, load 300 s, overhead 300 s: anything less is a smoke run. */
  smoke: boolean;
}

export interface BenchResults {
  command: string;
  /** The code measured (lab/source-commit.ts). */
  commit: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; kernel: string; node: string; loadAverageAtStart: number[] };
  note: string | null;
  settings: BenchSettings;
  systems: SystemInfo[];
  failover: FailoverTrial[];
  freeze: FreezeTrial[];
  load: LoadResult[];
  overhead: DaemonOverhead[];
  throughput: Throughput | null;
  /** What went wrong in a part that could not finish; the other parts' figures stand. */
  errors: string[];
}

export interface FailoverSummary {
  system: string;
  address: Summary | null;
  read: Summary | null;
  /** hanfs only: reintegration, command → own address answering / first client read. */
  reintegrationAnswered: Summary | null;
  reintegrationRead: Summary | null;
  repairs: number;
  failedSteps: number;
  failedTrials: number;
  /** The kernel client: its longest stall around the crash and around the failback, over the trials that measured it. */
  kernelCrashStall: Summary | null;
  kernelFailbackStall: Summary | null;
  /** Its failed operations outside the locks, both phases, all trials. */
  kernelFailedOutsideLocks: number;
  /** Trials that ran the kernel client, and those of them with a phase unmeasured (it did not answer in time). */
  kernelTrials: number;
  kernelIncomplete: number;
}

export interface Ratio {
  against: string;
  address: number[];
  read: number[];
  medianAddress: number | null;
  medianRead: number | null;
}

export interface FreezeSummary {
  system: string;
  kind: FreezeKind;
  trials: number;
  longestDouble: Summary | null;
  takeovers: number;
  doubled: string[];
  failedSteps: number;
}

export function failoverSummaries(trials: FailoverTrial[], systems: string[]): FailoverSummary[] {
  return systems.map((system) => {
    const t = trials.filter((x) => x.system === system);
    return {
      system,
      address: summarize(t.map((x) => x.addressMs)),
      read: summarize(t.map((x) => x.readMs)),
      reintegrationAnswered: summarize(t.map((x) => x.recovery.answeredMs)),
      reintegrationRead: summarize(t.map((x) => x.recovery.readMs)),
      repairs: t.reduce((n, x) => n + x.recovery.repairs, 0),
      failedSteps: t.reduce((n, x) => n + x.failedSteps.length, 0),
      failedTrials: t.filter((x) => x.error !== undefined).length,
      kernelCrashStall: summarize(t.map((x) => x.kernel?.crash?.stallMs ?? null)),
      kernelFailbackStall: summarize(t.map((x) => x.kernel?.failback?.stallMs ?? null)),
      kernelFailedOutsideLocks: t.reduce((n, x) => n + (x.kernel?.crash?.failedOutsideLocks ?? 0) + (x.kernel?.failback?.failedOutsideLocks ?? 0), 0),
      kernelTrials: t.filter((x) => x.kernel !== undefined).length,
      kernelIncomplete: t.filter((x) => x.kernel !== undefined && (x.kernel.crash === null || x.kernel.failback === null)).length,
    };
  });
}

/** hanfs / each other system, trial by trial (trial numbers matched). */
export function failoverRatios(trials: FailoverTrial[], hanfs: string, others: string[]): Ratio[] {
  const byTrial = (system: string, key: 'addressMs' | 'readMs') => {
    const t = trials.filter((x) => x.system === system);
    const max = Math.max(0, ...trials.map((x) => x.trial));
    return Array.from({ length: max + 1 }, (_, i) => t.find((x) => x.trial === i)?.[key] ?? null);
  };
  return others.map((against) => {
    const address = pairRatios(byTrial(hanfs, 'addressMs'), byTrial(against, 'addressMs'));
    const read = pairRatios(byTrial(hanfs, 'readMs'), byTrial(against, 'readMs'));
    return {
      against, address, read,
      medianAddress: address.length ? median(address) : null,
      medianRead: read.length ? median(read) : null,
    };
  });
}

export function freezeSummaries(trials: FreezeTrial[]): FreezeSummary[] {
  const keys = [...new Set(trials.map((t) => `${t.system}\u0000${t.kind}`))];
  return keys.map((key) => {
    const [system, kind] = key.split('\u0000') as [string, FreezeKind];
    const t = trials.filter((x) => x.system === system && x.kind === kind);
    return {
      system, kind, trials: t.length,
      longestDouble: summarize(t.map((x) => x.longestDoubleMs)),
      takeovers: t.reduce((n, x) => n + x.takeovers, 0),
      doubled: [...new Set(t.flatMap((x) => x.doubled))],
      failedSteps: t.reduce((n, x) => n + x.failedSteps.length, 0),
    };
  });
}
