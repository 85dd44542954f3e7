// The freeze test: server1's HA daemon (kind "daemon") or every process of server1 ("node") stopped with SIGSTOP for
// a few seconds, then continued, while the lab's sampler looks every 10 ms at who holds each service address and
// each disk. Reported: the longest window in which two servers held one of them, and whether the partner took over.
import { nodePids } from '../lab/agents.ts';
import type { Writer } from '../lab/client.ts';
import { sampleOwnership } from '../lab/sampler.ts';
import { failedSteps, type BenchSystem, type Recovery } from './systems.ts';

export type FreezeKind = 'daemon' | 'node';

export interface FreezeTrial {
  system: string;
  kind: FreezeKind;
  trial: number;
  freezeMs: number;
  longestDoubleMs: number;
  /** What had two holders at some sample: "198.51.100.11", "disk1". */
  doubled: string[];
  takeovers: number;
  recovery: Recovery;
  /** Resource steps that failed during the trial, on either server. */
  failedSteps: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** After the wake, the sampler goes on this long: the double window of VRRP lasts until the woken master is heard. */
const AFTER_WAKE_MS = 3000;

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch { /* gone: a fence command powered the node off */ }
  }
}

export async function freezeTrial(sys: BenchSystem, prefix: string, writer: Writer, kind: FreezeKind, freezeMs: number, trial: number): Promise<FreezeTrial> {
  await writer.okAfter(Date.now(), 30_000, true);
  const sampler = sampleOwnership(prefix);
  const since = Date.now();
  const pids = kind === 'daemon' ? sys.daemonPids(prefix, 'server1') : await nodePids(prefix, 'server1');
  if (pids.length === 0) throw new Error(`nothing to freeze on server1 (${kind})`);
  signal(pids, 'SIGSTOP');
  try {
    await sleep(freezeMs);
  } finally {
    signal(pids, 'SIGCONT');
  }
  await sleep(AFTER_WAKE_MS);
  let recovery: Recovery;
  try {
    recovery = await sys.recover(prefix, 'server1', writer);
  } finally {
    await sampler.stop();
  }
  const report = sampler.now();
  return {
    system: sys.name, kind, trial, freezeMs,
    longestDoubleMs: report.longestDoubleMs,
    doubled: [...new Set(report.doubles.map((d) => d.split(':')[0]!))],
    takeovers: sys.takeoversSince(prefix, since),
    recovery,
    failedSteps: failedSteps(prefix, since),
  };
}
