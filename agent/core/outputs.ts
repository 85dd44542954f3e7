// What a step sends out on its own schedule: heartbeats, mailbox cycles, and the watchdog's deadline.
import type { Ctx } from './context.ts';
import { stopFailed } from './decide.ts';
import { takeForWrite } from './intent.ts';
import { leaseUntil } from './lease.ts';
import { groupActive } from './resources.ts';
import { recordSent, statusRecord } from './state.ts';
import type { Heartbeat, Phase } from './types.ts';

/** While about to take the partner's resources, its lease must not be renewed by our echo. */
const NO_GRANT: readonly Phase[] = ['power_fencing', 'fencing_partner', 'taking_over'];

/** Sent from the start, even before the mailbox is read: a booting agent is alive, not hung. */
export function sendHeartbeatIfDue(ctx: Ctx): void {
  const { s, cfg, now } = ctx;
  if (s.lastHbAt !== null && now - s.lastHbAt < cfg.timing.heartbeatIntervalMs) return;
  s.lastHbAt = now;
  s.hbSeq++;
  recordSent(s, s.hbSeq, now);
  const p = s.partner;
  const hb: Heartbeat = {
    from: cfg.self,
    gen: s.gen,
    seq: s.hbSeq,
    sentAt: now,
    status: statusRecord(s, cfg.self),
    outbox: { ...s.out, fence: s.persistedFence },
    echo: p.gen > 0 ? { gen: p.gen, seq: p.seq } : null,
    grant: !NO_GRANT.includes(s.phase),
    maintenance: s.maintenance,
  };
  ctx.fx.push({ type: 'send_heartbeat', hb });
}

/**
 * Every disk interval; at once while intent records wait to be written or the partner's log to be read, unless the
 * last cycle failed (a disk that fails at once must not be retried in a tight loop).
 */
export function startDiskCycleIfDue(ctx: Ctx): void {
  const { s, cfg, now } = ctx;
  const d = s.disk;
  if (d.pendingStartedAt !== null) return;
  const urgent = s.recovered && d.failures === 0 && (s.intent.unwritten.length > 0 || s.intent.readPartner);
  if (!urgent && d.lastStartAt !== null && now - d.lastStartAt < cfg.timing.diskIntervalMs) return;
  d.opId++;
  d.pendingStartedAt = now;
  d.lastStartAt = now;
  d.pendingWrite = s.recovered;
  d.pendingFence = s.out.fence;
  let write = null;
  if (s.recovered) {
    s.counter++;
    write = { slot: statusRecord(s, cfg.self), outbox: { ...s.out }, intents: takeForWrite(s) };
  }
  // The first cycle of a run reads back its own log; a takeover reads the partner's.
  d.pendingReadsPartner = s.recovered && s.intent.readPartner;
  const readIntents: Array<'own' | 'partner'> = !s.recovered ? ['own'] : d.pendingReadsPartner ? ['partner'] : [];
  ctx.fx.push({ type: 'disk_cycle', opId: d.opId, write, readIntents });
}

export function armWatchdog(ctx: Ctx): void {
  const { s, cfg, now } = ctx;
  let until: number | null = null;
  if (Object.values(s.groups).some(stopFailed)) until = now;
  // Without any lease in this life (fenced at boot, cleaning up leftovers) there is no deadline to guard.
  else if (s.renewedFrom !== null && Object.values(s.groups).some(groupActive)) until = leaseUntil(s.renewedFrom, cfg.timing);
  if (until !== s.watchdogUntil) {
    s.watchdogUntil = until;
    ctx.fx.push({ type: 'watchdog', until });
  }
}
