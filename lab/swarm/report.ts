// What the swarm saw, as figures: how many members held state, how many got it back after the move and how fast,
// what failed and why, when grace ended for a client, whether the intruder ever got the lock, and what the server
// still holds. Times are milliseconds from the move.
import { NFS4ERR, statusName } from './nfs4-const.ts';
import { spread, tally, type Spread } from './stats.ts';
import { stillHeld, type Swarm, type Verification } from './swarm.ts';

export interface SwarmReport {
  server: string;
  exportPath: string;
  directory: string;
  clients: number;
  /** Members that held their open and lock before the move. */
  holding: number;
  setupMs: number;
  setupErrors: Record<string, number>;
  /** Whether the move's moment was marked by its cause (else: the first failure a member saw). */
  moveMarked: boolean;
  moveAt: string | null;
  /** Members that saw their server fail, and found it again. */
  sawFailure: number;
  reconnected: number;
  /** Members told their session was unknown: the server rebooted or moved. */
  sawReboot: number;
  /** From the move: the first member connected to a server again. */
  serverBackMs: number | null;
  reclaimedOpens: number;
  reclaimedLocks: number;
  reclaimCompletes: number;
  /** Members whose recovery failed, by its last error. */
  failures: Record<string, number>;
  /** From the move to each member's lock reclaimed. */
  reclaimMs: Spread | null;
  /** From the first reconnection to each member's lock reclaimed: the part the grace period must cover. */
  reclaimAfterServerBackMs: Spread | null;
  intruder: {
    victim: number;
    attempts: number;
    refusedWithGrace: number;
    /** Answers by status, e.g. { NFS4ERR_GRACE: 30, NFS4ERR_DENIED: 1 }. */
    answers: Record<string, number>;
    /** From the move: the first answer that was not NFS4ERR_GRACE (grace over, as a client sees it). */
    graceEndedMs: number | null;
    /** The conflicting lock was granted: the victim's lock was gone (never reclaimed, or lost after). */
    granted: boolean;
    /** The victim had reclaimed its lock: a grant is then the server breaking a lock it gave back. */
    victimReclaimed: boolean;
    /** Answers before the first one that was not NFS4ERR_GRACE: 0 means the intruder only got through after grace. */
    probedDuringGrace: boolean;
    errors: string[];
  } | null;
  /** After everything settled: members whose open, whose lock, the server still holds. */
  opensHeld: number;
  locksHeld: number;
  /** Ranges the intruder's LOCKT found locked. */
  rangesLocked: number;
  /** Members that held state before the move and do not hold all of it now. */
  stateLost: number;
  /** Of those, members that had reclaimed everything: the server lost what it had granted back. */
  lostAfterReclaim: number;
  /** The first few lost, those lost after a reclaim first, with what the server said. */
  lostMembers: string[];
  settled: boolean;
}

const since = (t: number | undefined, from: number | undefined) => (t === undefined || from === undefined ? null : t - from);

export function buildReport(swarm: Swarm, v: Verification, settled: boolean): SwarmReport {
  const o = swarm.opts;
  const holders = swarm.holders.filter(Boolean);
  const moveAt = swarm.moveAt;
  const reconnects = holders.map((h) => h.times.reconnectedAt).filter((t): t is number => t !== undefined);
  const serverBack = reconnects.length > 0 ? Math.min(...reconnects) : undefined;
  const lockTimes = holders.map((h) => h.times.lockReclaimedAt).filter((t): t is number => t !== undefined);
  const failed = holders.filter((h) => h.phase === 'failed' && h.lockStateid !== null);
  const x = swarm.intruder;
  const answers = x ? tally(x.attempts.map((a) => a.answer)) : {};
  const lost = holders.map((h, i) => ({ h, i })).filter(({ h, i }) => h.lockStateid !== null && !stillHeld(v, i));
  return {
    server: o.server, exportPath: o.exportPath, directory: o.dirName, clients: o.clients,
    holding: holders.filter((h) => h.lockStateid !== null).length,
    setupMs: swarm.setupMs, setupErrors: tally(swarm.setupErrors),
    moveMarked: swarm.moveMarkedAt !== undefined, moveAt: moveAt === undefined ? null : new Date(moveAt).toISOString(),
    sawFailure: holders.filter((h) => h.times.failedAt !== undefined).length,
    reconnected: reconnects.length,
    sawReboot: holders.filter((h) => h.times.rebootSeenAt !== undefined).length,
    serverBackMs: since(serverBack, moveAt),
    reclaimedOpens: holders.filter((h) => h.times.openReclaimedAt !== undefined).length,
    reclaimedLocks: lockTimes.length,
    reclaimCompletes: holders.filter((h) => h.times.reclaimCompleteAt !== undefined).length,
    failures: tally(failed.map((h) => h.errors[h.errors.length - 1] ?? 'unknown')),
    reclaimMs: moveAt === undefined ? null : spread(lockTimes.map((t) => t - moveAt)),
    reclaimAfterServerBackMs: serverBack === undefined ? null : spread(lockTimes.map((t) => t - serverBack)),
    intruder: x && {
      victim: o.victim, attempts: x.attempts.length, refusedWithGrace: answers[statusName(NFS4ERR.GRACE)] ?? 0, answers,
      graceEndedMs: since(x.graceEndedAt, moveAt), granted: x.attempts.some((a) => a.answer === statusName(NFS4ERR.OK)),
      victimReclaimed: swarm.holders[o.victim]?.times.lockReclaimedAt !== undefined,
      probedDuringGrace: (answers[statusName(NFS4ERR.GRACE)] ?? 0) > 0,
      errors: [...new Set(x.errors)].slice(0, 10),
    },
    opensHeld: v.held.filter((h) => typeof h === 'object' && h.open === NFS4ERR.OK).length,
    locksHeld: v.held.filter((h) => typeof h === 'object' && h.lock === NFS4ERR.OK).length,
    rangesLocked: v.locked.filter((l) => l === true).length,
    stateLost: lost.length,
    lostAfterReclaim: lost.filter(({ h }) => h.times.lockReclaimedAt !== undefined).length,
    lostMembers: [...lost].sort((a, b) => Number(b.h.times.lockReclaimedAt !== undefined) - Number(a.h.times.lockReclaimedAt !== undefined)).slice(0, 10).map(({ h, i }) => `${i}: ${describeHeld(v.held[i])}, range ${v.locked[i] === true ? 'locked' : v.locked[i] === false ? 'free' : v.locked[i]}${h.errors.length ? ` (${h.errors[h.errors.length - 1]})` : ''}`),
    settled,
  };
}

function describeHeld(held: Verification['held'][number] | undefined): string {
  if (typeof held !== 'object') return held ?? 'not asked';
  return `open ${statusName(held.open)}, lock ${statusName(held.lock)}`;
}

const fmt = (s: Spread | null) => (s ? `median ${s.median} ms, p99 ${s.p99} ms, max ${s.max} ms (${s.count} clients)` : 'none');
const counts = (r: Record<string, number>) => Object.entries(r).map(([k, n]) => `${n} × ${k}`).join('; ') || 'none';

export function formatReport(r: SwarmReport): string {
  const x = r.intruder;
  return [
    `swarm of ${r.clients} NFSv4.1 clients on ${r.server}:${r.exportPath}/${r.directory}`,
    `  holding an open and a write lock before the move   ${r.holding} (setup ${r.setupMs} ms; errors: ${counts(r.setupErrors)})`,
    `  move at ${r.moveAt ?? 'never seen'} (${r.moveMarked ? 'marked by its cause' : 'first failure a client saw'})`,
    `  saw the server fail / reconnected / told it rebooted  ${r.sawFailure} / ${r.reconnected} / ${r.sawReboot}`,
    `  move → first client connected again                 ${r.serverBackMs ?? '-'} ms`,
    `  reclaimed opens / locks / RECLAIM_COMPLETE          ${r.reclaimedOpens} / ${r.reclaimedLocks} / ${r.reclaimCompletes}`,
    `  failures by error                                   ${counts(r.failures)}`,
    `  reclaim time from the move                          ${fmt(r.reclaimMs)}`,
    `  reclaim time from the first reconnection            ${fmt(r.reclaimAfterServerBackMs)}`,
    x ? `  intruder on client ${x.victim}'s range: ${x.attempts} conflicting LOCKs, ${counts(x.answers)}; ` +
      `${x.granted ? `GRANTED the lock (client ${x.victim} ${x.victimReclaimed ? 'HAD reclaimed it' : 'had not reclaimed it'})` : 'never granted the lock'}` +
      `${x.probedDuringGrace ? '' : '; its first request came after grace'}` : '  no intruder',
    `  grace ended, as a client saw it                     ${x?.graceEndedMs ?? '-'} ms after the move`,
    `  held afterwards (TEST_STATEID): opens / locks        ${r.opensHeld} / ${r.locksHeld}; ranges locked (LOCKT) ${r.rangesLocked}`,
    `  state lost (of it, after a reclaim)                 ${r.stateLost} (${r.lostAfterReclaim})${r.lostMembers.length ? `, e.g.\n    ${r.lostMembers.join('\n    ')}` : ''}`,
    ...(r.settled ? [] : ['  NOT SETTLED: some clients were still recovering when the swarm gave up']),
  ].join('\n');
}
