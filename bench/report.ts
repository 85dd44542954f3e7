// The Markdown summary of one benchmark run (bench/results/bench-DATE.md), rendered from its results alone.
import type { Phase } from '../lab/phases.ts';
import type { GraceSeen } from './grace.ts';
import { failoverRatios, failoverSummaries, freezeSummaries, type BenchResults } from './results.ts';
import { summarize, type Summary } from './stats.ts';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${Math.round(v)} ms`);
const range = (s: Summary | null, unit: (v: number) => string = ms) => (s === null ? '—' : `${unit(s.median)} [${unit(s.min)}–${unit(s.max)}] (n=${s.n})`);
const mibs = (v: number) => `${v.toFixed(0)} MiB/s`;
const ratio = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}×`);

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The trial whose crash → first read is the median one (the lower middle for an even count): the one charted. */
export function medianTrial<T extends { readMs: number | null }>(trials: T[]): T | null {
  const done = trials.filter((t) => t.readMs !== null).sort((a, b) => a.readMs! - b.readMs!);
  return done[Math.floor((done.length - 1) / 2)] ?? null;
}

function phaseTable(phases: Phase[]): string {
  return table(['phase', 'from crash', 'to', 'duration'], phases.map((p) => [p.label, ms(p.startMs), ms(p.endMs), ms(p.endMs - p.startMs)]));
}

export function renderMarkdown(r: BenchResults, chartFile: string): string {
  // The failover tables show the systems that were failed over; the others ran in the load or overhead parts only.
  const names = r.systems.map((s) => s.name).filter((n) => r.failover.some((t) => t.system === n));
  const hanfs = r.systems.find((s) => s.kind === 'hanfs' && names.includes(s.name))?.name ?? 'hanfs';
  const others = r.systems.filter((s) => s.kind === 'keepalived' && names.includes(s.name)).map((s) => s.name);
  const out: string[] = [];
  out.push(`# hanfs benchmarks, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC`);
  if (r.settings.smoke) {
    out.push(`> **Smoke run**: shorter than the issue's settings (trials 5, load 300 s, overhead 300 s); it shows that every part works, its figures are not the benchmark's.`);
  }
  if (r.note) out.push(`> ${r.note}`);
  out.push(`Command: \`${r.command}\`, at commit \`${r.commit}\`\n\nMachine: ${r.machine.cpus} CPUs, Linux ${r.machine.kernel}, Node ${r.machine.node}, load average at start ${r.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}. Seed ${r.settings.seed}.`);
  if (r.settings.leaseSeconds !== undefined) {
    out.push(`NFS: both systems' Ganesha with lease and grace ${r.settings.leaseSeconds} s; clients on record when a group moves: ${r.settings.clients === 'v4.1-only'
      ? 'the kernel NFSv4.1 client alone (client1\'s libnfs writer falls silent before each move until Ganesha has expired its NFSv4.0 clients)'
      : 'the kernel NFSv4.1 client and the NFSv4.0 clients of client1\'s libnfs writer (one per operation, never reclaiming: grace runs its whole length)'}.`);
  }
  out.push(`![failover timeline and distributions](${chartFile})`);

  out.push('## Systems');
  out.push(table(['system', 'what runs', 'interval', 'backup acts after silence of', 'groups repaired at lab start'],
    r.systems.map((s) => [s.name, s.describe, ms(s.intervalMs), ms(s.silenceMs), s.kind === 'keepalived' ? String(s.repairsAtStart) : '—'])));

  out.push('## Failover: server1 crashes (links cut, every process killed)');
  out.push(`Median [range] over the trials; the crash falls at a random instant within one heartbeat or advertisement interval. "Address answered": server2 holds 198.51.100.11 alone and answers client1's ARP for it. "First read": client1's first write + read-back of /srv1 begun after the crash. The address probe spawns \`ip\` and \`arping\` in a loop: on a busy machine its resolution is some tens of ms, so with hanfs (address last, NFS already up) the first read can come before it.`);
  const fs = failoverSummaries(r.failover, names);
  out.push(table(['system', 'crash → address answered', 'crash → first read OK', 'trials without a result'],
    fs.map((s) => [s.system, range(s.address), range(s.read), String(s.failedTrials)])));
  const ratios = failoverRatios(r.failover, hanfs, others);
  if (ratios.length) {
    out.push(`Ratio ${hanfs} / keepalived, trial by trial (below 1: hanfs faster):`);
    out.push(table(['against', 'address answered: median (each trial)', 'first read: median (each trial)'], ratios.map((x) => [
      x.against, `${ratio(x.medianAddress)} (${x.address.map((v) => v.toFixed(2)).join(', ')})`, `${ratio(x.medianRead)} (${x.read.map((v) => v.toFixed(2)).join(', ')})`,
    ])));
  }
  for (const system of names) {
    const t = medianTrial(r.failover.filter((x) => x.system === system));
    if (!t || t.phases.length === 0) continue;
    out.push(`### ${system}: the median failover (trial ${t.trial + 1}), phase by phase`);
    out.push(`${phaseTable(t.phases)}\n\ncrash → address answered ${ms(t.addressMs)}; crash → first read OK ${ms(t.readMs)}.`);
  }
  if (fs.some((s) => s.kernelTrials > 0)) {
    const guest = r.failover.find((x) => x.kernel)?.kernel?.guest ?? 'a guest on net A';
    out.push(`### The kernel client`);
    out.push(`A Linux kernel NFSv4.1 client in each lab, ${guest}: a QEMU guest (lab/guest/) with a hard mount and the default options, whose workload (new files written, fsync'ed and read back every 100 ms, a file kept open, a flock and an fcntl lock held, a read stream) is started afresh before each trial. Its stall: the longest time one of its loops waited between two completed operations, from the crash until every loop has answered again after the first libnfs read; and from the command that brings server1 back until every loop has answered again once both serve their own. Failed operations outside the locks: a hard mount waits instead, so any is a fault.`);
    out.push(table(['system', 'kernel client: longest stall around the crash', 'around the failback', 'failed operations outside the locks', 'trials with a phase unmeasured'],
      fs.map((s) => s.kernelTrials === 0 ? [s.system, '—', '—', '—', '—'] : [s.system, range(s.kernelCrashStall), range(s.kernelFailbackStall), String(s.kernelFailedOutsideLocks), String(s.kernelIncomplete)])));
    const errors = r.failover.filter((x) => x.kernel?.error).map((x) => `- ${x.system} trial ${x.trial + 1}: ${x.kernel!.error!.slice(0, 300)}`);
    if (errors.length) out.push(errors.join('\n'));
  }
  if (r.failover.some((x) => x.grace)) {
    out.push(`### Grace`);
    out.push(`From the log of the Ganesha that took the group over (and of the one that took it back): the clients on record, how many had sent RECLAIM_COMPLETE at its last check, how long grace lasted (Ganesha's whole seconds). Grace ends before its duration only when every client on record has reclaimed, checked on Ganesha's reaper thread every lease / 2 s.`);
    const cell = (gs: (GraceSeen | null)[]) => {
      const seen = gs.filter((g): g is GraceSeen => g !== null);
      if (seen.length === 0) return '—';
      const ended = seen.filter((g) => g.lastedS !== null);
      const early = ended.filter((g) => g.lastedS! < g.durationS).length;
      return `on record ${seen.map((g) => g.onRecord).join('/')}, reclaimed ${seen.map((g) => g.reclaimed).join('/')}; lasted ${ended.length ? range(summarize(ended.map((g) => g.lastedS! * 1000))) : '—'}; ended early ${early} of ${seen.length}`;
    };
    out.push(table(['system', 'takeover', 'failback'], names.map((n) => {
      const ts = r.failover.filter((x) => x.system === n);
      return [n, cell(ts.map((x) => x.grace?.takeover ?? null)), cell(ts.map((x) => x.grace?.failback ?? null))];
    })));
  }
  const notify = r.failover.filter((x) => x.system !== hanfs).flatMap((x) => x.phases.filter((p) => p.key === 'notify').map((p) => p.endMs - p.startMs));
  if (notify.length) {
    out.push(`keepalived's notify script starts \`hanfs group start\` (a Node process) after the address is up: ${range(summarize(notify))} of its failover before the first step; a shell script calling the commands directly would save most of it.`);
  }

  out.push('## Reintegration and failback');
  out.push(`hanfs: \`hanfs reintegrate\` on the returning server1 (found fenced after its boot) → its own address answering from it, and → client1's first read. keepalived: server1's keepalived started again (it preempts) → the same. "Repairs": groups left down by overlapping notify scripts, whose steps were run again by hand so that the next trial could start.`);
  out.push(table(['system', 'command → own address answered', 'command → first read OK', 'repairs', 'failed resource steps (failover and back)'],
    fs.map((s) => [s.system, range(s.reintegrationAnswered), range(s.reintegrationRead), String(s.repairs), String(s.failedSteps)])));

  if (r.freeze.length) {
    out.push(`## Freeze of server1 (SIGSTOP for ${r.settings.freezeSeconds} s, then SIGCONT)`);
    out.push(`"daemon": only the HA daemon (hanfs agent; keepalived's processes); "node": every process of server1. Ownership of both addresses and both disks sampled every 10 ms (lab/sampler.ts).`);
    out.push(table(['system', 'frozen', 'trials', 'longest window with two holders', 'takeovers', 'held twice', 'failed resource steps'],
      freezeSummaries(r.freeze).map((s) => [s.system, s.kind, String(s.trials), range(s.longestDouble), String(s.takeovers), s.doubled.join(', ') || 'nothing', String(s.failedSteps)])));
    const freezeRepairs = r.freeze.reduce((n, t) => n + t.recovery.repairs, 0);
    if (freezeRepairs) out.push(`keepalived groups left down after a freeze and repaired by hand: ${freezeRepairs}.`);
  }

  const kaSystems = new Set(r.systems.filter((s) => s.kind === 'keepalived').map((s) => s.name));
  const kaFailed = [...r.failover, ...r.freeze].filter((t) => kaSystems.has(t.system)).flatMap((t) => t.failedSteps);
  const kaRepairs = [...r.failover, ...r.freeze].filter((t) => kaSystems.has(t.system)).reduce((n, t) => n + t.recovery.repairs, 0)
    + r.systems.reduce((n, s) => n + s.repairsAtStart, 0);
  if (kaSystems.size) {
    out.push(`## keepalived's notify scripts (fire and forget)`);
    out.push(`keepalived runs the notify script on every state change and waits neither for it nor for its exit status: a stop and a start of one group (BACKUP then MASTER at boot, MASTER then BACKUP after a freeze, the two servers at failback) run side by side, and a start that fails leaves the address up with no NFS server behind it. Seen in this run: ${kaFailed.length} failed resource steps, ${kaRepairs} groups left down and repaired by hand.`);
    const examples = [...new Set(kaFailed.map((m) => m.replace(/\(PID \d+\)/g, '(PID …)')))].slice(0, 5);
    if (examples.length) out.push(examples.map((e) => `- ${e}`).join('\n'));
  }

  if (r.load.length) {
    out.push(`## False takeovers under load (stress-ng on every core, ${r.settings.loadSeconds} s)`);
    out.push(table(['system', 'backup acts after silence of', 'takeovers (goal 0)', 'hanfs: suspicions'],
      r.load.map((l) => [`${l.system}: ${l.describe}`, ms(l.silenceMs), String(l.takeovers), l.suspicions === null ? '—' : String(l.suspicions)])));
  }

  if (r.overhead.length) {
    out.push(`## Overhead over ${r.settings.overheadSeconds} s (idle pair)`);
    out.push(table(['system', 'server', 'CPU (% of one core)', 'RSS mean', 'RSS max'], r.overhead.flatMap((o) => o.servers.map((s) => [
      `${o.system}: ${o.describe}`, s.server, `${s.cpuPercent.toFixed(2)} %`, `${s.rssMiBMean.toFixed(1)} MiB`, `${s.rssMiBMax.toFixed(1)} MiB`,
    ]))));
  }
  if (r.throughput) {
    const t = r.throughput;
    out.push(`## NFS throughput (libnfs nfs-cp reading a ${t.mib} MiB file from /srv1, ${t.runs.length / 2} rounds)`);
    out.push(`Reads only: libnfs 4.0's NFSv4 client fails to encode a WRITE above about 3.9 KB, so no large file can be written with it.`);
    out.push(table(['agents', 'read'], [['running', range(t.withAgents, mibs)], ['stopped', range(t.withoutAgents, mibs)]]));
    const rd = t.withAgents && t.withoutAgents ? t.withAgents.median / t.withoutAgents.median : null;
    out.push(`With agents / without, medians: ${ratio(rd)}.`);
  }
  // The first line of each: a lab that failed to come up appends its agents' last log lines (they stay in the JSON).
  if (r.errors.length) out.push(`## Errors\n${r.errors.map((e) => `- ${e.split('\n')[0]!.slice(0, 400)}`).join('\n')}`);
  return `${out.join('\n\n')}\n`;
}
