// `npm run bench [-- --trials N ...]`: hanfs against keepalived in the namespace lab, every figure of issue 7's
// benchmarks, written to bench/results/bench-DATE.{json,md,svg} with the command that made them. Each part runs in
// labs of its own (prefix hb<PID><tag>), all removed at the end, on failure and on SIGINT or SIGTERM.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { Prng } from '../agent/sim/prng.ts';
import { exportUrl, Writer } from '../lab/client.ts';
import { abortKernelClients, dropKernelClients, kernelClientIn, type KernelClient } from '../lab/kernel-client.ts';
import { labDown } from '../lab/lifecycle.ts';
import { sourceCommit } from '../lab/source-commit.ts';
import { failoverTrial } from './failover.ts';
import { CLIENT_MIXES, quietMsFor, type ClientMix } from './grace.ts';
import { freezeTrial, type FreezeKind } from './freeze.ts';
import { KEEPALIVED_DEFAULT, KEEPALIVED_FAST, settingForDetection } from './keepalived-config.ts';
import { falseTakeovers } from './load.ts';
import { daemonOverhead, nfsThroughput } from './overhead.ts';
import { medianTrial, renderMarkdown } from './report.ts';
import type { BenchResults } from './results.ts';
import { renderChart } from './svg.ts';
import { BENCH_NFS, hanfsSystem, keepalivedSystem, type BenchSystem } from './systems.ts';

const PARTS = ['failover', 'freeze', 'load', 'overhead'] as const;
type Part = (typeof PARTS)[number];

interface Options {
  trials: number;
  freezeSeconds: number;
  loadSeconds: number;
  overheadSeconds: number;
  throughputMib: number;
  throughputRuns: number;
  seed: number;
  only: Part[];
  out: string;
  note?: string;
  kernelClient: boolean;
  lease: number;
  clients: ClientMix;
  systems?: string[];
}

const FAILOVER_SYSTEMS = ['hanfs', 'hanfs-no-fence-device', 'keepalived-default', 'keepalived-fast'] as const;


const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

const program = new Command().name('npm run bench --')
  .description("hanfs against keepalived in the namespace lab: failover, reintegration, freeze, false takeovers under load, overhead")
  .option('--trials <n>', 'failover and freeze trials per system', positive('--trials'), 5)
  .option('--freeze-seconds <s>', 'how long a freeze lasts', positive('--freeze-seconds'), 5)
  .option('--load-seconds <s>', 'how long every core is saturated', positive('--load-seconds'), 300)
  .option('--overhead-seconds <s>', 'how long CPU and memory are measured', positive('--overhead-seconds'), 300)
  .option('--throughput-mib <n>', 'size of the file read for NFS throughput', positive('--throughput-mib'), 256)
  .option('--throughput-runs <n>', 'rounds of the read with and without the agents', positive('--throughput-runs'), 3)
  .option('--seed <n>', 'seed of the crash instants and of the order of systems in a round', positive('--seed'), Date.now() % 1_000_000)
  .option('--only <parts>', `a comma-separated subset of ${PARTS.join(',')}`, (v: string) => {
    const parts = v.split(',');
    const bad = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
    if (bad.length) throw new InvalidArgumentError(`unknown part ${bad.join(', ')} (known: ${PARTS.join(', ')})`);
    return parts as Part[];
  }, [...PARTS])
  .option('--out <dir>', 'where the results go', new URL('results', import.meta.url).pathname)
  .option('--note <text>', 'a line for the summary: the conditions of the run')
  .option('--no-kernel-client', 'no kernel NFS client guest in the failover trials (saves about 10 s per lab and 2 s per trial)')
  .option('--lease <s>', "NFSv4 lease and grace of both systems' Ganesha (under 7: idle Linux clients get EIO)", (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 2) throw new InvalidArgumentError('--lease must be a whole number of seconds, at least 2');
    return n;
  }, BENCH_NFS.leaseSeconds)
  .option('--clients <mix>', `who is on record when a group moves in the failover trials: ${CLIENT_MIXES.join(' or ')}`, (v: string) => {
    if (!(CLIENT_MIXES as readonly string[]).includes(v)) throw new InvalidArgumentError(`--clients must be one of ${CLIENT_MIXES.join(', ')}`);
    return v as ClientMix;
  }, 'libnfs-v4.0' as ClientMix)
  .option('--systems <names>', `a comma-separated subset of ${FAILOVER_SYSTEMS.join(',')} for the failover and freeze parts`, (v: string) => {
    const names = v.split(',');
    const bad = names.filter((n) => !(FAILOVER_SYSTEMS as readonly string[]).includes(n));
    if (bad.length) throw new InvalidArgumentError(`unknown system ${bad.join(', ')} (known: ${FAILOVER_SYSTEMS.join(', ')})`);
    return names;
  });

const base = `hb${process.pid}`;
const up = new Map<string, BenchSystem>();
/** client1's writer in each lab that has one: stopped before its lab goes, or it writes into a removed directory. */
const writers = new Map<string, Writer>();
const repairsAtStart = new Map<string, number>();
let stressPid: number | null = null;
/** Set on SIGINT or SIGTERM: the cleanup owns the labs from then on, and nothing else is started or written. */
let stopping = false;
const t0 = Date.now();
const say = (line: string) => console.log(`${((Date.now() - t0) / 1000).toFixed(1).padStart(7)} s  ${line}`);

/** A lab coming up: the cleanup waits for it, or it would go on creating what the cleanup has just removed. */
let comingUp: Promise<unknown> = Promise.resolve();

async function ensureUp(sys: BenchSystem, tag: string): Promise<string> {
  const prefix = `${base}${tag}`;
  if (stopping) throw new Error('stopping');
  if (!up.has(prefix)) {
    say(`lab ${prefix}: ${sys.describe}`);
    up.set(prefix, sys);
    const upping = sys.up(prefix);
    comingUp = upping.catch(() => {});
    const repairs = await upping;
    repairsAtStart.set(sys.name, (repairsAtStart.get(sys.name) ?? 0) + repairs);
  }
  return prefix;
}

async function down(prefix: string): Promise<void> {
  up.delete(prefix);
  await writers.get(prefix)?.stop();
  writers.delete(prefix);
  await dropKernelClients(prefix);
  await labDown(prefix);
}

/** One cleanup, whoever asks for it first (the end of the run, a failure, a signal): two would race on each lab. */
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= removeEverything();
  return cleaning;
}

async function removeEverything(): Promise<void> {
  // A guest still booting could start its QEMU after its lab's down: killed (and waited for) first.
  await abortKernelClients();
  await comingUp;
  if (stressPid !== null) {
    try {
      process.kill(stressPid, 'SIGTERM');
    } catch { /* finished */ }
  }
  for (const prefix of [...up.keys()]) await down(prefix).catch((err: Error) => console.error(`down ${prefix}: ${err.message}`));
}

function shuffled<T>(items: T[], prng: Prng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(prng.float() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** An argument as a shell would need it typed, so that the recorded command can be run again as it stands. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function stamp(date: Date): string {
  return date.toISOString().slice(0, 16).replace(/:/g, '');
}

async function main(o: Options): Promise<void> {
  const prng = new Prng(o.seed);
  const nfs = { leaseSeconds: o.lease, graceSeconds: o.lease };
  const quietMs = quietMsFor(o.clients, o.lease);
  const hanfs = hanfsSystem('hanfs', { nfs });
  const hanfsLease = hanfsSystem('hanfs-no-fence-device', { fenceDevice: false, nfs });
  const kd = keepalivedSystem(KEEPALIVED_DEFAULT, nfs);
  const kf = keepalivedSystem(KEEPALIVED_FAST, nfs);
  const km = keepalivedSystem(settingForDetection(hanfs.silenceMs), nfs);
  const chosen = ([sys]: [BenchSystem, string]) => !o.systems || o.systems.includes(sys.name);
  const compared = ([[hanfs, 'h'], [kd, 'kd'], [kf, 'kf']] as [BenchSystem, string][]).filter(chosen);
  // Failover also without a fence device: the lease wait that a pair without one pays.
  const failoverCompared = ([[hanfs, 'h'], [hanfsLease, 'hl'], [kd, 'kd'], [kf, 'kf']] as [BenchSystem, string][]).filter(chosen);
  // The agent at its default timing (heartbeat 500 ms) and at 10 Hz; the first also carries the throughput copy,
  // so its data disks must hold the file.
  const overheadSystems = [
    hanfsSystem('hanfs-500ms', { timing: {}, dataDiskMiB: o.throughputMib + 64 }), hanfsSystem('hanfs-100ms', { timing: { heartbeatIntervalMs: 100 } }),
  ];
  const started = new Date();
  const file = join(o.out, `bench-${stamp(started)}`);
  const argv = process.argv.slice(2).map(shellQuote).join(' ');
  const results: BenchResults = {
    command: process.env.npm_lifecycle_event === 'bench' ? `npm run bench${argv ? ` -- ${argv}` : ''}` : `node --import tsx bench/run.ts ${argv}`.trim(),
    commit: sourceCommit(),
    startedAt: started.toISOString(), finishedAt: '',
    machine: { cpus: availableParallelism(), kernel: release(), node: process.version, loadAverageAtStart: loadavg() },
    note: o.note ?? null,
    settings: {
      trials: o.trials, freezeSeconds: o.freezeSeconds, loadSeconds: o.loadSeconds, overheadSeconds: o.overheadSeconds,
      throughputMiB: o.throughputMib, throughputRuns: o.throughputRuns, seed: o.seed, kernelClient: o.kernelClient,
      leaseSeconds: o.lease, clients: o.clients,
      smoke: o.trials < 5 || o.loadSeconds < 300 || o.overheadSeconds < 300 || o.only.length < PARTS.length || o.systems !== undefined,
    },
    systems: [],
    failover: [], freeze: [], load: [], overhead: [], throughput: null, errors: [],
  };
  const save = () => {
    if (stopping) return;
    results.finishedAt = new Date().toISOString();
    const used = new Set([...results.failover.map((t) => t.system), ...results.freeze.map((t) => t.system), ...results.load.map((l) => l.system), ...results.overhead.map((l) => l.system)]);
    results.systems = [hanfs, hanfsLease, kd, kf, km, ...overheadSystems].filter((s) => used.has(s.name))
      .map((s) => ({ name: s.name, kind: s.kind, describe: s.describe, intervalMs: s.intervalMs, silenceMs: s.silenceMs, repairsAtStart: repairsAtStart.get(s.name) ?? 0 }));
    mkdirSync(o.out, { recursive: true });
    writeFileSync(`${file}.json`, `${JSON.stringify(results, null, 2)}\n`);
    const names = failoverCompared.map(([s]) => s.name);
    const timeline = medianTrial(results.failover.filter((t) => t.system === hanfs.name));
    writeFileSync(`${file}.svg`, renderChart({
      title: `hanfs vs keepalived, failover in the namespace lab (${results.startedAt.slice(0, 10)}${results.settings.smoke ? ', smoke run' : ''})`,
      timeline: timeline ? { system: hanfs.name, trial: timeline } : null, trials: results.failover, systems: names,
    }));
    writeFileSync(`${file}.md`, renderMarkdown(results, `bench-${stamp(started)}.svg`));
  };
  const part = async (name: Part, body: () => Promise<void>) => {
    if (!o.only.includes(name) || stopping) return;
    say(`— ${name}`);
    try {
      await body();
    } catch (err) {
      if (stopping) return;
      const message = `${name}: ${(err as Error).message}`;
      say(`failed: ${message}`);
      results.errors.push(message);
      // A part that broke leaves its labs in a state nobody knows: the next part gets fresh ones.
      for (const prefix of [...up.keys()]) await down(prefix);
    }
    save();
  };

  const writerFor = (prefix: string) => {
    if (stopping || !up.has(prefix)) throw new Error(`no lab ${prefix}`);
    if (!writers.has(prefix)) writers.set(prefix, new Writer(prefix, exportUrl('198.51.100.11', '/srv1')));
    return writers.get(prefix)!;
  };
  const stopWriters = async () => {
    for (const [prefix, w] of writers) {
      await w.stop();
      writers.delete(prefix);
    }
  };

  /**
   * A trial that throws (its lab did not come back in time, say) is recorded as an error and its lab replaced by a
   * fresh one, so that one bad trial does not cost the part; a lab that cannot be replaced ends the part.
   */
  const trialOrFreshLab = async <T>(what: string, sys: BenchSystem, tag: string, run: () => Promise<T>): Promise<T | null> => {
    try {
      return await run();
    } catch (err) {
      if (stopping) throw err;
      results.errors.push(`${what}: ${(err as Error).message}`);
      say(`${what} failed: ${(err as Error).message}; a fresh lab for ${sys.name}`);
      await down(`${base}${tag}`);
      writerFor(await ensureUp(sys, tag));
      return null;
    }
  };

  /**
   * The lab's kernel client on net A, booted the first time (and again if a trial lost it); a guest that cannot boot
   * is an error of the run, and the trial goes on with libnfs alone.
   */
  const kernelFor = async (prefix: string, what: string): Promise<KernelClient | null> => {
    if (!o.kernelClient || stopping) return null;
    const bootAt = Date.now();
    const known = up.has(prefix);
    return kernelClientIn(prefix, 'neta').then((k) => {
      if (Date.now() - bootAt > 1000) say(`${prefix}: kernel client ${k.label} booted in ${Date.now() - bootAt} ms`);
      return k;
    }, (err: Error) => {
      if (stopping || !known) throw err;
      results.errors.push(`${what}: kernel client: ${err.message.split('\n')[0]}`);
      return null;
    });
  };

  await part('failover', async () => {
    for (const [sys, tag] of failoverCompared) {
      const prefix = await ensureUp(sys, tag);
      writerFor(prefix);
      await kernelFor(prefix, `failover ${sys.name}`);
    }
    const stall = (p: { stallMs: number } | null | undefined) => (p ? `${p.stallMs} ms` : '—');
    for (let trial = 0; trial < o.trials; trial++) {
      for (const [sys, tag] of shuffled(failoverCompared, prng)) {
        const prefix = `${base}${tag}`;
        const t = await trialOrFreshLab(`failover ${trial + 1} ${sys.name}`, sys, tag,
          async () => failoverTrial(sys, prefix, writerFor(prefix), prng, trial, await kernelFor(prefix, `failover ${trial + 1} ${sys.name}`), quietMs));
        if (!t) continue;
        results.failover.push(t);
        say(`failover ${trial + 1}/${o.trials} ${sys.name}: address ${t.addressMs} ms, first read ${t.readMs} ms; back: ${t.recovery.answeredMs} / ${t.recovery.readMs} ms${t.recovery.repairs ? `, ${t.recovery.repairs} repaired` : ''}` +
          `${t.kernel ? `; kernel client stall ${stall(t.kernel.crash)} / back ${stall(t.kernel.failback)}${t.kernel.error ? ` (${t.kernel.error})` : ''}` : ''}`);
      }
    }
    // The other parts measure the daemons and the machine: no guest emulated beside them.
    for (const [, tag] of failoverCompared) await dropKernelClients(`${base}${tag}`);
    await down(`${base}hl`);
  });
  await part('freeze', async () => {
    for (const [sys, tag] of compared) writerFor(await ensureUp(sys, tag));
    for (let trial = 0; trial < o.trials; trial++) {
      for (const kind of ['daemon', 'node'] as FreezeKind[]) {
        for (const [sys, tag] of shuffled(compared, prng)) {
          const prefix = `${base}${tag}`;
          const t = await trialOrFreshLab(`freeze ${trial + 1} ${kind} ${sys.name}`, sys, tag,
            () => freezeTrial(sys, prefix, writerFor(prefix), kind, o.freezeSeconds * 1000, trial));
          if (!t) continue;
          results.freeze.push(t);
          say(`freeze ${trial + 1}/${o.trials} ${kind} ${sys.name}: both held ${t.longestDoubleMs} ms (${t.doubled.join(', ') || 'nothing'}), takeovers ${t.takeovers}`);
        }
      }
    }
  });
  await stopWriters();
  await part('load', async () => {
    const labs = [{ sys: hanfs, prefix: await ensureUp(hanfs, 'h') }, { sys: km, prefix: await ensureUp(km, 'km') }];
    for (const [sys, tag] of [[kd, 'kd'], [kf, 'kf']] as const) if (up.has(`${base}${tag}`)) labs.push({ sys, prefix: `${base}${tag}` });
    say(`stress-ng on ${availableParallelism()} cores for ${o.loadSeconds} s`);
    results.load = await falseTakeovers(labs, o.loadSeconds, (pid) => (stressPid = pid));
    stressPid = null;
    for (const l of results.load) say(`load ${l.system}: ${l.takeovers} takeovers${l.suspicions === null ? '' : `, ${l.suspicions} suspicions`}`);
    await down(`${base}h`);
    await down(`${base}km`);
  });
  await part('overhead', async () => {
    const [h500, h100] = overheadSystems as [BenchSystem, BenchSystem];
    const labs = [
      { sys: h500, prefix: await ensureUp(h500, 'h5') },
      { sys: h100, prefix: await ensureUp(h100, 'h1') },
      { sys: kd, prefix: await ensureUp(kd, 'kd') },
      { sys: kf, prefix: await ensureUp(kf, 'kf') },
    ];
    say(`measuring the daemons for ${o.overheadSeconds} s`);
    results.overhead = await daemonOverhead(labs, o.overheadSeconds);
    for (const d of results.overhead) say(`overhead ${d.system}: ${d.servers.map((s) => `${s.server} ${s.cpuPercent.toFixed(2)} % CPU, ${s.rssMiBMax.toFixed(0)} MiB`).join('; ')}`);
    say(`NFS throughput: ${o.throughputMib} MiB × ${o.throughputRuns} rounds, agents running and stopped`);
    results.throughput = await nfsThroughput(labs[0]!.prefix, o.throughputMib, o.throughputRuns);
  });
  if (stopping) return;
  await cleanup();
  save();
  say(`results: ${file}.json, .md, .svg`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: removing the labs`);
    void cleanup().finally(() => process.exit(130));
  });
}

program.parse(process.argv);
main(program.opts<Options>()).catch(async (err: Error) => {
  if (stopping) return;
  console.error(`bench failed: ${err.stack ?? err.message}`);
  await cleanup();
  process.exitCode = 1;
});
