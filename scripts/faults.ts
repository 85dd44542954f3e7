// `npm run faults [-- --trials N --only NAME,NAME --keep --no-kernel-client]`: the fault matrix. Runs every scenario
// of the catalog (lab/scenarios/catalog.ts) N times in the namespace lab, each with a client writing and reading
// throughout and the ownership of every address and disk sampled every 10 ms, and reports per scenario: takeovers
// expected and seen, the longest double-ownership window, acknowledged writes lost, the client's outage (median,
// max); and, from a Linux kernel NFSv4.1 client (a QEMU guest booted once per lab), its failed operations, longest
// stall, fsync'ed writes lost and whether it kept its locks. Writes bench/results/faults-DATE.json and .md; exits 1
// if any scenario broke an invariant.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { KERNEL_CLIENT_NFS, LAB_NFS } from '../lab/config.ts';
import { labDown, labUp } from '../lab/lifecycle.ts';
import { SCENARIOS } from '../lab/scenarios/catalog.ts';
import { runScenario, stopScenarioWork, type Scenario, type ScenarioResult } from '../lab/scenarios/harness.ts';
import { faultsMarkdown, summarise, type ScenarioSummary } from '../lab/scenarios/report.ts';


const options = new Command()
  .name('npm run faults --')
  .description('the fault matrix: every failure scenario, several times, in the namespace lab')
  .option('--trials <n>', 'runs of each scenario', '5')
  .option('--only <names>', `comma-separated scenarios (known: ${SCENARIOS.map((s) => s.name).join(', ')})`)
  .option('--keep', 'leave the lab up at the end (scripts/lab down --prefix P removes it)')
  .option('--out <dir>', 'where the results go', new URL('../bench/results/', import.meta.url).pathname)
  .option('--no-kernel-client', 'no kernel NFS client guest (saves about 10 s per lab and 5–12 s per trial)')
  .parse(process.argv)
  .opts<{ trials: string; only?: string; keep?: boolean; kernelClient: boolean; out: string }>();
const RESULTS = options.out.endsWith('/') ? options.out : `${options.out}/`;

const trials = Number(options.trials);
if (!Number.isInteger(trials) || trials < 1) throw new Error(`--trials ${options.trials}: expected a whole number ≥ 1`);
const wanted = options.only?.split(',').map((n) => n.trim()) ?? SCENARIOS.map((s) => s.name);
const unknown = wanted.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
const chosen: Scenario[] = SCENARIOS.filter((s) => wanted.includes(s.name));

const prefix = `faults${process.pid}`;
/** The kind of lab up now (reintegration mode, NFSv3 or not): consecutive scenarios that need the same share it. */
let labKind: string | null = null;
let stopping = false;

async function lab(scenario: Scenario): Promise<void> {
  const kind = `${scenario.reintegrate}${scenario.nfsv3 ? '+nfsv3' : ''}`;
  if (labKind === kind) return;
  if (labKind) await labDown(prefix);
  labKind = null;
  // A kernel client sits idle between trials: the lab's 2 s lease would expire it (KERNEL_CLIENT_NFS).
  const nfs = options.kernelClient ? KERNEL_CLIENT_NFS : LAB_NFS;
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
    void stopScenarioWork().then(() => labDown(prefix)).finally(() => process.exit(130));
  });
}

const command = ['npm', 'run', 'faults', '--', ...process.argv.slice(2)].join(' ');
/** The code the matrix ran, so that a result can be traced to it. */
const commit = execFileSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8' }).trim();
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
