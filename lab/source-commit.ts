// The code a lab run measured, for its results file (the fault matrix, the benchmarks): the checkout's
// `git describe --always --dirty`, so that a figure can be traced to the commit that made it.
import { execFileSync } from 'node:child_process';

export function sourceCommit(): string {
  return execFileSync('git', ['describe', '--always', '--dirty'], { encoding: 'utf8' }).trim();
}
