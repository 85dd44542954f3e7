// What NLM costs a failover (issue 15): a Linux kernel client's longest stall through server1's power-off and
// server2's takeover, then through `hanfs reintegrate`, with server1's group NFSv4 only and with it NFSv3+4. With NLM
// on, Ganesha cannot end its grace period early (it has no way to know that every NFSv3 client has reclaimed), so
// the whole grace period stands between the takeover and an NFSv4 client's next OPEN; an NFSv3 client is measured
// too. One lab per setup, one guest booted once per lab, `--trials` takeover + failback rounds on it.
//
//   node --import tsx lab/nlm-cost.ts [--trials 3] [--grace 2] [--setups v4only/4.1,v3+4/4.1,v3+4/3]
//
// Prints one line per trial and a summary (median) per setup. Needs root, like the lab; removes each lab, also on
// failure.
import { parseArgs } from 'node:util';
import { phaseOf, powerOff, powerOn } from './agents.ts';
import { LAB_NFS } from './config.ts';
import type { NfsVersion } from './guest/registry.ts';
import { KernelClient } from './kernel-client.ts';
import { labDown, labUp } from './lifecycle.ts';
import { reintegrate } from './scenarios/harness.ts';
import { waitUntil } from './wait.ts';

interface Setup {
  name: string;
  nfsv3: boolean;
  vers: NfsVersion;
}

interface Trial {
  takeoverStallMs: number;
  failbackStallMs: number;
  crashToOnlineMs: number;
  failed: number;
  lost: number;
  locks: string;
}

const { values } = parseArgs({
  options: { trials: { type: 'string', default: '3' }, grace: { type: 'string', default: String(LAB_NFS.graceSeconds) },
    setups: { type: 'string', default: 'v4only/4.1,v3+4/4.1,v3+4/3' } },
});
const trials = Number(values.trials);
const grace = Number(values.grace);
const setups: Setup[] = values.setups!.split(',').map((s) => {
  const [group, vers] = s.split('/');
  if ((group !== 'v4only' && group !== 'v3+4') || !['4.1', '4.0', '3'].includes(vers ?? '')) throw new Error(`--setups: GROUP/VERS, GROUP v4only or v3+4, not ${s}`);
  if (group === 'v4only' && vers === '3') throw new Error('an NFSv4-only group has no NFSv3 client');
  return { name: `${group === 'v4only' ? 'NFSv4-only group' : 'NFSv3+4 group'}, NFSv${vers} client`, nfsv3: group === 'v3+4', vers: vers as NfsVersion };
});

async function round(prefix: string, c: KernelClient): Promise<Trial> {
  await c.begin();
  const crashMark = c.mark();
  const darkAt = await powerOff(prefix, 'server1');
  await waitUntil(async () => (await phaseOf(prefix, 'server2')) === 'serving_both', 30_000, 'server2 serving both');
  const crashToOnlineMs = Date.now() - darkAt;
  await c.everyLoopSucceeded(crashMark, 5);
  await powerOn(prefix, 'server1');
  const askMark = c.mark();
  await reintegrate(prefix, 'server1');
  await c.everyLoopSucceeded(askMark, 5);
  const takeover = c.phase(crashMark, askMark);
  const failback = c.phase(askMark);
  const t = await c.end();
  return {
    takeoverStallMs: takeover.longestStallMs, failbackStallMs: failback.longestStallMs, crashToOnlineMs,
    failed: t.failed, lost: t.lost, locks: t.locks,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary: string[] = [];
let current = '';
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void labDown(current).finally(() => process.exit(130)));
}
for (const [i, setup] of setups.entries()) {
  const prefix = `hc${process.pid % 10000}${i}`;
  current = prefix;
  try {
    await labUp(prefix, {
      reintegrate: 'manual', timeoutMs: 60_000,
      nfs: { leaseSeconds: grace, graceSeconds: grace, ...(setup.nfsv3 ? { nfsv3: 'server1' as const } : {}) },
    });
    const client = await KernelClient.boot(prefix, 'neta', setup.vers);
    const done: Trial[] = [];
    for (let n = 1; n <= trials; n++) {
      const t = await round(prefix, client);
      done.push(t);
      console.log(`${setup.name}, trial ${n}: crash → online ${t.crashToOnlineMs} ms; longest stall: takeover ${t.takeoverStallMs} ms, `
        + `failback ${t.failbackStallMs} ms; ${t.failed} failed, ${t.lost} lost; locks ${t.locks}`);
    }
    summary.push(`${setup.name} (grace ${grace} s, ${trials} trials): median longest stall takeover ${median(done.map((t) => t.takeoverStallMs))} ms `
      + `(${done.map((t) => t.takeoverStallMs).join(', ')}), failback ${median(done.map((t) => t.failbackStallMs))} ms (${done.map((t) => t.failbackStallMs).join(', ')})`);
  } finally {
    await labDown(prefix);
  }
}
console.log(summary.join('\n'));
