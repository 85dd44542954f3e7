// The fault matrix's verdict per scenario over its trials, and its Markdown table.
import { summarize, type Summary } from '../../bench/stats.ts';
import type { Scenario, ScenarioResult } from './harness.ts';

/** The kernel client's trials of one scenario, summed up. */
export interface KernelClientSummary {
  /** Trials whose kernel client was judged (one that could not be is among the problems). */
  trials: number;
  ops: number;
  /** Failed operations outside the lock loops (each fails its trial), and all failed operations, under lost locks too. */
  failedOutsideLocks: number;
  failed: number;
  /** The longest stall of each trial. */
  stallMs: Summary | null;
  fsynced: number;
  lost: number;
  /** Trials in which both locks were kept. */
  locksKept: number;
  /** What the trials that lost their locks saw, each different line once. */
  lockLosses: string[];
}

export interface ScenarioSummary {
  name: string;
  what: string;
  trials: number;
  ok: boolean;
  takeoversExpected: number;
  /** Per trial. */
  takeoversSeen: number[];
  longestDoubleMs: number;
  ackedWrites: number;
  lostWrites: number;
  outageMs: Summary | null;
  measures: Record<string, Summary | null>;
  problems: string[];
  /** Null when no trial ran a kernel client (npm run faults -- --no-kernel-client). */
  kernelClient: KernelClientSummary | null;
}

export function summariseKernelClient(runs: ScenarioResult[]): KernelClientSummary | null {
  const k = runs.map((r) => r.kernelClient).filter((x) => x !== null && x !== undefined);
  if (k.length === 0) return null;
  const sum = (f: (t: (typeof k)[number]) => number) => k.reduce((n, t) => n + f(t), 0);
  return {
    trials: k.length, ops: sum((t) => t.ops), failedOutsideLocks: sum((t) => t.failedOutsideLocks), failed: sum((t) => t.failed),
    stallMs: summarize(k.map((t) => t.longestStallMs)), fsynced: sum((t) => t.fsynced), lost: sum((t) => t.lost),
    locksKept: k.filter((t) => t.locksKept).length, lockLosses: [...new Set(k.filter((t) => !t.locksKept).map((t) => t.locks))],
  };
}

export function summarise(scenario: Pick<Scenario, 'name' | 'what' | 'takeovers'>, runs: ScenarioResult[]): ScenarioSummary {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.measures)))];
  return {
    name: scenario.name,
    what: scenario.what,
    trials: runs.length,
    ok: runs.length > 0 && runs.every((r) => r.ok),
    takeoversExpected: scenario.takeovers,
    takeoversSeen: runs.map((r) => r.takeoversSeen),
    longestDoubleMs: Math.max(0, ...runs.map((r) => r.longestDoubleMs)),
    ackedWrites: runs.reduce((n, r) => n + r.ackedWrites, 0),
    lostWrites: runs.reduce((n, r) => n + r.lostWrites.length, 0),
    outageMs: summarize(runs.map((r) => r.outageMs)),
    measures: Object.fromEntries(keys.map((k) => [k, summarize(runs.map((r) => r.measures[k] ?? null))])),
    problems: runs.flatMap((r, i) => r.problems.map((p) => `trial ${i + 1}: ${p}`)),
    kernelClient: summariseKernelClient(runs),
  };
}

const ms = (s: Summary | null) => (s ? `${Math.round(s.median)} / ${Math.round(s.max)}` : '—');

/** The kernel client's columns: failed operations outside the locks (all), longest stall, fsync'ed writes lost, locks kept. */
function kernelColumns(k: KernelClientSummary | null): string {
  if (!k) return '— | — | — | —';
  return `${k.failedOutsideLocks} of ${k.ops} (${k.failed}) | ${ms(k.stallMs)} | ${k.lost} of ${k.fsynced} | ${k.locksKept} of ${k.trials}`;
}

export function faultsMarkdown(command: string, commit: string, started: Date, summaries: ScenarioSummary[]): string {
  const rows = summaries.map((s) => `| ${s.name} | ${s.ok ? 'ok' : '**FAILED**'} | ${s.trials} | ${s.takeoversExpected} | ` +
    `${s.takeoversSeen.join(', ')} | ${s.longestDoubleMs} | ${s.lostWrites} of ${s.ackedWrites} | ${ms(s.outageMs)} | ` +
    `${kernelColumns(s.kernelClient)} |`);
  const kernel = summaries.some((s) => s.kernelClient !== null);
  const lockLosses = summaries.flatMap((s) => (s.kernelClient?.lockLosses ?? []).map((l) => `- ${s.name}: ${l}`));
  const figures = summaries.flatMap((s) => Object.entries(s.measures).map(([k, v]) => `| ${s.name} | ${k} | ${ms(v)} |`));
  const problems = summaries.flatMap((s) => s.problems.map((p) => `- ${s.name}, ${p}`));
  return [
    `# Fault matrix, ${started.toISOString()}`,
    '',
    `Command: \`${command}\`, at commit \`${commit}\``,
    '',
    kernel
      ? 'Two clients write through every trial: libnfs on client1 (a new file every 100 ms, read back: "acknowledged writes lost", ' +
        '"client outage"), and a Linux kernel NFSv4.1 client, a QEMU guest with a hard mount of the disturbed export ' +
        '(lab/guest/: new files written, fsync\'ed and read back, a file kept open, a flock and an fcntl lock held, a read stream; ' +
        'its workload started afresh each trial). Kernel client: operations failed outside the locks of all it did ' +
        '(in brackets, every failed operation, under lost locks too); the longest time one of its loops waited between two ' +
        'completed operations; fsync\'ed writes missing or wrong when read back afterwards; trials in which both locks were kept. ' +
        'A failed operation outside the locks or a lost fsync\'ed write fails the scenario; lost locks are reported, not failed (issue 13).'
      : 'The kernel client was not run (`--no-kernel-client`): its columns are empty.',
    '',
    '| scenario | verdict | trials | takeovers expected | takeovers seen | longest double ownership (ms) | acknowledged writes lost | client outage median / max (ms) ' +
      '| kernel client: failed ops outside locks (all failed) | kernel client: longest stall median / max (ms) | kernel client: fsync\'ed writes lost | kernel client: locks kept (trials) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| scenario | figure | median / max (ms, or a count) |',
    '| --- | --- | --- |',
    ...figures,
    '',
    ...(problems.length > 0 ? ['Problems:', '', ...problems, ''] : []),
    ...(lockLosses.length > 0 ? ["The kernel client's lost locks (known, issue 13: reported, not failed):", '', ...lockLosses, ''] : []),
    'Scenarios:',
    '',
    ...summaries.map((s) => `- **${s.name}**: ${s.what}`),
    '',
  ].join('\n');
}
