// Planted protocol faults: each is one edit of the core's source, made on a copy (mutate.ts), never by hand. The
// simulator must catch every one of them, each applied alone; a simulator that lets one through is itself broken.
// `find` must occur exactly once in its file, so that a change of the core that moves the code fails loudly here
// rather than leaving a mutant that no longer plants anything.

export interface Mutant {
  id: string;
  /** What the broken core does, in a user's words. */
  what: string;
  /** Relative to agent/. */
  file: string;
  find: string;
  replace: string;
  /**
   * Set only for a mutant that no schedule can catch because another guard makes it harmless: why. It is still run,
   * and reported, but its survival does not fail the catalog.
   */
  equivalent?: string;
}

export const MUTANTS: readonly Mutant[] = [
  {
    id: 'no-lease-wait',
    what: 'takes over as soon as the fence is on the disk, without waiting for the partner’s lease',
    file: 'core/decide.ts',
    find: 'if (w.powerFenced) return true;',
    replace: 'return true;',
  },
  {
    id: 'fence-failure-taken-for-success',
    what: 'skips the lease wait after the fence command ran, whether or not it confirmed the partner off',
    file: 'core/decide.ts',
    find: "placeFence(ctx, from === 'power_fencing' && s.powerFence?.result === 'ok');",
    replace: "placeFence(ctx, from === 'power_fencing');",
  },
  {
    id: 'fence-device-before-disk',
    what: 'runs the fence command before its fence is on the disk, so a partner that boots again may not find it',
    file: 'core/decide.ts',
    find: "if (s.powerFence?.result === 'waiting' && s.fenceWait?.onDisk) {",
    replace: "if (s.powerFence?.result === 'waiting') {",
  },
  {
    id: 'lease-wait-by-time',
    what: 'waits for the partner’s lease by its clock only, without reads of the partner’s unchanged slot',
    file: 'core/decide.ts',
    find: 'p.quietMs >= requiredQuietMs(cfg.timing) && w.onDiskAt !== null && p.lastQuietReadStartedAt !== null &&\n    p.lastQuietReadStartedAt >= w.onDiskAt',
    replace: 'now - (p.lastEvidenceAt ?? w.decidedAt) >= requiredQuietMs(cfg.timing)',
  },
  {
    id: 'quiet-reads-counted',
    what: 'counts each quiet read of the partner’s slot as a full disk interval, however close the reads came',
    file: 'core/inputs.ts',
    find: 'p.quietMs += Math.min(Math.max(0, readStartedAt - since), quietGapCapMs(ctx.cfg.timing));',
    replace: 'p.quietMs += quietGapCapMs(ctx.cfg.timing);',
  },
  {
    id: 'quiet-read-before-fence',
    what: 'ends the lease wait on reads that all began before its fence was on the disk',
    file: 'core/decide.ts',
    find: 'p.lastQuietReadStartedAt >= w.onDiskAt',
    replace: 'p.lastQuietReadStartedAt >= -Infinity',
    equivalent:
      `a mailbox cycle writes, then reads: the cycle that puts our fence on the disk reads the partner’s slot after the fence has landed, and a renewal of the partner’s completed before that (after it, the partner sees the fence and renews nothing), so its write shows in that read. The extra read adds margin, not safety`,
  },
  {
    id: 'fence-margin-zero',
    what: 'leaves no margin for clock rates and the watchdog past the partner’s lease',
    file: 'core/lease.ts',
    find: 'return Math.max(250, Math.ceil(t.selfFenceLeaseMs * 0.05)) + t.watchdogTimeoutMs;',
    replace: 'return 0 * t.selfFenceLeaseMs;',
  },
  {
    id: 'disk-renewal-from-completion',
    what: 'renews its lease from the moment a mailbox write completed, not from when it started',
    file: 'core/inputs.ts',
    find: 'renew(s, startedAt, ctx.now);',
    replace: 'renew(s, ctx.now, ctx.now);',
  },
  {
    id: 'echo-renewal-from-receipt',
    what: 'renews its lease from the moment an echo of its heartbeat arrived, not from when it sent that heartbeat',
    file: 'core/inputs.ts',
    find: 'if (at !== null) renew(s, at, now);',
    replace: 'if (at !== null) renew(s, now, now);',
  },
  {
    id: 'never-self-fence',
    what: 'keeps serving when its lease runs low',
    file: 'core/decide.ts',
    find: 'return left < lead / (renewing ? 2 : 1);',
    replace: 'return left < -Infinity * lead * (renewing ? 2 : 1);',
  },
  {
    id: 'fenced-keeps-serving',
    what: 'keeps its own group running once the partner has fenced it',
    file: 'core/decide.ts',
    find: "case 'fenced':\n      for (const g of Object.values(s.groups)) g.target = 'offline';",
    replace: "case 'fenced':\n      partnerGroup.target = 'offline';",
  },
  {
    id: 'no-reset-after-pause',
    what: 'keeps its partner probes’ findings across a pause in its own stepping',
    file: 'core/inputs.ts',
    find: "resetDetector(s.detector, now);\n    report(ctx, 'info', `resumed after",
    replace: "report(ctx, 'info', `resumed after",
  },
  {
    id: 'fence-sent-before-disk',
    what: 'announces a fence on the heartbeats before it is on the disk',
    file: 'core/outputs.ts',
    find: 'outbox: { ...s.out, fence: s.persistedFence },',
    replace: 'outbox: { ...s.out },',
  },
  {
    id: 'dead-without-own-reads',
    what: 'declares the partner dead on the disk probe’s deadline without reads of its own that succeeded',
    file: 'core/detector.ts',
    find: 'now - d.stageSince >= t.diskProbeTimeoutMs && d.readsInStage >= minProbeReads(t)',
    replace: 'now - d.stageSince >= t.diskProbeTimeoutMs',
    equivalent:
      `a dead verdict only places a fence: the fence must still be written and the partner’s slot read quiet, by reads of our own, before anything is taken; and with no clean channel left (a clean network would carry heartbeats) a fence is the right call`,
  },
  {
    id: 'icmp-silence-is-death',
    what: 'takes silence to ICMP for death, without asking through the disk',
    file: 'core/detector.ts',
    find: 'else if (now - d.stageSince >= t.icmpTimeoutMs) startDisk(d, now, actions);',
    replace: "else if (now - d.stageSince >= t.icmpTimeoutMs) enter(d, 'dead', now);",
  },
  {
    id: 'watchdog-never-armed',
    what: 'never arms the watchdog',
    file: 'core/outputs.ts',
    find: 'ctx.fx.push({ type: \'watchdog\', until });',
    replace: 'ctx.fx.push({ type: \'watchdog\', until: null });',
  },
  {
    id: 'stale-pong-is-life',
    what: 'takes an old pong in the partner’s slot for an answer to the probe under way',
    file: 'core/inputs.ts',
    find: 'slot.pong >= s.detector.pingSeq',
    replace: 'slot.pong > 0',
  },
  {
    id: 'release-before-stop',
    what: 'releases its fence before the partner’s group has stopped',
    file: 'core/decide.ts',
    find: "case 'releasing':\n      if (!groupHeld(s.groups[cfg.partner]!)) {",
    replace: "case 'releasing':\n      if (true) {",
    equivalent:
      `the returning node starts only once the partner’s own status record shows it no longer owns the group (partnerOwnsOurGroup), and that record counts a resource as owned until it is offline; a release sent early is waited out`,
  },
  {
    id: 'fences-ignored',
    what: 'never sees the partner’s fence',
    file: 'core/context.ts',
    find: 'return !!f && f.active',
    replace: 'return false && !!f && f.active',
  },
  {
    id: 'older-fence-accepted',
    what: 'obeys a fence of a lower term than its own active one',
    file: 'core/fence.ts',
    find: 'if (theirs.term !== ours.term) return theirs.term > ours.term;',
    replace: 'if (theirs.term !== ours.term) return true;',
  },
  {
    id: 'released-fence-revives-older',
    what: 'obeys an older fence of the partner once it has released its own newer one',
    file: 'core/fence.ts',
    find: 'if (!ours) return true;',
    replace: 'if (!ours || !ours.active) return true;',
  },
  {
    id: 'no-write-ahead',
    what: 'starts a step before its intent record is on the disk',
    file: 'core/intent.ts',
    find: '} else if (h.seq <= i.writtenUpTo || (isStop && diskTrouble(s))) {',
    replace: '} else if (true) {',
  },
  {
    id: 'crossing-takeovers',
    what: 'hands its group over on the partner’s takeover request while its own crossed it',
    file: 'core/decide.ts',
    find: 'if (!partnerGivingUp && !(oursPending && cfg.selfWinsTies)) {',
    replace: 'if (partnerGivingUp || true) {',
  },
  {
    id: 'grant-while-fencing',
    what: 'keeps renewing the partner’s lease by echoes while it fences and takes it over',
    file: 'core/outputs.ts',
    find: "const NO_GRANT: readonly Phase[] = ['power_fencing', 'fencing_partner', 'taking_over'];",
    replace: 'const NO_GRANT: readonly Phase[] = [];',
    equivalent:
      `an echo renews the partner’s lease from when the partner sent the echoed heartbeat, which is before we received it, our last evidence of the partner; the fence wait measures the lease from that evidence, so a grant never reaches past it`,
  },
  {
    id: 'replayed-slot-is-life',
    what: 'takes any change of the partner’s slot record for life, an old record written again included',
    file: 'core/inputs.ts',
    find: 'if (slot && advances(slot, p.slotSeen)) {',
    replace: 'if (slot && (slot.gen !== p.slotSeen?.gen || slot.counter !== p.slotSeen?.counter)) {',
  },
  {
    id: 'renewal-without-read-back',
    what: 'renews its lease by a mailbox write whose slot did not read back as written',
    file: 'core/inputs.ts',
    find: 'if (!isFenced(ctx) && ownSlotLanded(ctx, view))',
    replace: 'if (!isFenced(ctx))',
  },
  {
    id: 'backward-clock-keeps-lease',
    what: 'keeps its lease when its clock goes backwards',
    file: 'core/inputs.ts',
    find: 'if (s.renewedFrom !== null) s.renewedFrom += gap - 2 * cfg.timing.heartbeatIntervalMs;',
    replace: '',
  },
];
