// The demo's last table: what each of its two clients lived through in the same failover, side by side. A stall is
// the longest time between two successful operations of a loop (libnfs: of its write + read-back), counted in the
// phase in which it ends.
import { formatLockVerdict } from '../lab/guest/locks.ts';
import type { WorkloadReport } from '../lab/guest/results.ts';
import type { KernelClientResult } from './demo-kernel-client.ts';

export interface LibnfsFigures {
  takeoverStallMs: number;
  reintegrationStallMs: number;
  failedAttempts: number;
  acked: number;
  lost: number;
}

export interface KernelFigures {
  takeover: WorkloadReport;
  reintegration: WorkloadReport;
  result: KernelClientResult;
}

const stall = (r: WorkloadReport) => `${r.longestStallMs} ms (${r.longestStallStream})`;

export function clientsTable(kernel: KernelFigures, libnfs: LibnfsFigures): string {
  const { result } = kernel;
  const underLocks = result.locks.failures.length;
  const rows: [string, string, string][] = [
    ['', 'kernel NFSv4.1 client, hard mount', 'libnfs (nfs-cp + nfs-cat)'],
    ['takeover: longest stall', stall(kernel.takeover), `${libnfs.takeoverStallMs} ms`],
    ['reintegration: longest stall', stall(kernel.reintegration), `${libnfs.reintegrationStallMs} ms`],
    ['failed operations', `${result.whole.failed} of ${result.whole.ops}${underLocks > 0 ? ` (${underLocks} under the lost locks)` : ''}`,
      `${libnfs.failedAttempts} attempts`],
    ["fsync'ed writes lost, outside the locks", `${result.lost} of ${result.checked}`, `${libnfs.lost} of ${libnfs.acked} acknowledged`],
    ['locks (flock, fcntl) kept', result.locks.kept ? 'yes' : 'NO', 'holds none'],
  ];
  const lines = rows.map(([a, b, c]) => `  ${a.padEnd(40)} ${b.padEnd(36)} ${c}`);
  return ['the two clients through the same failover', ...lines,
    `  kernel client's locks: ${formatLockVerdict(result.locks)}`].join('\n');
}
