// CPU load for the scenarios: both cores saturated by stress-ng (a Debian package the fault matrix installs).
import { sh } from '../exec.ts';

/** Both cores busy for `seconds`; resolves when stress-ng is done. */
export async function saturateCpus(seconds: number): Promise<void> {
  await sh(['stress-ng', '--cpu', '2', '--cpu-method', 'matrixprod', '--timeout', `${seconds}s`, '--quiet'], { timeoutMs: (seconds + 30) * 1000 });
}
