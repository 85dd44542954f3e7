// Did a guest keep its locks through a move of the server? A Linux client that could not reclaim a lock says so on
// its console ("lost 2 locks", "reclaim failed") and from then on fails I/O through the locked descriptor with EIO;
// the lock helpers' own read-back (op=flock-verify, op=fcntl-verify) tells whether every acknowledged record under
// the lock is there. All three must be clean for the locks to count as kept.
import { lastConsoleLines } from './lifecycle.ts';
import { streamOf, type Op } from './results.ts';

/** The workload loops that hold a lock (lab/guest/init.sh starts them). */
export const LOCK_LOOPS = ['flock', 'fcntl'];

export interface LockVerdict {
  kept: boolean;
  /** The guest kernel's complaints about lost state, without the kernel's timestamps. */
  complaints: string[];
  /** Operations through the locked descriptors that failed. */
  failures: Op[];
  /**
   * The lock loops whose read-back of their fsync'ed records was missing or wrong, with how many: the helper reads
   * through a second descriptor of the same file, whose state the client may have lost with the lock.
   */
  badReadBacks: string[];
}

export function lockVerdict(prefix: string, name: string, ops: Op[]): LockVerdict {
  return lockVerdictOf(lastConsoleLines(prefix, name, 400), ops);
}

/** The same verdict from console text already read: e.g. only what the console got since a trial began. */
export function lockVerdictOf(consoleText: string, ops: Op[]): LockVerdict {
  const complaints = consoleText.replaceAll('\r', '').split('\n')
    .filter((l) => /reclaim failed|lost \d+ locks?|unhandled error/i.test(l)).map((l) => l.replace(/^\s*\[\s*[\d.]+\]\s*/, '').trim());
  const failures = ops.filter((o) => !o.ok && LOCK_LOOPS.includes(streamOf(o.op)) && !o.op.endsWith('verify'));
  const badReadBacks = LOCK_LOOPS.flatMap((tag) => {
    const check = ops.find((o) => o.op === `${tag}-verify`);
    if (check?.ok) return [];
    return [check ? `${tag} ${check.extra.bad} of ${check.extra.records} records` : `${tag} never read back`];
  });
  return { kept: complaints.length === 0 && failures.length === 0 && badReadBacks.length === 0, complaints, failures, badReadBacks };
}

/** One line: "kept", or what was lost and what it cost. */
export function formatLockVerdict(v: LockVerdict): string {
  if (v.kept) return 'kept (flock and fcntl)';
  const errors = [...new Set(v.failures.map((f) => f.extra.err ?? 'no error code'))].join(', ');
  return [`LOST: ${v.complaints.join('; ') || 'no message from the kernel'}`,
    `${v.failures.length} operations under them failed${errors ? ` (${errors})` : ''}`,
    ...(v.badReadBacks.length > 0 ? [`read back wrong or failed: ${v.badReadBacks.join(', ')}`] : [])].join('; ');
}
