// The events of one step: what a heartbeat, a mailbox cycle, a resource result, a sensor or the operator tells the
// node, folded into its state. Decisions are taken afterwards (decide.ts), on the state as a whole.
import { diskAlive, diskReadOk, heard, icmpReply, resetDetector } from './detector.ts';
import { mergeOutbox } from './fence.ts';
import { quietGapCapMs } from './lease.ts';
import { logStepDone, recoverIntents, replayPartnerLog, writeSettled } from './intent.ts';
import { isFenced, report, type Ctx } from './context.ts';
import { healthFailed, requestRestart, resourceDone } from './resources.ts';
import { sentTime, type NodeState, type PartnerView } from './state.ts';
import type { CoreEvent, Heartbeat, MailboxView, OperatorRequest, Outbox, StatusRecord } from './types.ts';

/**
 * The adapter steps the core at least every heartbeat interval. A longer gap means this agent was descheduled or
 * its clock jumped: whatever its probes saw before is stale (the partner may have come back meanwhile), so the
 * escalation starts over on fresh evidence. This only delays a verdict, never hastens one.
 */
export function noticePause(ctx: Ctx): void {
  const { s, cfg, now } = ctx;
  const gap = s.lastStepAt === null ? 0 : now - s.lastStepAt;
  s.lastStepAt = now;
  if (gap < 0) {
    // Our clock went backwards. The lease would look longer than it is: its start moves back with the clock, and
    // by a step's worth more for the time that passed unseen (it stays armed: a lease made void would disarm the
    // watchdog while stops may still run). The send times an echo would renew it from are void. Heartbeats and
    // mailbox cycles are due at once, not once the clock has caught up with their last send. Other times only
    // delay what they gate.
    if (s.renewedFrom !== null) s.renewedFrom += gap - 2 * cfg.timing.heartbeatIntervalMs;
    s.sentAt.fill(-1);
    s.lastHbAt = null;
    s.disk.lastStartAt = null;
    report(ctx, 'warn', `our clock went back ${Math.round(-gap)} ms: the lease is shortened to match`);
  }
  if (gap > 2 * cfg.timing.heartbeatIntervalMs && s.detector.stage !== 'watching') {
    resetDetector(s.detector, now);
    report(ctx, 'info', `resumed after ${Math.round(gap)} ms without a step: partner probes start over`);
  }
}

export function apply(ctx: Ctx, ev: CoreEvent): void {
  const { s, cfg, now } = ctx;
  switch (ev.type) {
    case 'tick':
      return;
    case 'heartbeat':
      return acceptHeartbeat(ctx, ev.net, ev.hb);
    case 'icmp_reply':
      return icmpReply(s.detector, ev.probeId);
    case 'disk_done':
      return diskDone(ctx, ev.opId, ev.ok, ev.view, ev.error);
    case 'resource_done': {
      const g = s.groups[ev.group];
      const line = g && resourceDone(g, ev.resource, ev.op, ev.ok, ev.error, now, cfg.restartLimit);
      if (line) report(ctx, g.stopFailed ? 'error' : 'warn', line);
      logStepDone(s, ev.group, ev.resource, ev.op, ev.ok, ev.error);
      return;
    }
    case 'health': {
      const g = s.groups[ev.group];
      // In maintenance the operator may be working on the resources: a failed check is theirs to act on.
      if (!ev.ok && g && isOurs(s, g.id) && !s.maintenance) {
        const line = healthFailed(g, ev.resource, ev.detail, now, cfg.restartLimit);
        if (line) report(ctx, 'warn', line);
      }
      return;
    }
    case 'link': {
      const l = s.links[ev.net];
      if (l && l.up !== ev.up) s.links[ev.net] = { up: ev.up, since: now };
      return;
    }
    case 'fence_command_done':
      if (s.powerFence?.result === 'pending') {
        s.powerFence.result = ev.ok ? 'ok' : 'failed';
        if (!ev.ok) report(ctx, 'error', `fence command failed: ${ev.error ?? 'no reason given'}`);
      }
      return;
    case 'command':
      return operatorCommand(ctx, ev);
  }
}

function isOurs(s: NodeState, group: string): boolean {
  const g = s.groups[group];
  return !!g && g.target === 'online';
}

function acceptHeartbeat(ctx: Ctx, net: string, hb: Heartbeat): void {
  const { s, cfg, now } = ctx;
  const p = s.partner;
  if (hb.from !== cfg.partner || !s.recovered) return;
  // Each heartbeat goes out on every network with one sequence number: the copy on another network is news for
  // that network only; anything older, or the same again on one network, is stale, reordered or replayed.
  if (hb.gen < p.gen || (hb.gen === p.gen && hb.seq < p.seq)) return;
  const sameSeq = hb.gen === p.gen && hb.seq === p.seq;
  if (sameSeq && p.seqOnNet[net] === hb.seq) return;
  p.seqOnNet[net] = hb.seq;
  heard(s.detector, net, now);
  if (sameSeq) return;
  p.gen = hb.gen;
  p.seq = hb.seq;
  evidence(s, now);
  p.status = hb.status;
  p.maintenance = hb.maintenance;
  acceptOutbox(s, hb.outbox);
  if (hb.grant && hb.echo && hb.echo.gen === s.gen && !isFenced(ctx)) {
    const at = sentTime(s, hb.echo.seq);
    if (at !== null) renew(s, at, now);
  }
}

function evidence(s: NodeState, now: number): void {
  s.partner.lastEvidenceAt = now;
  s.partner.quietMs = 0;
  s.partner.lastQuietReadStartedAt = null;
}

/** A time later than now was taken before our clock went back (noticePause): it renews nothing. */
function renew(s: NodeState, from: number, now: number): void {
  if (from <= now && (s.renewedFrom === null || from > s.renewedFrom)) s.renewedFrom = from;
}

function acceptOutbox(s: NodeState, o: Outbox): void {
  s.partner.outbox = mergeOutbox(s.partner.outbox, o);
  const f = s.partner.outbox.fence;
  if (f) {
    s.maxTerm = Math.max(s.maxTerm, f.term);
    if (!f.active) s.releasedTerm = Math.max(s.releasedTerm, f.term);
  }
  if (o.ping > s.pong) s.pong = o.ping;
}

function diskDone(ctx: Ctx, opId: number, ok: boolean, view: MailboxView | undefined, error: string | undefined): void {
  const { s } = ctx;
  if (opId !== s.disk.opId || s.disk.pendingStartedAt === null) return; // late answer to an op already timed out
  const startedAt = s.disk.pendingStartedAt;
  s.disk.pendingStartedAt = null;
  if (!ok || !view) return diskFailed(ctx, error ?? 'mailbox I/O failed');
  s.disk.failures = 0;
  writeSettled(s, true);
  if (!s.recovered) recover(ctx, view);
  if (s.disk.pendingReadsPartner) replayPartnerLog(ctx, view.partnerIntents ?? []);
  if (view.inbox) acceptOutbox(s, view.inbox);
  acceptPartnerSlot(ctx, view, startedAt);
  diskReadOk(s.detector);
  if (s.disk.pendingWrite) {
    const written = s.disk.pendingFence;
    s.persistedFence = written;
    if (s.fenceWait && !s.fenceWait.onDisk && written?.active && written.term === s.fenceWait.term) {
      s.fenceWait.onDisk = true;
      s.fenceWait.onDiskAt = ctx.now;
    }
    if (!isFenced(ctx) && ownSlotLanded(ctx, view)) renew(s, startedAt, ctx.now);
  }
}

/** The slot we wrote in this cycle read back as written: only a write the partner can see renews our lease. */
function ownSlotLanded(ctx: Ctx, view: MailboxView): boolean {
  const own = view.ownSlot;
  return !!own && own.node === ctx.cfg.self && own.gen === ctx.s.gen && own.counter === ctx.s.counter;
}

function diskFailed(ctx: Ctx, why: string): void {
  writeSettled(ctx.s, false);
  ctx.s.disk.failures++;
  if (ctx.s.disk.failures === 1) report(ctx, 'warn', `mailbox disk: ${why}`);
}

export function expireDiskOp(ctx: Ctx): void {
  const { s, cfg, now } = ctx;
  if (s.disk.pendingStartedAt !== null && now - s.disk.pendingStartedAt >= cfg.timing.diskIoTimeoutMs) {
    s.disk.pendingStartedAt = null;
    diskFailed(ctx, `no answer within ${cfg.timing.diskIoTimeoutMs} ms`);
  }
}

/** The first mailbox read after a start: pick up where this node's previous life left off. */
function recover(ctx: Ctx, v: MailboxView): void {
  const { s } = ctx;
  const own = v.ownSlot;
  s.counter = own?.counter ?? 0;
  // Without a slot of ours (never written, or torn) what we answered is unknown: take the partner's requests on the
  // disk as answered, or one from before our restart would be carried out a second time.
  s.handledReintegrate = own?.handledReintegrate ?? v.inbox?.reintegrateRequest ?? 0;
  s.handledHandover = own?.handledHandover ?? v.inbox?.handover ?? 0;
  s.handledTakeover = own?.handledTakeover ?? v.inbox?.takeoverRequest ?? 0;
  s.ackFenceTerm = own?.ackFenceTerm ?? 0;
  s.pong = own?.pong ?? 0;
  if (v.ownOutbox) s.out = { ...v.ownOutbox };
  s.persistedFence = s.out.fence;
  s.maxTerm = Math.max(s.maxTerm, s.out.fence?.term ?? 0);
  // Requests sent over the network but never written may have been answered: continue above what was answered.
  const ps = v.partnerSlot;
  if (ps) {
    s.out.reintegrateRequest = Math.max(s.out.reintegrateRequest, ps.handledReintegrate);
    s.out.handover = Math.max(s.out.handover, ps.handledHandover);
    s.out.takeoverRequest = Math.max(s.out.takeoverRequest, ps.handledTakeover);
  }
  s.detector.pingSeq = s.out.ping;
  recoverIntents(s, v.ownIntents);
  s.recovered = true;
  s.disk.lastStartAt = null; // write our slot at once: the lease starts with it
}

/** A record of the partner's slot newer than any we have read: it wrote since (a replayed or stale copy is not). */
function advances(slot: StatusRecord, seen: PartnerView['slotSeen']): boolean {
  return !seen || slot.gen > seen.gen || (slot.gen === seen.gen && slot.counter > seen.counter);
}

/**
 * Life on the disk is only a record that verifies and advances: a sector that does not verify (torn, damaged or
 * forged) or an old record written again shows nothing, and counts as quiet. That is safe because the partner
 * renews its lease only by a write whose record it read back verified (ownSlotLanded), so a partner that renews
 * leaves advancing records that we see.
 */
function acceptPartnerSlot(ctx: Ctx, view: MailboxView, readStartedAt: number): void {
  const { s, cfg, now } = ctx;
  const slot = view.partnerSlot && view.partnerSlot.node === cfg.partner ? view.partnerSlot : null;
  const p = s.partner;
  if (slot && advances(slot, p.slotSeen)) {
    p.slotSeen = { gen: slot.gen, counter: slot.counter };
    evidence(s, now);
    diskAlive(s.detector, now);
  } else if (p.lastEvidenceAt === null) {
    // No evidence yet: quiet time starts once this read has completed, after any renewal the partner could have made.
    if (p.lastQuietReadStartedAt === null) p.lastQuietReadStartedAt = now;
    else addQuiet(ctx, readStartedAt);
  } else if (readStartedAt > p.lastEvidenceAt) {
    addQuiet(ctx, readStartedAt);
  }
  if (!slot) return;
  // A pong answers the probe under way only: an old one stays in the slot and would pass for life on every read.
  if (s.detector.stage === 'disk' && s.detector.pingSeq > 0 && slot.pong >= s.detector.pingSeq) diskAlive(s.detector, now);
  const cur = p.status;
  if (!cur || slot.gen > cur.gen || (slot.gen === cur.gen && slot.counter >= cur.counter)) p.status = slot;
}

/** One more quiet read: the time since the previous one (or the last evidence), capped (see PartnerView.quietMs). */
function addQuiet(ctx: Ctx, readStartedAt: number): void {
  const p = ctx.s.partner;
  const since = p.lastQuietReadStartedAt ?? p.lastEvidenceAt ?? readStartedAt;
  p.quietMs += Math.min(Math.max(0, readStartedAt - since), quietGapCapMs(ctx.cfg.timing));
  p.lastQuietReadStartedAt = Math.max(since, readStartedAt);
}

function operatorCommand(ctx: Ctx, ev: OperatorRequest): void {
  const { s } = ctx;
  const name = ev.command === 'restart_resource' ? 'resource restart' : ev.command;
  const refuse = (why: string) => report(ctx, 'warn', `${name} refused: ${why}`);
  switch (ev.command) {
    case 'reintegrate':
      if (s.phase !== 'fenced') return refuse(`this node is ${s.phase}, not fenced`);
      s.operator.reintegrate = true;
      return report(ctx, 'info', 'reintegration requested by the operator');
    case 'release':
      if (s.phase !== 'serving_both') return refuse(`this node is ${s.phase}, not serving both groups`);
      s.operator.release = true;
      return report(ctx, 'info', "release of the partner's group requested by the operator");
    case 'takeover':
      if (s.phase !== 'normal') return refuse(`this node is ${s.phase}, not normal`);
      s.out.takeoverRequest++;
      return report(ctx, 'info', "asked the partner to hand its group over");
    case 'maintenance_on':
      if (s.maintenance) return report(ctx, 'info', 'maintenance is already on');
      s.maintenance = true;
      return report(ctx, 'info', 'maintenance on: no fence, takeover or handover of our own, failed health checks '
        + 'ignored; still serving, heartbeating and renewing the lease');
    case 'maintenance_off':
      if (!s.maintenance) return report(ctx, 'info', 'maintenance is already off');
      s.maintenance = false;
      // A verdict reached while nobody acted on it may be stale: the partner is judged again on fresh evidence.
      resetDetector(s.detector, ctx.now);
      return report(ctx, 'info', 'maintenance off: failure detection starts over and its verdicts are acted on again');
    case 'restart_resource':
      return restartResource(ctx, ev.group, ev.resource, refuse);
  }
}

function restartResource(ctx: Ctx, group: string | null, resource: string, refuse: (why: string) => void): void {
  const { s } = ctx;
  let g = group === null ? null : s.groups[group];
  if (group !== null && !g) return refuse(`no group ${group} (known: ${Object.keys(s.groups).join(', ')})`);
  if (!g) {
    const served = Object.values(s.groups).filter((x) => x.target === 'online');
    if (served.length === 0) return refuse(`this node is ${s.phase} and serves no group`);
    if (served.length > 1) return refuse(`this node serves ${served.map((x) => x.id).join(' and ')}: name the group, as GROUP/${resource}`);
    g = served[0]!;
  }
  const why = requestRestart(g, resource);
  if (why) return refuse(why);
  report(ctx, 'info', `restarting ${g.id}/${resource} and everything above it, as the operator asked`);
}
