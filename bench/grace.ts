// What the Ganesha that took a group over says about its grace period: how many clients it had on record (allowed
// to reclaim), how many had sent RECLAIM_COMPLETE at its last check, and how long grace lasted. Ganesha 4.3 logs
// "NFS Server Now IN GRACE, duration N" when grace starts, "check grace:reclaim complete(R) clid count(C)" at each
// check (at start and on its reaper thread), and "NFS Server Now NOT IN GRACE" when it ends (nfs4_recovery.c):
// grace ends before its full duration only when R = C.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from '../lab/config.ts';
import { labPath } from '../lab/state.ts';

export interface GraceSeen {
  /** Clients on record at the last check before grace ended (or the last check seen). */
  onRecord: number;
  /** Of those, how many had sent RECLAIM_COMPLETE. */
  reclaimed: number;
  /** From "IN GRACE" to "NOT IN GRACE", in Ganesha's whole seconds; null if it had not ended. */
  lastedS: number | null;
  /** The duration Ganesha started it with. */
  durationS: number;
}

/** Ganesha's default time stamp, "DD/MM/YYYY HH:MM:SS", as ms since the epoch (the lab runs in UTC). */
function stampMs(line: string): number | null {
  const m = /^(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d)/.exec(line);
  return m ? Date.UTC(+m[3]!, +m[2]! - 1, +m[1]!, +m[4]!, +m[5]!, +m[6]!) : null;
}

/** The first grace period in `log` that started at or after `sinceMs` (whole seconds), or null. */
export function graceIn(log: string, sinceMs: number): GraceSeen | null {
  let seen: GraceSeen | null = null;
  let startedMs = 0;
  for (const line of log.split('\n')) {
    const at = stampMs(line);
    if (at === null || at < Math.floor(sinceMs / 1000) * 1000) continue;
    const start = /NFS Server Now IN GRACE, duration (\d+)/.exec(line);
    if (start && !seen) {
      seen = { onRecord: 0, reclaimed: 0, lastedS: null, durationS: Number(start[1]) };
      startedMs = at;
      continue;
    }
    if (!seen) continue;
    const check = /check grace:reclaim complete\((\d+)\) clid count\((\d+)\)/.exec(line);
    if (check) {
      seen.reclaimed = Number(check[1]);
      seen.onRecord = Number(check[2]);
    } else if (line.includes('NFS Server Now NOT IN GRACE')) {
      seen.lastedS = (at - startedMs) / 1000;
      break;
    }
  }
  return seen;
}

/** `group`'s grace as seen in the log of its Ganesha on `server` (the lab's runDir layout), from `sinceMs`. */
export function graceOnServer(prefix: string, server: Server, group: Server, sinceMs: number): GraceSeen | null {
  try {
    return graceIn(readFileSync(join(labPath(prefix, `${server}-run`), group, 'ganesha.log'), 'utf8'), sinceMs);
  } catch {
    return null;
  }
}

/**
 * Who is on record with the server when a group moves. libnfs-v4.0: client1's libnfs writer runs throughout, and its
 * NFSv4.0 clients (one per operation) can never reclaim, so Ganesha keeps its whole grace. v4.1-only: the writer
 * falls silent before each move until Ganesha has expired its clients, so that the kernel NFSv4.1 client alone is
 * on record and grace can end once it has reclaimed.
 */
export const CLIENT_MIXES = ['libnfs-v4.0', 'v4.1-only'] as const;
export type ClientMix = (typeof CLIENT_MIXES)[number];

/** How long the writer stays silent: Ganesha expires a client a lease after its last call, on a reaper pass every lease / 2 s. */
export function quietMsFor(mix: ClientMix, leaseSeconds: number): number {
  return mix === 'v4.1-only' ? (leaseSeconds + Math.floor(leaseSeconds / 2) + 3) * 1000 : 0;
}
