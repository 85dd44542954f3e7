// By hand: `node --import tsx lab/swarm/takeover.ts --clients 100 [--failback] [main.ts options]` builds a lab of
// its own, runs the swarm through a takeover of server1 (lab/swarm/in-lab.ts) and, with --failback, through its
// reintegration too, prints the swarm's report for each move and removes the lab, also when something fails.
import { labDown, labUp } from '../lifecycle.ts';
import { formatReport } from './report.ts';
import { swarmThroughTakeover } from './in-lab.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--clients');
const clients = at >= 0 ? Number(args[at + 1]) : 10;
const failback = args.includes('--failback');
const extra = (at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args).filter((a) => a !== '--failback');
const prefix = `hs${process.pid}`;

async function main(): Promise<void> {
  await labUp(prefix, { reintegrate: 'manual', timeoutMs: 60_000 });
  try {
    const run = await swarmThroughTakeover(prefix, clients, { extra, failback });
    console.log(`${failback ? 'takeover: ' : ''}${formatReport(run.report)}`);
    console.log(`  crash → server2 serving both                        ${run.crashToServingBothMs} ms`);
    if (run.failback) {
      console.log(`failback: ${formatReport(run.failback)}`);
      console.log(`  hanfs reintegrate → both normal                     ${run.reintegrateToBothNormalMs} ms`);
    }
    console.log(`swarm exit ${run.exitCode}; the swarm ran ${run.swarmMs} ms`);
    if (run.exitCode !== 0) process.exitCode = 1;
  } finally {
    await labDown(prefix);
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void labDown(prefix).finally(() => process.exit(130)));
main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
