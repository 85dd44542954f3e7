// The decisions of one step: from the node's whole state, which phase it must be in, and what entering that phase
// sets in motion (group targets, fences, requests). Moves go through the transition table.
import { type DetectorStage, detectorTick, resetDetector, silenceAfter } from './detector.ts';
import { isFenced, isWaitingPhase, report, type Ctx } from './context.ts';
import { fenceSuperseded } from './fence.ts';
import { actingTerm, describe, logTransition } from './intent.ts';
import { leaseUntil, requiredQuietMs, stopLead } from './lease.ts';
import { groupHeld, groupStatus, resetGaveUp, type GroupRuntime } from './resources.ts';
import { heldGroups, isIsolated, type NodeState } from './state.ts';
import { assertTransition } from './transitions.ts';
import type { Phase } from './types.ts';

/** While watching the partner, the phase follows the detector's stage (a dead verdict is acted on before this). */
const PHASE_OF_STAGE: Readonly<Record<DetectorStage, Phase>> = {
  watching: 'normal', icmp: 'suspecting', disk: 'probing', unresponsive: 'partner_degraded',
  disk_only: 'partner_degraded', dead: 'probing',
};

/** Phases whose detector verdicts drive the node's phase. */
export const WATCHING: readonly Phase[] = ['normal', 'suspecting', 'probing', 'partner_degraded'];

/** Phases in which the partner's death must still be noticed, though the phase itself does not follow the detector. */
export const WATCHING_WHILE_FENCED: readonly Phase[] = ['fenced', 'reintegrating'];

/** Places (or keeps) our fence on the partner, and starts waiting for it to take effect. */
function placeFence(ctx: Ctx, powerFenced: boolean): void {
  const { s, now } = ctx;
  const term = s.out.fence?.active ? s.out.fence.term : Math.max(s.maxTerm, s.out.fence?.term ?? 0) + 1;
  s.maxTerm = Math.max(s.maxTerm, term);
  s.out.fence = { term, active: true };
  const onDisk = s.fenceWait?.term === term && s.fenceWait.onDisk;
  const onDiskAt = onDisk ? s.fenceWait!.onDiskAt : null;
  s.fenceWait = { decidedAt: s.fenceWait?.term === term ? s.fenceWait.decidedAt : now, term, onDisk, onDiskAt, powerFenced };
}

/** Releases every fence we may ever have placed: any term up to the highest either node has seen. */
function releaseFences(s: NodeState): void {
  s.out.fence = { term: Math.max(s.maxTerm, s.out.fence?.term ?? 0), active: false };
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

export function stopFailed(g: GroupRuntime): boolean {
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
      logTransition(s, 'start_own', 'begun', 0);
      break;
    case 'fenced':
      for (const g of Object.values(s.groups)) g.target = 'offline';
      // A fenced node owns nothing of the partner's: withdraw any fence we hold, so the partner may serve.
      releaseFences(s);
      s.fenceWait = null;
      s.operator.reintegrate = false;
      if (from === 'handing_over') logTransition(s, 'handover', 'complete', s.out.handover);
      else logTransition(s, 'stand_down', 'begun', 0);
      break;
    case 'self_fenced':
      for (const g of Object.values(s.groups)) g.target = 'offline';
      logTransition(s, 'stand_down', 'begun', 0);
      break;
    case 'fencing_partner':
      placeFence(ctx, from === 'power_fencing' && s.powerFence?.result === 'ok');
      s.powerFence = null;
      break;
    case 'taking_over':
      for (const g of Object.values(s.groups)) {
        if (g.target !== 'online') resetGaveUp(g);
        g.target = 'online';
      }
      logTransition(s, 'takeover', 'begun', actingTerm(s));
      // The partner's log is replayed before its group's first step: what was it doing when it stopped?
      s.intent.readPartner = true;
      break;
    case 'serving_both':
      s.fenceWait = null;
      resetDetector(s.detector, now);
      logTransition(s, 'takeover', 'complete', actingTerm(s));
      break;
    case 'releasing':
      partnerGroup.target = 'offline';
      // Our own keeps running (a release resumed at boot finds every target offline).
      own.target = 'online';
      logTransition(s, 'release', 'begun', actingTerm(s));
      break;
    case 'handing_over':
      own.target = 'offline';
      // The counter this handover raises the partner's to, on the record: a resumed handover must not raise it twice,
      // or the partner would take a second handover for the one we made.
      if (from !== 'booting') s.handoverTo = s.out.handover + 1;
      logTransition(s, 'handover', 'begun', s.handoverTo);
      break;
    case 'reintegrating':
      s.out.reintegrateRequest++;
      s.reintegrateSentAt = now;
      s.operator.reintegrate = false;
      break;
    case 'power_fencing':
      // The fence goes to the mailbox first: a partner powered off and booting again must find itself fenced.
      placeFence(ctx, false);
      s.powerFence = { startedAt: now, result: 'waiting' };
      break;
    case 'normal':
      if (from === 'starting') logTransition(s, 'start_own', 'complete', 0);
      break;
    case 'suspecting':
    case 'probing':
    case 'partner_degraded':
    case 'booting':
      break;
  }
}

export function decide(ctx: Ctx): void {
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
      if (own.gaveUpAt !== null && !groupHeld(own)) handOverGivenUpGroup(ctx);
      return;

    case 'normal':
    case 'suspecting':
    case 'probing':
    case 'partner_degraded': {
      if (p.outbox.handover > s.handledHandover) {
        s.handledHandover = p.outbox.handover;
        return go(ctx, 'fencing_partner', 'the partner handed its group over');
      }
      if (stage === 'dead' && !s.maintenance) return go(ctx, fenceDeadPartner(ctx), 'partner silent on every network, ICMP and the disk');
      if (s.phase === 'normal' && p.outbox.takeoverRequest > s.handledTakeover) {
        s.handledTakeover = p.outbox.takeoverRequest;
        // Both operators asked at once: were both to hand over, both would end fenced with nobody serving. A partner
        // already handing its group to us has answered ours, and its own request is moot; while both are pending,
        // the request of the node listed first wins, as a fence of equal term does.
        const partnerGivingUp = !!p.status && (p.status.phase === 'handing_over' || isWaitingPhase(p.status.phase));
        const oursPending = s.out.takeoverRequest > (p.status?.handledTakeover ?? 0);
        if (!partnerGivingUp && !(oursPending && cfg.selfWinsTies)) {
          return go(ctx, 'handing_over', 'the operator moved our group to the partner');
        }
        report(ctx, 'warn', "the partner's takeover request crossed ours: ours wins");
      }
      if (p.outbox.reintegrateRequest > s.handledReintegrate && !groupHeld(s.groups[cfg.partner]!)) {
        s.handledReintegrate = p.outbox.reintegrateRequest; // nothing of the partner's to release
      }
      // A given-up group that is not handed over waits out its cool-down, but the phase keeps following the
      // detector meanwhile: a phase frozen while the verdicts move on would later have to jump a step the table
      // forbids (probing → suspecting), and the core would throw.
      if (own.gaveUpAt !== null && !groupHeld(own) && handOverGivenUpGroup(ctx)) return;
      if (
        !s.maintenance && isolatedFor(ctx) >= silenceAfter(t) && partnerAliveOnDisk(ctx) && p.status && !p.status.isolated &&
        !isWaitingPhase(p.status.phase)
      ) {
        return go(ctx, 'handing_over', 'cut off from every network while the partner is not');
      }
      if (
        !s.maintenance && s.phase === 'partner_degraded' && stage === 'unresponsive' && s.detector.unresponsiveRounds >= 2 &&
        cfg.hasFenceCommand && !partnerAliveOnDisk(ctx) && now - (p.lastEvidenceAt ?? s.phaseSince) >= t.fenceAfterMs
      ) {
        return go(ctx, 'power_fencing', "partner's machine answers ICMP but its agent and disk are silent");
      }
      // A partner known to be degraded is asked again by ICMP every silence period: that is no new suspicion.
      if (s.phase === 'partner_degraded' && stage === 'icmp') return;
      return go(ctx, PHASE_OF_STAGE[stage], stageCause(stage, Object.values(s.detector.netUp).some(Boolean)));
    }

    case 'power_fencing':
      if (s.powerFence?.result === 'waiting' && s.fenceWait?.onDisk) {
        s.powerFence.result = 'pending';
        ctx.fx.push({ type: 'run_fence_command' });
        return;
      }
      if (s.powerFence?.result === 'ok') return go(ctx, 'fencing_partner', 'fence command confirmed the partner is off');
      if (s.powerFence?.result === 'failed') {
        return go(ctx, 'fencing_partner', 'fence command failed: waiting for the acknowledgement or the lease');
      }
      // A fence device slower than the lease (an IPMI timeout) must not make the takeover slower than none would.
      if (fenceWaitOver(ctx)) return go(ctx, 'fencing_partner', 'the fence command is still running, but the lease wait is over');
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
        logTransition(s, 'release', 'complete', actingTerm(s));
        // Released: the partner may now claim its disk. This record is its signal, on the network and the disk.
        releaseFences(s);
        s.handledReintegrate = Math.max(s.handledReintegrate, p.outbox.reintegrateRequest);
        resetDetector(s.detector, now);
        return go(ctx, 'normal', "partner's group released");
      }
      return;

    case 'handing_over':
      if (!groupHeld(own)) {
        s.out.handover = Math.max(s.out.handover, s.handoverTo);
        s.fencedByTerm = 0;
        return go(ctx, 'fenced', 'own group stopped and handed to the partner');
      }
      return;

    case 'fenced':
      if (stage === 'dead' && !s.maintenance) return go(ctx, fenceDeadPartner(ctx), 'the partner holding our group is dead');
      if (s.fencedByTerm > 0 && s.releasedTerm >= s.fencedByTerm && !partnerOwnsOurGroup(ctx)) {
        return go(ctx, 'starting', 'the partner released our group');
      }
      if (s.operator.reintegrate) return go(ctx, 'reintegrating', 'operator asked to reintegrate');
      if (
        cfg.reintegrate === 'auto' && !s.maintenance && stage === 'watching' && p.status && !isWaitingPhase(p.status.phase) &&
        now - s.phaseSince >= 2 * silenceAfter(t)
      ) {
        return go(ctx, 'reintegrating', 'automatic reintegration: the partner is back in touch');
      }
      return;

    case 'reintegrating':
      if (stage === 'dead' && !s.maintenance) {
        return go(ctx, fenceDeadPartner(ctx), 'the partner holding our group died during reintegration');
      }
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
  // The intent log says which transition the previous run was in: finish it rather than undo and redo it.
  const r = s.intent.resume;
  const was = r ? `: the previous run was in ${describe(r)}` : '';
  if (fenceSuperseded(s.out.fence, s.partner.outbox.fence)) {
    // While we were down the partner fenced us with a higher term, took our group and gave it back: the takeover
    // our fence was for is over, and nothing of the partner's is ours to resume.
    report(ctx, 'info', `our fence (term ${s.out.fence!.term}) was superseded by the partner's (term ${s.partner.outbox.fence!.term}): released`);
    releaseFences(s);
  }
  const fence = s.out.fence;
  if (fence?.active) {
    // The fence wait was over before the takeover's first record: a partner back since then found itself fenced.
    if (r?.transition === 'takeover' && r.term === fence.term) return go(ctx, 'taking_over', `resuming the takeover${was}`);
    if (r?.transition === 'release' && !r.complete) return go(ctx, 'releasing', `resuming the release${was}`);
    return go(ctx, 'fencing_partner', 'we hold a fence on the partner: resume the takeover');
  }
  if (r?.transition === 'handover') {
    // The record holds the counter the handover raises: a write of the outbox lost with the previous run is made good.
    s.handoverTo = r.term;
    if (!r.complete) return go(ctx, 'handing_over', `resuming the handover${was}`);
    s.out.handover = Math.max(s.out.handover, r.term);
    return go(ctx, 'fenced', `own group already handed over${was}`);
  }
  return go(ctx, 'starting', `mailbox clear${was}`);
}

export function runDetector(ctx: Ctx): void {
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

function stageCause(stage: string, heard: boolean): string {
  switch (stage) {
    // Watching again without hearing the partner: the escalation was reset (a pause, or maintenance ended).
    case 'watching': return heard ? 'partner heard' : 'watching the partner afresh: its probes start over';
    case 'icmp': return 'heartbeats silent on every network: ICMP probe';
    case 'disk': return 'no ICMP answer: disk mailbox ping';
    case 'unresponsive': return "partner's machine answers ICMP but its agent is silent";
    case 'disk_only': return 'partner alive on the disk only: the networks between us are cut';
    case 'dead': return 'partner silent on every network, ICMP and the disk: no takeover in maintenance';
    default: return stage;
  }
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

/**
 * Our own group failed past its restart limit: hand it to a healthy partner, or try again after a cool-down (also
 * in maintenance, which hands nothing over on its own). True when it was handed over.
 */
function handOverGivenUpGroup(ctx: Ctx): boolean {
  if (partnerHealthy(ctx) && !ctx.s.maintenance) {
    go(ctx, 'handing_over', 'own group failed past its restart limit');
    return true;
  }
  retryGivenUpGroups(ctx);
  return false;
}

function retryGivenUpGroups(ctx: Ctx): void {
  for (const g of Object.values(ctx.s.groups)) {
    if (g.gaveUpAt !== null && !groupHeld(g) && ctx.now - g.gaveUpAt >= 10 * silenceAfter(ctx.cfg.timing)) {
      report(ctx, 'info', `retrying group ${g.id} after its cool-down`);
      resetGaveUp(g);
    }
  }
}

/** A partner found dead is fenced by the fence device, if there is one: its confirmation makes the lease wait moot. */
function fenceDeadPartner(ctx: Ctx): 'power_fencing' | 'fencing_partner' {
  return ctx.cfg.hasFenceCommand ? 'power_fencing' : 'fencing_partner';
}

function fenceWaitOver(ctx: Ctx): boolean {
  const { s, cfg, now } = ctx;
  const w = s.fenceWait;
  if (!w || !w.onDisk) return false;
  const ps = s.partner.status;
  if (ps && ps.ackFenceTerm >= w.term && ps.owns.length === 0) return true;
  if (w.powerFenced) return true;
  // The partner's lease has expired if our own reads found its slot unchanged for the lease and the margin since
  // its last evidence (measured gap by gap, so that a jump of our clock cannot shorten it), and one of them started
  // after our fence was on the disk: any cycle of the partner's that renewed its lease read its inbox before the
  // fence landed, so its write landed before that read of ours, and would have shown. (With an adapter whose cycle
  // reads after it writes, the fence's own cycle has already made that read: this one more is a margin.)
  const p = s.partner;
  return (
    p.quietMs >= requiredQuietMs(cfg.timing) && w.onDiskAt !== null && p.lastQuietReadStartedAt !== null &&
    p.lastQuietReadStartedAt >= w.onDiskAt
  );
}

function fenceWaitCause(ctx: Ctx): string {
  const w = ctx.s.fenceWait!;
  const ps = ctx.s.partner.status;
  if (ps && ps.ackFenceTerm >= w.term && ps.owns.length === 0) return 'the partner acknowledged the fence';
  if (w.powerFenced) return 'the partner is powered off';
  return "the partner's lease has expired";
}

export function updateAck(ctx: Ctx): void {
  const { s } = ctx;
  if (s.phase === 'fenced' && heldGroups(s).length === 0) s.ackFenceTerm = Math.max(s.ackFenceTerm, s.fencedByTerm);
}
