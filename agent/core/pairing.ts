// The pairing protocol of one node: step(config, state, event, now) → state + effects. No clock, timer, socket or
// file is touched here; the adapters (or the simulator) feed events in and carry the effects out.
//
// `step` takes ownership of the state it is given and returns it updated: the simulator runs millions of steps and
// a copy per step would dominate its time. Callers that want to keep an old state use cloneState first.
import {
  type DetectorStage, detectorTick, diskAlive, diskReadOk, heard, icmpReply, resetDetector, silenceAfter,
} from './detector.ts';
import { fenceBeats, mergeOutbox } from './fence.ts';
import { fenceMargin, leaseUntil, requiredQuietReads, stopLead } from './lease.ts';
import {
  driveGroup, groupActive, groupHeld, groupStatus, healthFailed, resetGaveUp, resourceDone, type GroupRuntime,
} from './resources.ts';
import {
  heldGroups, isIsolated, recordSent, sentTime, statusRecord, type NodeState,
} from './state.ts';
import { assertTransition } from './transitions.ts';
import type {
  CoreConfig, CoreEvent, Effect, Heartbeat, MailboxView, Outbox, Phase, StatusRecord,
} from './types.ts';

export interface StepResult {
  state: NodeState;
  effects: Effect[];
}

interface Ctx {
  cfg: CoreConfig;
  s: NodeState;
  now: number;
  fx: Effect[];
}

/** While watching the partner, the phase follows the detector's stage (a dead verdict is acted on before this). */
const PHASE_OF_STAGE: Readonly<Record<DetectorStage, Phase>> = {
  watching: 'normal', icmp: 'suspecting', disk: 'probing', unresponsive: 'partner_degraded',
  disk_only: 'partner_degraded', dead: 'probing',
};

/** Phases whose detector verdicts drive the node's phase. */
const WATCHING: readonly Phase[] = ['normal', 'suspecting', 'probing', 'partner_degraded'];
/** Phases in which the partner's death must still be noticed, though the phase itself does not follow the detector. */
const WATCHING_WHILE_FENCED: readonly Phase[] = ['fenced', 'reintegrating'];
/** While about to take the partner's resources, its lease must not be renewed by our echo. */
const NO_GRANT: readonly Phase[] = ['power_fencing', 'fencing_partner', 'taking_over'];

export function step(cfg: CoreConfig, s: NodeState, ev: CoreEvent, now: number): StepResult {
  const ctx: Ctx = { cfg, s, now, fx: [] };
  noticePause(ctx);
  apply(ctx, ev);
  expireDiskOp(ctx);
  if (WATCHING.includes(s.phase) || WATCHING_WHILE_FENCED.includes(s.phase)) runDetector(ctx);
  // A move can enable the next (fenced → starting once the release is seen): settle before acting.
  for (let i = 0; i < 6; i++) {
    const before = s.phase;
    decide(ctx);
    if (s.phase === before) break;
  }
  // Nothing is touched, and no watchdog armed, before the mailbox says whether this node may serve.
  if (s.phase !== 'booting') {
    for (const g of Object.values(s.groups)) {
      const e = driveGroup(g);
      if (e) ctx.fx.push(e);
    }
    armWatchdog(ctx);
  }
  if (s.recovered) updateAck(ctx);
  sendHeartbeatIfDue(ctx);
  startDiskCycleIfDue(ctx);
  return { state: s, effects: ctx.fx };
}

// ---------------------------------------------------------------------------------------------------- events

/**
 * The adapter steps the core at least every heartbeat interval. A longer gap means this agent was descheduled or
 * its clock jumped: whatever its probes saw before is stale (the partner may have come back meanwhile), so the
 * escalation starts over on fresh evidence. This only delays a verdict, never hastens one.
 */
function noticePause(ctx: Ctx): void {
  const { s, cfg, now } = ctx;
  const gap = s.lastStepAt === null ? 0 : now - s.lastStepAt;
  s.lastStepAt = now;
  if (gap > 2 * cfg.timing.heartbeatIntervalMs && s.detector.stage !== 'watching') {
    resetDetector(s.detector, now);
    report(ctx, 'info', `resumed after ${Math.round(gap)} ms without a step: partner probes start over`);
  }
}

function apply(ctx: Ctx, ev: CoreEvent): void {
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
      return;
    }
    case 'health': {
      const g = s.groups[ev.group];
      if (!ev.ok && g && isOurs(s, g.id)) {
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
      return operatorCommand(ctx, ev.command);
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
  acceptOutbox(s, hb.outbox);
  if (hb.grant && hb.echo && hb.echo.gen === s.gen && !isFenced(ctx)) {
    const at = sentTime(s, hb.echo.seq);
    if (at !== null) renew(s, at);
  }
}

function evidence(s: NodeState, now: number): void {
  s.partner.lastEvidenceAt = now;
  s.partner.quietReads = 0;
  s.partner.lastQuietReadStartedAt = null;
}

function renew(s: NodeState, from: number): void {
  if (s.renewedFrom === null || from > s.renewedFrom) s.renewedFrom = from;
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
  if (!s.recovered) recover(ctx, view);
  if (view.inbox) acceptOutbox(s, view.inbox);
  acceptPartnerSlot(ctx, view, startedAt);
  diskReadOk(s.detector);
  if (s.disk.pendingWrite) {
    const written = s.disk.pendingFence;
    s.persistedFence = written;
    if (s.fenceWait && written?.active && written.term === s.fenceWait.term) s.fenceWait.onDisk = true;
    if (!isFenced(ctx)) renew(s, startedAt);
  }
}

function diskFailed(ctx: Ctx, why: string): void {
  ctx.s.disk.failures++;
  if (ctx.s.disk.failures === 1) report(ctx, 'warn', `mailbox disk: ${why}`);
}

function expireDiskOp(ctx: Ctx): void {
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
  s.handledReintegrate = own?.handledReintegrate ?? 0;
  s.handledHandover = own?.handledHandover ?? 0;
  s.handledTakeover = own?.handledTakeover ?? 0;
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
  s.recovered = true;
  s.disk.lastStartAt = null; // write our slot at once: the lease starts with it
}

function acceptPartnerSlot(ctx: Ctx, view: MailboxView, readStartedAt: number): void {
  const { s, cfg, now } = ctx;
  const slot = view.partnerSlot && view.partnerSlot.node === cfg.partner ? view.partnerSlot : null;
  const key = view.partnerSlotFingerprint;
  if (key === null) return; // never written: no evidence either way
  const p = s.partner;
  if (key !== p.slotKey) {
    p.slotKey = key;
    evidence(s, now);
    diskAlive(s.detector, now);
  } else if (p.lastEvidenceAt === null || readStartedAt > p.lastEvidenceAt) {
    p.quietReads++;
    p.lastQuietReadStartedAt = readStartedAt;
  }
  if (!slot) return;
  if (s.detector.pingSeq > 0 && slot.pong >= s.detector.pingSeq) diskAlive(s.detector, now);
  const cur = p.status;
  if (!cur || slot.gen > cur.gen || (slot.gen === cur.gen && slot.counter >= cur.counter)) p.status = slot;
}

function operatorCommand(ctx: Ctx, command: 'reintegrate' | 'takeover' | 'release'): void {
  const { s } = ctx;
  const refuse = (why: string) => report(ctx, 'warn', `${command} refused: ${why}`);
  switch (command) {
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
  }
}

// ---------------------------------------------------------------------------------------------------- decisions

/** Releases every fence we may ever have placed: any term up to the highest either node has seen. */
function releaseFences(s: NodeState): void {
  s.out.fence = { term: Math.max(s.maxTerm, s.out.fence?.term ?? 0), active: false };
}

function isFenced(ctx: Ctx): boolean {
  const { s, cfg } = ctx;
  const f = s.partner.outbox.fence;
  return !!f && f.active && f.term > s.releasedTerm && fenceBeats(f, s.out.fence, cfg.selfWinsTies);
}

function leaseFresh(ctx: Ctx): boolean {
  return ctx.now < leaseUntil(ctx.s.renewedFrom, ctx.cfg.timing) - stopLead(ctx.cfg.timing);
}

/**
 * The lease is running out: stop serving now so the stops finish before the watchdog fires. A renewal already
 * under way (the agent was descheduled and has just woken) gets the first half of that margin to land.
 */
function leaseLost(ctx: Ctx): boolean {
  const { s, cfg, now } = ctx;
  const left = leaseUntil(s.renewedFrom, cfg.timing) - now;
  const lead = stopLead(cfg.timing);
  const renewing = s.disk.pendingStartedAt !== null && s.disk.pendingWrite;
  return left < lead / (renewing ? 2 : 1);
}

// Predicates over groups live at module level: the simulator calls them millions of times, and a closure built
// per call costs more than the test itself under tsx.
function wantedOrHeld(g: GroupRuntime): boolean {
  return g.target === 'online' || groupHeld(g);
}

function stopFailed(g: GroupRuntime): boolean {
  return g.stopFailed;
}

function groupOnline(g: GroupRuntime): boolean {
  return groupStatus(g) === 'online';
}

function wantsOrHolds(s: NodeState): boolean {
  return Object.values(s.groups).some(wantedOrHeld);
}

function go(ctx: Ctx, to: Phase, cause: string): void {
  const { s, now, cfg } = ctx;
  const from = s.phase;
  if (from === to) return;
  assertTransition(from, to, cause);
  s.phase = to;
  s.phaseSince = now;
  s.cause = cause;
  ctx.fx.push({ type: 'transition', from, to, cause });
  const own = s.groups[cfg.self]!;
  const partnerGroup = s.groups[cfg.partner]!;
  switch (to) {
    case 'starting':
      resetGaveUp(own);
      own.target = 'online';
      break;
    case 'fenced':
      for (const g of Object.values(s.groups)) g.target = 'offline';
      // A fenced node owns nothing of the partner's: withdraw any fence we hold, so the partner may serve.
      releaseFences(s);
      s.fenceWait = null;
      s.operator.reintegrate = false;
      break;
    case 'self_fenced':
      for (const g of Object.values(s.groups)) g.target = 'offline';
      break;
    case 'fencing_partner': {
      const term = s.out.fence?.active ? s.out.fence.term : Math.max(s.maxTerm, s.out.fence?.term ?? 0) + 1;
      s.maxTerm = Math.max(s.maxTerm, term);
      s.out.fence = { term, active: true };
      s.fenceWait = {
        decidedAt: now, term, onDisk: false, powerFenced: from === 'power_fencing' && s.powerFence?.result === 'ok',
      };
      s.powerFence = null;
      break;
    }
    case 'taking_over':
      for (const g of Object.values(s.groups)) {
        if (g.target !== 'online') resetGaveUp(g);
        g.target = 'online';
      }
      break;
    case 'serving_both':
      s.fenceWait = null;
      resetDetector(s.detector, now);
      break;
    case 'releasing':
      partnerGroup.target = 'offline';
      break;
    case 'handing_over':
      own.target = 'offline';
      break;
    case 'reintegrating':
      s.out.reintegrateRequest++;
      s.reintegrateSentAt = now;
      s.operator.reintegrate = false;
      break;
    case 'power_fencing':
      s.powerFence = { startedAt: now, result: 'pending' };
      ctx.fx.push({ type: 'run_fence_command' });
      break;
    case 'normal':
    case 'suspecting':
    case 'probing':
    case 'partner_degraded':
    case 'booting':
      break;
  }
}

function decide(ctx: Ctx): void {
  const { s, cfg, now } = ctx;
  if (s.phase === 'booting') return decideBooting(ctx);

  if (isFenced(ctx)) {
    s.fencedByTerm = Math.max(s.fencedByTerm, s.partner.outbox.fence!.term);
    if (!isWaitingPhase(s.phase)) return go(ctx, 'fenced', `fenced by the partner (term ${s.fencedByTerm})`);
  }
  if (Object.values(s.groups).some(stopFailed)) {
    // A resource that will not stop may still hold the disk or the address: only a reset of this machine frees it.
    if (s.phase !== 'self_fenced' && s.phase !== 'fenced') return go(ctx, 'self_fenced', 'a stop failed beyond the limit');
    return;
  }
  if (s.phase !== 'fenced' && s.phase !== 'self_fenced' && wantsOrHolds(s) && leaseLost(ctx)) {
    return go(ctx, 'self_fenced', 'lease expiring: the disk and the partner are both out of reach');
  }

  const t = cfg.timing;
  const stage = s.detector.stage;
  const p = s.partner;
  const own = s.groups[cfg.self]!;

  switch (s.phase) {
    case 'starting':
      if (groupStatus(own) === 'online') return go(ctx, 'normal', 'own group online');
      if (own.gaveUpAt !== null && !groupHeld(own)) return giveUpOwnGroup(ctx);
      return;

    case 'normal':
    case 'suspecting':
    case 'probing':
    case 'partner_degraded': {
      if (p.outbox.handover > s.handledHandover) {
        s.handledHandover = p.outbox.handover;
        return go(ctx, 'fencing_partner', 'the partner handed its group over');
      }
      if (stage === 'dead') return go(ctx, 'fencing_partner', 'partner silent on every network, ICMP and the disk');
      if (s.phase === 'normal' && p.outbox.takeoverRequest > s.handledTakeover) {
        s.handledTakeover = p.outbox.takeoverRequest;
        return go(ctx, 'handing_over', 'the operator moved our group to the partner');
      }
      if (p.outbox.reintegrateRequest > s.handledReintegrate && !groupHeld(s.groups[cfg.partner]!)) {
        s.handledReintegrate = p.outbox.reintegrateRequest; // nothing of the partner's to release
      }
      if (own.gaveUpAt !== null && !groupHeld(own)) return giveUpOwnGroup(ctx);
      if (
        isolatedFor(ctx) >= silenceAfter(t) && partnerAliveOnDisk(ctx) && p.status && !p.status.isolated &&
        !isWaitingPhase(p.status.phase)
      ) {
        return go(ctx, 'handing_over', 'cut off from every network while the partner is not');
      }
      if (
        s.phase === 'partner_degraded' && stage === 'unresponsive' && s.detector.unresponsiveRounds >= 2 &&
        cfg.hasFenceCommand && !partnerAliveOnDisk(ctx)
      ) {
        return go(ctx, 'power_fencing', "partner's machine answers ICMP but its agent and disk are silent");
      }
      return go(ctx, PHASE_OF_STAGE[stage], stageCause(stage));
    }

    case 'power_fencing':
      if (s.powerFence?.result === 'ok') return go(ctx, 'fencing_partner', 'fence command confirmed the partner is off');
      if (s.powerFence?.result === 'failed') return go(ctx, 'partner_degraded', 'fence command failed');
      return;

    case 'fencing_partner':
      if (fenceWaitOver(ctx)) return go(ctx, 'taking_over', fenceWaitCause(ctx));
      return;

    case 'taking_over':
      if (Object.values(s.groups).every(groupOnline)) {
        return go(ctx, 'serving_both', 'all groups online');
      }
      retryGivenUpGroups(ctx);
      return;

    case 'serving_both':
      if (p.outbox.reintegrateRequest > s.handledReintegrate && p.status && isWaitingPhase(p.status.phase)) {
        return go(ctx, 'releasing', 'the partner asked to reintegrate');
      }
      if (s.operator.release) {
        s.operator.release = false;
        return go(ctx, 'releasing', 'the operator released the partner’s group');
      }
      retryGivenUpGroups(ctx);
      return;

    case 'releasing':
      if (!groupHeld(s.groups[cfg.partner]!)) {
        // Released: the partner may now claim its disk. This record is its signal, on the network and the disk.
        releaseFences(s);
        s.handledReintegrate = Math.max(s.handledReintegrate, p.outbox.reintegrateRequest);
        resetDetector(s.detector, now);
        return go(ctx, 'normal', "partner's group released");
      }
      return;

    case 'handing_over':
      if (!groupHeld(own)) {
        s.out.handover++;
        s.fencedByTerm = 0;
        return go(ctx, 'fenced', 'own group stopped and handed to the partner');
      }
      return;

    case 'fenced':
      if (stage === 'dead') return go(ctx, 'fencing_partner', 'the partner holding our group is dead');
      if (s.fencedByTerm > 0 && s.releasedTerm >= s.fencedByTerm && !partnerOwnsOurGroup(ctx)) {
        return go(ctx, 'starting', 'the partner released our group');
      }
      if (s.operator.reintegrate) return go(ctx, 'reintegrating', 'operator asked to reintegrate');
      if (
        cfg.reintegrate === 'auto' && stage === 'watching' && p.status && !isWaitingPhase(p.status.phase) &&
        now - s.phaseSince >= 2 * silenceAfter(t)
      ) {
        return go(ctx, 'reintegrating', 'automatic reintegration: the partner is back in touch');
      }
      return;

    case 'reintegrating':
      if (stage === 'dead') return go(ctx, 'fencing_partner', 'the partner holding our group died during reintegration');
      // The release must be seen too: it travels only once it is on the disk, so the disk is ours to take.
      if (
        p.status && p.status.handledReintegrate >= s.out.reintegrateRequest && !partnerOwnsOurGroup(ctx) && !isFenced(ctx)
      ) {
        return go(ctx, 'starting', 'the partner released our group');
      }
      if (now - (s.reintegrateSentAt ?? now) >= 10 * silenceAfter(t)) {
        return go(ctx, 'fenced', 'reintegration request not answered');
      }
      return;

    case 'self_fenced':
      if (Object.values(s.groups).some(groupHeld) || !leaseFresh(ctx) || (s.renewedFrom ?? -Infinity) < s.phaseSince) {
        return;
      }
      if (s.out.fence?.active) return go(ctx, 'fencing_partner', 'lease renewed; resuming the takeover we had begun');
      return go(ctx, 'starting', 'lease renewed');
  }
}

function decideBooting(ctx: Ctx): void {
  const { s } = ctx;
  // Wait for the first mailbox read, then for a write that renews the lease: nothing is served before both.
  if (!s.recovered) return;
  if (isFenced(ctx)) {
    s.fencedByTerm = s.partner.outbox.fence!.term;
    return go(ctx, 'fenced', `found fenced in the mailbox (term ${s.fencedByTerm})`);
  }
  if (s.renewedFrom === null) return;
  if (s.out.fence?.active) return go(ctx, 'fencing_partner', 'we hold a fence on the partner: resume the takeover');
  return go(ctx, 'starting', 'mailbox clear');
}

function runDetector(ctx: Ctx): void {
  const { s, cfg, now } = ctx;
  for (const a of detectorTick(s.detector, now, cfg.timing)) {
    if (a.kind === 'icmp') for (const net of cfg.networks) ctx.fx.push({ type: 'icmp_probe', net, probeId: a.probeId });
    else if (a.kind === 'ping') s.out.ping = a.pingSeq;
    else if (s.recovered) {
      const others = cfg.networks.filter((n) => n !== a.net && s.detector.netUp[n]);
      if (!a.up && others.length > 0) {
        report(ctx, 'warn', `network failure: partner's heartbeats lost on ${a.net}, still heard on ${others.join(', ')}`);
      } else {
        report(ctx, 'info', `partner's heartbeats ${a.up ? 'heard again' : 'lost'} on ${a.net}`);
      }
    }
  }
}

function stageCause(stage: string): string {
  switch (stage) {
    case 'watching': return 'partner heard';
    case 'icmp': return 'heartbeats silent on every network: ICMP probe';
    case 'disk': return 'no ICMP answer: disk mailbox ping';
    case 'unresponsive': return "partner's machine answers ICMP but its agent is silent";
    case 'disk_only': return 'partner alive on the disk only: the networks between us are cut';
    default: return stage;
  }
}

function isWaitingPhase(p: Phase): boolean {
  return p === 'fenced' || p === 'reintegrating';
}

/** How long every link has been down, by the sensors; never while the partner's heartbeats still reach us. */
function isolatedFor(ctx: Ctx): number {
  const { s, now } = ctx;
  if (!isIsolated(s) || Object.values(s.detector.netUp).some(Boolean)) return 0;
  return now - Math.max(...Object.values(s.links).map((l) => l.since));
}

function partnerAliveOnDisk(ctx: Ctx): boolean {
  const at = ctx.s.detector.diskAliveAt;
  return at !== null && ctx.now - at <= ctx.cfg.timing.diskProbeTimeoutMs;
}

function partnerOwnsOurGroup(ctx: Ctx): boolean {
  return !!ctx.s.partner.status?.owns.includes(ctx.cfg.self);
}

function partnerHealthy(ctx: Ctx): boolean {
  const p = ctx.s.partner.status;
  return ctx.s.detector.stage === 'watching' && !!p && p.phase === 'normal' && !p.isolated;
}

/** Our own group failed past its restart limit: hand it to a healthy partner, or try again after a cool-down. */
function giveUpOwnGroup(ctx: Ctx): void {
  if (partnerHealthy(ctx)) return go(ctx, 'handing_over', 'own group failed past its restart limit');
  retryGivenUpGroups(ctx);
}

function retryGivenUpGroups(ctx: Ctx): void {
  for (const g of Object.values(ctx.s.groups)) {
    if (g.gaveUpAt !== null && !groupHeld(g) && ctx.now - g.gaveUpAt >= 10 * silenceAfter(ctx.cfg.timing)) {
      report(ctx, 'info', `retrying group ${g.id} after its cool-down`);
      resetGaveUp(g);
    }
  }
}

function fenceWaitOver(ctx: Ctx): boolean {
  const { s, cfg, now } = ctx;
  const w = s.fenceWait;
  if (!w || !w.onDisk) return false;
  const ps = s.partner.status;
  if (ps && ps.ackFenceTerm >= w.term && ps.owns.length === 0) return true;
  if (w.powerFenced) return true;
  const p = s.partner;
  const t = cfg.timing;
  const deadline = (p.lastEvidenceAt ?? w.decidedAt) + t.selfFenceLeaseMs + fenceMargin(t);
  return (
    now >= deadline && p.lastQuietReadStartedAt !== null && p.lastQuietReadStartedAt >= deadline &&
    p.quietReads >= requiredQuietReads(t)
  );
}

function fenceWaitCause(ctx: Ctx): string {
  const w = ctx.s.fenceWait!;
  const ps = ctx.s.partner.status;
  if (ps && ps.ackFenceTerm >= w.term && ps.owns.length === 0) return 'the partner acknowledged the fence';
  if (w.powerFenced) return 'the partner is powered off';
  return "the partner's lease has expired";
}

function updateAck(ctx: Ctx): void {
  const { s } = ctx;
  if (s.phase === 'fenced' && heldGroups(s).length === 0) s.ackFenceTerm = Math.max(s.ackFenceTerm, s.fencedByTerm);
}

// ---------------------------------------------------------------------------------------------------- periodic output

/** Sent from the start, even before the mailbox is read: a booting agent is alive, not hung. */
function sendHeartbeatIfDue(ctx: Ctx): void {
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
  };
  ctx.fx.push({ type: 'send_heartbeat', hb });
}

function startDiskCycleIfDue(ctx: Ctx): void {
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

function armWatchdog(ctx: Ctx): void {
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

function report(ctx: Ctx, level: 'info' | 'warn' | 'error', message: string): void {
  ctx.fx.push({ type: 'report', level, message });
}
