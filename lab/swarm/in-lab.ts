// The swarm through a takeover in the namespace lab, and optionally the failback: the swarm runs in client1's
// network namespace (nsenter --net only, so that it holds no server's mount namespace alive), holds its state on
// /srv1, server1 crashes, and server2 takes 198.51.100.11 and /srv1 over with a fresh Ganesha in grace. With
// `failback`, once every member has settled server1 comes back (fenced) and is reintegrated: server2 stops its
// Ganesha for /srv1 and server1 starts its own, in grace again, and every member must reclaim a second time. Used by
// the lab tests and by hand (lab/swarm/takeover.ts) for the measurements at 10, 100 and 1000 clients.
import { spawn } from 'node:child_process';
import { powerOff, powerOn } from '../agents.ts';
import { sh } from '../exec.ts';
import { reintegrate, waitPhase } from '../scenarios/harness.ts';
import { nsName } from '../topology.ts';
import type { ProbeAnswer } from './lock-probe.ts';
import type { SwarmReport } from './report.ts';

const MAIN = new URL('./main.ts', import.meta.url).pathname;
const LOCK_PROBE = new URL('./lock-probe.ts', import.meta.url).pathname;

/**
 * A second party asks server1's service address whether each file under `exportPath` is write-locked by somebody
 * else (lab/swarm/lock-probe.ts: LOCKT, asked again while the server is in grace), from client1's network namespace.
 */
export async function probeLocks(prefix: string, exportPath: string, files: string[], timeoutMs = 20_000, server = '198.51.100.11'): Promise<Record<string, ProbeAnswer>> {
  const out = await sh(['nsenter', `--net=/run/netns/${nsName(prefix, 'client1')}`, process.execPath, '--import', 'tsx', LOCK_PROBE,
    '--server', server, '--export', exportPath, '--timeout-ms', String(timeoutMs), ...files], { timeoutMs: timeoutMs + 30_000 });
  return JSON.parse(out) as Record<string, ProbeAnswer>;
}

export interface LabSwarmRun {
  /** The takeover's report. */
  report: SwarmReport;
  /** The failback's report, when there was one. */
  failback?: SwarmReport;
  /** The swarm's own stderr: its progress lines. */
  stderr: string;
  crashToServingBothMs: number;
  /** `hanfs reintegrate` (the swarm's mark of the failback) → both servers normal. */
  reintegrateToBothNormalMs?: number;
  /** The swarm from its start to its report: setup, both moves, verification and release. */
  swarmMs: number;
  exitCode: number | null;
}

export interface LabSwarmOptions {
  /** More main.ts options. */
  extra?: string[];
  /** After the takeover, server1 back and reintegrated: the swarm goes through the failback too. */
  failback?: boolean;
  /** How long the swarm may take to set up (and, with failback, to settle after the takeover). */
  readyTimeoutMs?: number;
}

/** Runs a swarm of `clients` through a crash of server1 and, with `failback`, its reintegration. */
export async function swarmThroughTakeover(prefix: string, clients: number, o: LabSwarmOptions = {}): Promise<LabSwarmRun> {
  const readyTimeoutMs = o.readyTimeoutMs ?? 120_000;
  const argv = ['nsenter', `--net=/run/netns/${nsName(prefix, 'client1')}`, process.execPath, '--import', 'tsx', MAIN,
    '--server', '198.51.100.11', '--export', '/srv1', '--clients', String(clients), '--json', '--moves', o.failback ? '2' : '1',
    // A lab takeover takes seconds: a swarm that sees no move in a minute never will.
    '--move-timeout-ms', '60000', ...(o.extra ?? [])];
  const startedAt = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: new URL('../..', import.meta.url).pathname });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Resolves once the swarm has said `text` on stderr; rejects if it exits first or takes longer than timeoutMs. */
  const said = (text: string, timeoutMs: number) => new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (stderr.includes(text)) done(resolve);
      else if (Date.now() > deadline) done(() => reject(new Error(`the swarm did not say "${text}" within ${timeoutMs} ms:\n${stderr}`)));
      else if (child.exitCode !== null || child.signalCode !== null) done(() => reject(new Error(`the swarm exited (${child.exitCode ?? child.signalCode}) before "${text}":\n${stderr}`)));
    }, 20);
    const deadline = Date.now() + timeoutMs;
    const done = (then: () => void) => {
      clearInterval(timer);
      then();
    };
  });
  try {
    await said('swarm ready:', readyTimeoutMs);
    // A second of steady lease renewals first, as clients that have been there a while.
    await new Promise((r) => setTimeout(r, 1000));
    const crashedAt = Date.now();
    child.kill('SIGUSR1');
    await powerOff(prefix, 'server1');
    await waitPhase(prefix, 'server2', 'serving_both');
    const crashToServingBothMs = Date.now() - crashedAt;
    let reintegrateToBothNormalMs: number | undefined;
    if (o.failback) {
      await said('ready for move 2', readyTimeoutMs);
      await powerOn(prefix, 'server1');
      await waitPhase(prefix, 'server1', 'fenced', 20_000);
      const askedAt = Date.now();
      child.kill('SIGUSR1');
      await reintegrate(prefix, 'server1');
      reintegrateToBothNormalMs = Date.now() - askedAt;
    }
    const exitCode = await exited;
    const swarmMs = Date.now() - startedAt;
    const start = stdout.search(/^[[{]/m);
    if (start < 0) throw new Error(`the swarm printed no report (exit ${exitCode}):\n${stderr}`);
    const parsed = JSON.parse(stdout.slice(start)) as SwarmReport | SwarmReport[];
    const [report, failback] = Array.isArray(parsed) ? parsed : [parsed];
    if (!report || (o.failback && !failback)) throw new Error(`the swarm printed ${Array.isArray(parsed) ? parsed.length : 1} reports (exit ${exitCode}):\n${stderr}`);
    return { report, ...(failback ? { failback } : {}), stderr, crashToServingBothMs, ...(reintegrateToBothNormalMs !== undefined ? { reintegrateToBothNormalMs } : {}), swarmMs, exitCode };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
