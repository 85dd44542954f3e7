// Whether a process (an NFS server the agent started, say) still runs. kill(pid, 0) cannot tell: it succeeds on a
// zombie, and an orphan's zombie lingers until PID 1 reaps it (seconds on these machines). /proc/PID/status says
// `State: Z` for those. But a multi-threaded process whose main thread has exited shows `Z` too while its other
// threads are still on their way out, holding its locks and sockets (Ganesha's pid-file lock, say): it counts as
// running until `Threads:` is down to the leader. A recycled PID is the caller's concern (compare a start time or
// a pid file).
import { readFileSync } from 'node:fs';

export function processAlive(pid: number, proc = '/proc'): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let status: string;
  try {
    status = readFileSync(`${proc}/${pid}/status`, 'utf8');
  } catch (err) {
    // ESRCH: it went away between opening the file and reading it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return false;
    throw err;
  }
  const state = /^State:\s*(\S)/m.exec(status)?.[1];
  // Z: zombie, X: dead (only ever seen in the instant before the entry disappears).
  if (state !== 'Z' && state !== 'X') return true;
  return Number(/^Threads:\s*(\d+)/m.exec(status)?.[1] ?? 1) > 1;
}
