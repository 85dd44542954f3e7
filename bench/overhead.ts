// Overhead: the HA daemon's CPU (% of one core, from /proc/PID/stat over the whole window, its commands included)
// and resident memory (sampled every second) on each server; and NFS throughput, a large file read from server1's
// export with libnfs, with both agents running and with both stopped (Ganesha, the disk and the address stay: a
// stopped agent leaves its resources as they are).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { boot, phaseOf } from '../lab/agents.ts';
import { SERVERS, srvDir } from '../lab/config.ts';
import { sh } from '../lab/exec.ts';
import { onNode } from '../lab/mountns.ts';
import { labPath, readState } from '../lab/state.ts';
import { waitUntil } from '../lab/wait.ts';
import { cpuPercent, parseProcStat, type ProcSample } from './proc-stat.ts';
import { summarize, type Summary } from './stats.ts';
import type { BenchSystem } from './systems.ts';

export interface DaemonOverhead {
  system: string;
  describe: string;
  seconds: number;
  servers: { server: string; cpuPercent: number; rssMiBMean: number; rssMiBMax: number }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PAGE = 4096;

function sampleAll(pids: number[]): ProcSample {
  return pids.map((pid) => parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')))
    .reduce((a, b) => ({ cpuTicks: a.cpuTicks + b.cpuTicks, rssPages: a.rssPages + b.rssPages }), { cpuTicks: 0, rssPages: 0 });
}

/** Measures every lab's daemons over the same window. */
export async function daemonOverhead(labs: { sys: BenchSystem; prefix: string }[], seconds: number): Promise<DaemonOverhead[]> {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const targets = labs.flatMap(({ sys, prefix }) => SERVERS.map((server) => ({ sys, server, pids: sys.daemonPids(prefix, server) })));
  const rss = targets.map(() => [] as number[]);
  const started = Date.now();
  const first = targets.map((t) => sampleAll(t.pids));
  while (Date.now() - started < seconds * 1000) {
    await sleep(1000);
    targets.forEach((t, i) => rss[i]!.push((sampleAll(t.pids).rssPages * PAGE) / 2 ** 20));
  }
  const elapsed = Date.now() - started;
  const last = targets.map((t) => sampleAll(t.pids));
  return labs.map(({ sys }) => ({
    system: sys.name, describe: sys.describe, seconds,
    servers: targets.flatMap((t, i) => t.sys !== sys ? [] : [{
      server: t.server,
      cpuPercent: cpuPercent(first[i]!, last[i]!, elapsed, ticks),
      rssMiBMean: rss[i]!.reduce((a, b) => a + b, 0) / Math.max(1, rss[i]!.length),
      rssMiBMax: Math.max(0, ...rss[i]!),
    }]),
  }));
}

export interface ThroughputRun {
  agents: boolean;
  readMiBs: number;
}

export interface Throughput {
  mib: number;
  runs: ThroughputRun[];
  withAgents: Summary | null;
  withoutAgents: Summary | null;
}

async function setAgents(prefix: string, running: boolean): Promise<void> {
  const state = readState(prefix)!;
  if (running) {
    for (const s of SERVERS) if ((await phaseOf(prefix, s)) === null) await boot(prefix, s);
    await waitUntil(async () => (await Promise.all(SERVERS.map((s) => phaseOf(prefix, s)))).every((p) => p === 'normal'), 30_000, 'both agents normal');
    return;
  }
  for (const s of SERVERS) if ((await phaseOf(prefix, s)) !== null) process.kill(state.agents[s]!, 'SIGTERM');
  await waitUntil(async () => (await Promise.all(SERVERS.map((s) => phaseOf(prefix, s)))).every((p) => p === null), 15_000, 'both agents stopped');
}

/**
 * `runs` rounds, each reading a `mib` MiB file from server1's export into a local file, with the agents running,
 * then stopped. Reads only: libnfs 4.0's NFSv4 client cannot write more than about 3.9 KB in one WRITE ("ZDR
 * error: Failed to encode COMPOUND4args"), so the file is made on server1's disk directly.
 */
export async function nfsThroughput(prefix: string, mib: number, runs: number): Promise<Throughput> {
  const remote = `${srvDir(prefix, 'server1')}/throughput.bin`;
  const local = labPath(prefix, 'throughput-read.bin');
  await sh(onNode(prefix, 'server1', ['dd', 'if=/dev/urandom', `of=${remote}`, 'bs=1M', `count=${mib}`, 'status=none']), { timeoutMs: 600_000 });
  const read = async () => {
    rmSync(local, { force: true });
    const t = Date.now();
    await sh(onNode(prefix, 'client1', ['nfs-cp', 'nfs://198.51.100.11/srv1/throughput.bin?version=4', local]), { timeoutMs: 600_000 });
    const elapsed = Date.now() - t;
    if (statSync(local).size !== mib * 2 ** 20) throw new Error(`read ${statSync(local).size} bytes of ${mib} MiB`);
    return mib / (elapsed / 1000);
  };
  // One read unmeasured, so that every measured one finds the same caches; and the order alternates by round.
  await read();
  const results: ThroughputRun[] = [];
  for (let r = 0; r < runs; r++) {
    for (const agents of r % 2 === 0 ? [true, false] : [false, true]) {
      await setAgents(prefix, agents);
      results.push({ agents, readMiBs: await read() });
    }
  }
  rmSync(local, { force: true });
  await setAgents(prefix, true);
  const of = (agents: boolean) => summarize(results.filter((r) => r.agents === agents).map((r) => r.readMiBs));
  return { mib, runs: results, withAgents: of(true), withoutAgents: of(false) };
}
