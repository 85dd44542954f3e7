// `node --import tsx lab/swarm/main.ts --server 198.51.100.11 --export /srv1 --clients 100`: starts the swarm,
// says "ready" on stderr, waits for the server to move (SIGUSR1 marks the moment the move was caused; without it,
// the first failure a client sees is the moment), waits for every client to reclaim or fail, asks the server what
// it holds, prints the report (--json for the machine), and releases everything. With --moves 2 (a takeover, then
// the failback) it says "settled after move 1" and "ready for move 2" on stderr in between, and reports each move. In the lab it runs in the
// client's namespace: `nsenter --net=/run/netns/PREFIX-client1 node --import tsx lab/swarm/main.ts ...`.
// Exit status: 0 when no state was lost and the intruder never got the lock, 1 otherwise, 2 on bad input.
import { parseArgs } from 'node:util';
import { formatReport, buildReport, type SwarmReport } from './report.ts';
import { DEFAULT_OPTIONS, Swarm, type SwarmOptions } from './swarm.ts';

const USAGE = `usage: main.ts --server ADDR --export /PATH [--clients N] [--json] [options]
  --clients N               client identities, each with an open file and a write lock (default 10, at most 1000)
  --dir NAME                directory for their files under the export (default swarm-<time>)
  --moves N                 moves to go through, e.g. 2: a takeover and the failback (default 1); one report each
  --move-timeout-ms MS      how long to wait for each move of the server (default 600000; 0: do not wait)
  --recover-timeout-ms MS   how long clients may take to reclaim after the move (default ${DEFAULT_OPTIONS.recoverTimeoutMs})
  --renew-ms MS             lease renewal interval (default ${DEFAULT_OPTIONS.renewMs})
  --call-timeout-ms MS      a call without a reply fails its connection (default ${DEFAULT_OPTIONS.callTimeoutMs})
  --connect-timeout-ms MS   (default ${DEFAULT_OPTIONS.connectTimeoutMs})
  --retry-ms MS             pause between attempts to reach a server that does not answer (default ${DEFAULT_OPTIONS.retryMs})
  --setup-concurrency N     clients set up at once (default ${DEFAULT_OPTIONS.setupConcurrency})
  --reclaim-concurrency N   clients reclaiming at once (default ${DEFAULT_OPTIONS.reclaimConcurrency})
  --combined                reclaim the open and the lock in one COMPOUND
  --keep                    leave the state in place at the end (no LOCKU, CLOSE, DESTROY_CLIENTID)
  --port N                  (default 2049)`;

function options(): { swarm: SwarmOptions; json: boolean; moves: number; moveTimeoutMs: number; keep: boolean } {
  const { values: v } = parseArgs({
    options: {
      server: { type: 'string' }, export: { type: 'string' }, clients: { type: 'string', default: '10' }, dir: { type: 'string' },
      moves: { type: 'string', default: '1' },
      port: { type: 'string' }, 'move-timeout-ms': { type: 'string', default: '600000' }, 'recover-timeout-ms': { type: 'string' },
      'renew-ms': { type: 'string' }, 'call-timeout-ms': { type: 'string' }, 'connect-timeout-ms': { type: 'string' }, 'retry-ms': { type: 'string' },
      'setup-concurrency': { type: 'string' }, 'reclaim-concurrency': { type: 'string' }, combined: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!v.server || !v.export) throw new Error('--server and --export are required');
  const num = (name: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} ${value}: an integer from ${min} to ${max} expected`);
    return n;
  };
  const d = DEFAULT_OPTIONS;
  const stamp = Date.now().toString(36);
  return {
    swarm: {
      ...d, server: v.server, exportPath: v.export, clients: num('clients', v.clients, 10, 1, 1000), dirName: v.dir ?? `swarm-${stamp}`,
      ownerPrefix: `hanfs-swarm-${stamp}-${process.pid}`, port: num('port', v.port, d.port, 1, 65535),
      recoverTimeoutMs: num('recover-timeout-ms', v['recover-timeout-ms'], d.recoverTimeoutMs, 1),
      renewMs: num('renew-ms', v['renew-ms'], d.renewMs, 10), callTimeoutMs: num('call-timeout-ms', v['call-timeout-ms'], d.callTimeoutMs, 10),
      connectTimeoutMs: num('connect-timeout-ms', v['connect-timeout-ms'], d.connectTimeoutMs, 10),
      retryMs: num('retry-ms', v['retry-ms'], d.retryMs, 1),
      setupConcurrency: num('setup-concurrency', v['setup-concurrency'], d.setupConcurrency, 1),
      reclaimConcurrency: num('reclaim-concurrency', v['reclaim-concurrency'], d.reclaimConcurrency, 1), combined: v.combined ?? false,
    },
    json: v.json ?? false, moves: num('moves', v.moves, 1, 1, 10), moveTimeoutMs: num('move-timeout-ms', v['move-timeout-ms'], 600_000), keep: v.keep ?? false,
  };
}

async function main(): Promise<number> {
  let o: ReturnType<typeof options>;
  try {
    o = options();
  } catch (err) {
    console.error(`swarm: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const swarm = new Swarm(o.swarm);
  process.on('SIGUSR1', () => swarm.markMove());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void swarm.stop(false).finally(() => process.exit(130));
    });
  }
  await swarm.start();
  const holding = swarm.holders.filter((h) => h.lockStateid !== null).length;
  console.error(`swarm ready: ${holding} of ${o.swarm.clients} clients hold an open and a lock (setup ${swarm.setupMs} ms)`);
  const reports: SwarmReport[] = [];
  for (let move = 1; move <= o.moves; move++) {
    const moved = o.moveTimeoutMs > 0 && (await swarm.waitForMove(o.moveTimeoutMs));
    if (moved) console.error(`swarm: the server is gone (move ${move}); reclaiming`);
    const settled = !moved || (await swarm.waitSettled(o.swarm.recoverTimeoutMs));
    const verified = await swarm.verify();
    const report = buildReport(swarm, verified, settled);
    reports.push(report);
    if (!o.json) console.log(`${o.moves > 1 ? `move ${move} of ${o.moves}: ` : ''}${formatReport(report)}`);
    if (move < o.moves) {
      swarm.nextMove(verified);
      const still = swarm.holders.filter((h) => h.lockStateid !== null).length;
      console.error(`swarm settled after move ${move}; ready for move ${move + 1}: ${still} of ${o.swarm.clients} clients hold an open and a lock`);
    }
  }
  await swarm.stop(!o.keep);
  // One move: the report as it always was; more: an array, one per move.
  if (o.json) console.log(JSON.stringify(o.moves > 1 ? reports : reports[0], null, 2));
  const ok = (r: SwarmReport) => r.stateLost === 0 && !r.intruder?.granted && r.settled && r.holding === o.swarm.clients;
  return reports.every(ok) ? 0 : 1;
}

main().then((code) => process.exit(code), (err: Error) => {
  // The server's or the network's answer is the message; a stack only for a bug of our own.
  const bug = err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;
  console.error(`swarm: ${bug ? err.stack ?? err.message : err.message}`);
  process.exit(1);
});
