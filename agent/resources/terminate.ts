// Ending processes the way init systems do: SIGTERM, a grace period to exit cleanly, then SIGKILL for whatever is
// left. Used on Ganesha at stop and on the processes that keep a file system busy at unmount.
import { processAlive } from '../sensors/process-alive.ts';

const POLL_MS = 50;
/** How long a SIGKILLed process may take to be gone (it may first have to finish a system call in the kernel). */
const AFTER_KILL_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitGone(pids: readonly number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let alive = pids.filter((pid) => processAlive(pid));
  while (alive.length > 0 && Date.now() < until) {
    await sleep(POLL_MS);
    alive = alive.filter((pid) => processAlive(pid));
  }
  return alive;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: it ended on its own in the meantime.
  }
}

/**
 * TERMs each process, waits up to `graceMs` for all to end, KILLs the survivors and waits for them too. Never
 * signals this process itself, whatever it is given. Resolves with the PIDs still alive at the end.
 */
export async function terminateProcesses(pids: readonly number[], graceMs: number): Promise<number[]> {
  const others = pids.filter((pid) => pid !== process.pid);
  for (const pid of others) signal(pid, 'SIGTERM');
  const stubborn = await waitGone(others, graceMs);
  for (const pid of stubborn) signal(pid, 'SIGKILL');
  return waitGone(stubborn, AFTER_KILL_MS);
}
