// What a step sends out on its own schedule: heartbeats, mailbox cycles, and the watchdog's deadline.
import type { Ctx } from './context.ts';
import { stopFailed } from './decide.ts';
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

export function startDiskCycleIfDue(ctx: Ctx): void {
  const { s, cfg, now } = ctx;
  const d = s.disk;
  if (d.pendingStartedAt !== null) return;
  if (d.lastStartAt !== null && now - d.lastStartAt < cfg.timing.diskIntervalMs) return;
  d.opId++;
  d.pendingStartedAt = now;
  d.lastStartAt = now;
  d.pendingWrite = s.recovered;
  d.pendingFence = s.out.fence;
  let write = null;
  if (s.recovered) {
    s.counter++;
    write = { slot: statusRecord(s, cfg.self), outbox: { ...s.out } };
  }
  ctx.fx.push({ type: 'disk_cycle', opId: d.opId, write });
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
