// `npm run faults [-- --trials N --only NAME,NAME --keep --no-kernel-client]`: the fault matrix. Runs every scenario
// of the catalog (lab/scenarios/catalog.ts) N times in the namespace lab, each with a client writing and reading
// throughout and the ownership of every address and disk sampled every 10 ms, and reports per scenario: takeovers
// expected and seen, the longest double-ownership window, acknowledged writes lost, the client's outage (median,
// max); and, from a Linux kernel NFSv4.1 client (a QEMU guest booted once per lab), its failed operations, longest
// stall, fsync'ed writes lost and whether it kept its locks. The cluster scenario (pacemaker-power-off, issue 17)
// runs last, each trial in a fresh three-node Pacemaker cluster lab. Writes bench/results/faults-DATE.json and .md;
// exits 1 if any scenario broke an invariant.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { KERNEL_CLIENT_NFS, LAB_NFS } from '../lab/config.ts';
import { sh } from '../lab/exec.ts';
import { KernelClient } from '../lab/kernel-client.ts';
import { labDown, labUp } from '../lab/lifecycle.ts';
import { CLUSTER_NODES, clusterDown, clusterUp } from '../lab/pacemaker/cluster.ts';
import { CLUSTER_SCENARIO, powerOffTrial } from '../lab/pacemaker/power-off-trial.ts';
import { SCENARIOS } from '../lab/scenarios/catalog.ts';
import { sourceCommit } from '../lab/source-commit.ts';
import { runScenario, stopScenarioWork, type Scenario, type ScenarioResult } from '../lab/scenarios/harness.ts';
import { faultsMarkdown, summarise, type ScenarioSummary } from '../lab/scenarios/report.ts';


const NAMES = [...SCENARIOS.map((s) => s.name), CLUSTER_SCENARIO.name];

const options = new Command()
  .name('npm run faults --')
  .description('the fault matrix: every failure scenario, several times, in the namespace lab')
  .option('--trials <n>', 'runs of each scenario', '5')
  .option('--only <names>', `comma-separated scenarios (known: ${NAMES.join(', ')})`)
  .option('--keep', 'leave the lab up at the end (scripts/lab down --prefix P removes it)')
  .option('--out <dir>', 'where the results go', new URL('../bench/results/', import.meta.url).pathname)
  .option('--no-kernel-client', 'no kernel NFS client guest (saves about 10 s per lab and 5–12 s per trial)')
  .parse(process.argv)
  .opts<{ trials: string; only?: string; keep?: boolean; kernelClient: boolean; out: string }>();
const RESULTS = options.out.endsWith('/') ? options.out : `${options.out}/`;

const trials = Number(options.trials);
if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials ${options.trials}: expected a whole number ≥ 1`);
const wanted = options.only?.split(',').map((n) => n.trim()) ?? NAMES;
const unknown = wanted.filter((n) => !NAMES.includes(n));
if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${NAMES.join(', ')})`);
const chosen: Scenario[] = SCENARIOS.filter((s) => wanted.includes(s.name));
const clusterChosen = wanted.includes(CLUSTER_SCENARIO.name);

const prefix = `faults${process.pid}`;
/** The kind of lab up now (reintegration mode, NFSv3 or not): consecutive scenarios that need the same share it. */
let labKind: string | null = null;
/** A cluster lab is up under the prefix (the pair's lab is down then): removed by clusterDown instead. */
let clusterLab = false;
let stopping = false;
// A kernel client sits idle between trials: the lab's 2 s lease would expire it (KERNEL_CLIENT_NFS).
const nfs = options.kernelClient ? KERNEL_CLIENT_NFS : LAB_NFS;

async function lab(scenario: Scenario): Promise<void> {
  const kind = `${scenario.reintegrate}${scenario.nfsv3 ? '+nfsv3' : ''}`;
  if (labKind === kind) return;
  if (labKind) await labDown(prefix);
  labKind = null;
  await labUp(prefix, { reintegrate: scenario.reintegrate, timeoutMs: 60_000, nfs: { ...nfs, ...(scenario.nfsv3 ? { nfsv3: 'server1' as const } : {}) } });
  labKind = kind;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: removing the lab`);
    // The client stops writing into the lab's directory first, or it would recreate files in it as it goes; a load
    // the scenario started is killed, and so is the kernel client's guest, booted or still booting.
    // The scenario under way is not stopped and may still boot a server (restorePair) while the lab goes: seen once,
    // a server's mount namespace made after the removal outlived the run. A second removal, once whatever was in
    // flight has finished, takes that too.
    const remove = () => (clusterLab ? clusterDown(prefix) : labDown(prefix));
    void stopScenarioWork().then(remove).then(() => new Promise((r) => setTimeout(r, 3000))).then(remove)
      .finally(() => process.exit(130));
  });
}

/** One trial of the cluster scenario, in a cluster lab of its own (the pair's lab, if up, goes first). */
async function clusterTrial(): Promise<ScenarioResult> {
  if (labKind) await labDown(prefix);
  labKind = null;
  clusterLab = true;
  try {
    // The machine powered off is not the DC, as when any but one of the nodes is lost.
    const home = await clusterUp(prefix, (dc) => CLUSTER_NODES.find((n) => n !== dc)!, 90_000, nfs);
    const kernel = options.kernelClient ? await KernelClient.boot(prefix, 'neta') : null;
    return await powerOffTrial(prefix, home, kernel);
  } catch (err) {
    const problem = (err as Error).message.split('\n')[0]!;
    return {
      name: CLUSTER_SCENARIO.name, ok: false, problems: [problem], takeoversExpected: CLUSTER_SCENARIO.takeovers, takeoversSeen: 0,
      longestDoubleMs: 0, doubleSamples: [], ackedWrites: 0, lostWrites: [], outageMs: 0, measures: {}, notes: [], durationMs: 0, kernelClient: null,
    };
  } finally {
    if (!stopping) {
      await clusterDown(prefix);
      clusterLab = false;
    }
  }
}

const command = ['npm', 'run', 'faults', '--', ...process.argv.slice(2)].join(' ');
const commit = sourceCommit();
const started = new Date();
const summaries: ScenarioSummary[] = [];
try {
  for (const scenario of chosen) {
    const runs: ScenarioResult[] = [];
    for (let t = 1; t <= trials && !stopping; t++) {
      await lab(scenario);
      const r = await runScenario(prefix, scenario, { kernelClient: options.kernelClient });
      runs.push(r);
      const k = r.kernelClient;
      console.log(`${scenario.name} ${t}/${trials}: ${r.ok ? 'ok' : `FAILED: ${r.problems.join('; ')}`} (takeovers ${r.takeoversSeen}, ` +
        `double ownership ${r.longestDoubleMs} ms, lost ${r.lostWrites.length}, outage ${r.outageMs} ms` +
        `${k ? `; kernel client: ${k.failedOutsideLocks} of ${k.ops} failed outside the locks, stall ${k.longestStallMs} ms (${k.longestStallLoop}), ` +
          `${k.lost} of ${k.fsynced} fsync'ed lost, locks ${k.locksKept ? 'kept' : 'LOST'}` : ''})` +
        // A failed trial's notes hold what to look at next (the kernel client's last console lines, say).
        `${!r.ok && r.notes.length > 0 ? `\n  notes: ${r.notes.join('; ')}` : ''}`);
    }
    summaries.push(summarise(scenario, runs));
  }
  if (clusterChosen && !stopping) {
    await sh(['bash', new URL('ensure-deps', import.meta.url).pathname, new URL('pacemaker-packages.txt', import.meta.url).pathname], { timeoutMs: 600_000 });
    const runs: ScenarioResult[] = [];
    for (let t = 1; t <= trials && !stopping; t++) {
      const r = await clusterTrial();
      runs.push(r);
      const k = r.kernelClient;
      console.log(`${CLUSTER_SCENARIO.name} ${t}/${trials}: ${r.ok ? 'ok' : `FAILED: ${r.problems.join('; ')}`} (moved ${r.takeoversSeen}, ` +
        `double ownership ${r.longestDoubleMs} ms, lost ${r.lostWrites.length}, outage ${r.outageMs} ms` +
        `${k ? `; kernel client: ${k.failedOutsideLocks} of ${k.ops} failed outside the locks, stall ${k.longestStallMs} ms (${k.longestStallLoop}), ` +
          `${k.lost} of ${k.fsynced} fsync'ed lost, locks ${k.locksKept ? 'kept' : 'LOST'}` : ''})`);
      if (!r.ok && r.notes.length > 0) console.log(`  notes: ${r.notes.join('\n  ')}`);
    }
    summaries.push(summarise(CLUSTER_SCENARIO, runs));
  }
} finally {
  if (!options.keep && !stopping) await labDown(prefix);
  else if (options.keep) console.log(`lab ${prefix} left up: scripts/lab down --prefix ${prefix}`);
}

const stamp = started.toISOString().slice(0, 16).replace(':', '');
mkdirSync(RESULTS, { recursive: true });
const json = { command, commit, started: started.toISOString(), trials, kernelClient: options.kernelClient, scenarios: summaries };
writeFileSync(`${RESULTS}faults-${stamp}.json`, `${JSON.stringify(json, null, 2)}\n`);
const markdown = faultsMarkdown(command, commit, started, summaries);
writeFileSync(`${RESULTS}faults-${stamp}.md`, markdown);
console.log(`\n${markdown}`);
console.log(`written: ${RESULTS}faults-${stamp}.json and .md`);
if (summaries.some((s) => !s.ok)) process.exitCode = 1;
