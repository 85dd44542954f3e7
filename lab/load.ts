// CPU load for the fault matrix and the benchmarks: every core saturated by stress-ng (a Debian package both
// install), on the host: the load is CPU only, and the lab's namespaces share the host's CPUs.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Runs stress-ng on every core for `seconds`; `started` gets its PID at once, for a cleanup that kills it by PID. */
export function saturateCpus(seconds: number, started: (pid: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('stress-ng', ['--cpu', String(availableParallelism()), '--timeout', `${seconds}s`, '--quiet'],
      { stdio: 'ignore' });
    child.once('error', reject);
    child.once('spawn', () => started(child.pid!));
    child.once('exit', () => resolve());
  });
}
