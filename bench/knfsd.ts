// `npm run bench:knfsd [-- --trials N --lease S --vers 4.1|3]`: the knfsd profile on kernel NFS servers in guests
// (lab/knfsd-guests.ts), N trials of a takeover and a failback under a kernel NFS client, each in fresh guests
// on one lab. It reports, per move, the profile's steps on the new server, the kernel's grace (begun → ended at
// the last RECLAIM_COMPLETE), and the client's longest stall: from the move's start, and from the new server's last
// step, the part that is the NFS server's and the client's own (detection and fencing are the agent's, measured by
// `npm run bench`). Written to bench/results/knfsd-DATE.{json,md} with the command and commit.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { knfsdTrial, type KnfsdMove, type KnfsdTrial } from '../lab/knfsd-guests.ts';
import { labDown, labUp } from '../lab/lifecycle.ts';
import { sourceCommit } from '../lab/source-commit.ts';
import { summarize, type Summary } from './stats.ts';

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number`);
  return n;
};
const o = new Command().name('npm run bench:knfsd --')
  .description('the knfsd profile on kernel NFS servers in guests: takeovers and failbacks under a kernel NFS client')
  .option('--trials <n>', 'trials (each a takeover and a failback)', positive('--trials'), 5)
  .option('--lease <s>', "the kernel servers' NFSv4 lease and grace (s)", positive('--lease'), 10)
  .option('--vers <v>', "the kernel client's NFS version: 4.1 or 3", (v: string) => {
    if (v !== '4.1' && v !== '3') throw new InvalidArgumentError('--vers must be 4.1 or 3');
    return v;
  }, '4.1')
  .option('--out <dir>', 'where results go', 'bench/results')
  .parse().opts<{ trials: number; lease: number; vers: '4.1' | '3'; out: string }>();

const prefix = `hkb${process.pid}`;
const started = new Date();
const commit = sourceCommit();
const command = `npm run bench:knfsd -- --trials ${o.trials} --lease ${o.lease} --vers ${o.vers}`;
const trials: KnfsdTrial[] = [];
const errors: string[] = [];
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('interrupted: removing the lab');
  await labDown(prefix);
  process.exit(130);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

try {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  for (let i = 0; i < o.trials && !stopping; i++) {
    try {
      const t = await knfsdTrial(prefix, o.lease, (line) => console.log(`trial ${i + 1}/${o.trials}: ${line}`), o.vers);
      trials.push(t);
      console.log(`trial ${i + 1}/${o.trials}: ${t.verdict.ops} operations, ${t.verdict.failed} failed, ${t.verdict.lost} of ${t.verdict.fsynced} fsync'ed lost, locks ${t.verdict.locks}`);
    } catch (err) {
      errors.push(`trial ${i + 1}: ${(err as Error).message.split('\n')[0]}`);
      console.log(`trial ${i + 1}/${o.trials} failed: ${(err as Error).message}`);
    }
  }
} finally {
  if (!stopping) await labDown(prefix);
}

const stepsMs = (m: KnfsdMove) => m.started.reduce((t, s) => t + s.ms, 0);
const figures = (pick: (t: KnfsdTrial) => KnfsdMove) => ({
  moveMs: summarize(trials.map((t) => pick(t).moveMs)),
  newServerStepsMs: summarize(trials.map((t) => Math.round(stepsMs(pick(t))))),
  graceMs: summarize(trials.map((t) => pick(t).graceMs)),
  graceEndedEarly: trials.filter((t) => pick(t).graceEndedEarly).length,
  stallMs: summarize(trials.map((t) => pick(t).client.longestStallMs)),
  stallAfterMoveMs: summarize(trials.map((t) => pick(t).client.longestStallMs - pick(t).moveMs)),
});
const takeover = figures((t) => t.takeover);
const failback = figures((t) => t.failback);
const verdicts = trials.map((t) => t.verdict);

const fmt = (s: Summary | null) => (s ? `${(s.median / 1000).toFixed(2)} s [${(s.min / 1000).toFixed(2)}–${(s.max / 1000).toFixed(2)}]` : '—');
const row = (label: string, pick: (f: typeof takeover) => string) => `| ${label} | ${pick(takeover)} | ${pick(failback)} |`;
const markdown = [
  `# knfsd profile on kernel NFS servers, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `Command: \`${command}\`, at commit \`${commit}\`. ${trials.length} of ${o.trials} trials completed${errors.length ? ` (${errors.join('; ')})` : ''}.`,
  '',
  `Two kernel NFS server guests (Debian's cloud kernel 6.1, nfs-kernel-server's rpc.nfsd, exportfs, rpc.mountd and nfsdcld) share one disk image; the knfsd profile's command lines move the virtual server from one to the other while a kernel NFSv${o.vers} client guest writes, fsyncs and reads new files, keeps a file open, streams reads and holds a flock and an fcntl lock. Takeover: the serving guest powered off (QEMU killed), the other starts the virtual server at once (no detection or fencing here). Failback: the first guest booted again, the second stops the virtual server and the first starts it. NFSv4 lease and grace ${o.lease} s. Commands run in guests under TCG emulation, so every step is slower than on a real server.`,
  '',
  '| medians [range] | takeover | failback |',
  '| --- | --- | --- |',
  row('move: power-off or first stop step → the new server\'s last step', (f) => fmt(f.moveMs)),
  row('the new server\'s steps (journal replay … NSM notify)', (f) => fmt(f.newServerStepsMs)),
  row('kernel grace: begun → ended at the last RECLAIM_COMPLETE', (f) => `${fmt(f.graceMs)}, early in ${f.graceEndedEarly} of ${trials.length}`),
  row('**kernel client\'s longest stall**, from the move\'s start', (f) => fmt(f.stallMs)),
  row('the same, past the new server\'s last step', (f) => fmt(f.stallAfterMoveMs)),
  '',
  `Kernel client over all trials: ${verdicts.reduce((n, v) => n + v.ops, 0)} operations, ${verdicts.reduce((n, v) => n + v.failed, 0)} failed; ${verdicts.reduce((n, v) => n + v.lost, 0)} of ${verdicts.reduce((n, v) => n + v.fsynced, 0)} fsync'ed writes lost; locks kept in ${verdicts.filter((v) => v.locksKept).length} of ${verdicts.length} trials.`,
  '',
].join('\n');
mkdirSync(o.out, { recursive: true });
const base = join(o.out, `knfsd-${started.toISOString().slice(0, 16).replace(':', '')}`);
writeFileSync(`${base}.json`, `${JSON.stringify({ command, commit, started: started.toISOString(), lease: o.lease, vers: o.vers, errors, takeover, failback, trials }, null, 2)}\n`);
writeFileSync(`${base}.md`, markdown);
console.log(`\n${markdown}\nwritten: ${base}.md`);
