// The swarm through a takeover in the namespace lab: the swarm runs in client1's network namespace (nsenter
// --net only, so that it holds no server's mount namespace alive), holds its state on /srv1, server1 crashes, and
// server2 takes 198.51.100.11 and /srv1 over with a fresh Ganesha in grace. Used by the lab test and by hand
// (lab/swarm/takeover.ts) for the measurements at 10, 100 and 1000 clients.
import { spawn } from 'node:child_process';
import { crash } from '../agents.ts';
import { waitPhase } from '../scenarios/harness.ts';
import { nsName } from '../topology.ts';
import type { SwarmReport } from './report.ts';

const MAIN = new URL('./main.ts', import.meta.url).pathname;

export interface LabSwarmRun {
  report: SwarmReport;
  /** The swarm's own text report, as it would print it. */
  stderr: string;
  crashToServingBothMs: number;
  exitCode: number | null;
}

/** Runs a swarm of `clients` through a crash of server1; `extra` are more main.ts options. */
export async function swarmThroughTakeover(prefix: string, clients: number, extra: string[] = [], readyTimeoutMs = 120_000): Promise<LabSwarmRun> {
  const argv = ['nsenter', `--net=/run/netns/${nsName(prefix, 'client1')}`, process.execPath, '--import', 'tsx', MAIN,
    '--server', '198.51.100.11', '--export', '/srv1', '--clients', String(clients), '--json',
    // A lab takeover takes seconds: a swarm that sees no move in a minute never will.
    '--move-timeout-ms', '60000', ...extra];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: new URL('../..', import.meta.url).pathname });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the swarm was not ready within ${readyTimeoutMs} ms:\n${stderr}`)), readyTimeoutMs);
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes('swarm ready:')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => reject(new Error(`the swarm exited (${code}) before it was ready:\n${stderr}`)));
    });
    // A second of steady lease renewals first, as clients that have been there a while.
    await new Promise((r) => setTimeout(r, 1000));
    const crashedAt = Date.now();
    child.kill('SIGUSR1');
    await crash(prefix, 'server1');
    await waitPhase(prefix, 'server2', 'serving_both');
    const crashToServingBothMs = Date.now() - crashedAt;
    const exitCode = await exited;
    const start = stdout.indexOf('{');
    if (start < 0) throw new Error(`the swarm printed no report (exit ${exitCode}):\n${stderr}`);
    return { report: JSON.parse(stdout.slice(start)) as SwarmReport, stderr, crashToServingBothMs, exitCode };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
