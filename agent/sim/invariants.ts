// What must hold in every simulated run. Safety is checked whenever a machine takes a resource; the takeover
// bound, the absence of false takeovers and convergence after the faults heal are checked at their moments.
import { silenceAfter } from '../core/detector.ts';
import { takeoverBoundMs } from '../core/lease.ts';
import { groupHeld, groupStatus } from '../core/resources.ts';
import type { ResourceKind } from '../core/types.ts';
import type { Fault, NodeIdx } from './faults.ts';
import { DISK_MS, MAX_GROUP_START_MS, type Machine, type World } from './world.ts';

type Claim = 'disk' | 'address';

function claimOf(kind: ResourceKind): Claim | null {
  if (kind === 'filesystem' || kind === 'log_replay') return 'disk';
  if (kind === 'service_ip') return 'address';
  return null;
}

export class Invariants {
  readonly violations: string[] = [];
  /** Per machine, the resources it holds that claim something ("group/kind"); a start of a held one is a no-op. */
  private held: Set<string>[] = [new Set(), new Set()];

  constructor(private readonly w: World) {}

  violation(what: string): void {
    this.violations.push(`${(this.w.now / 1000).toFixed(3)}s ${what}`);
    this.w.log(`VIOLATION ${what}`);
    this.w.stop();
  }

  hold(m: Machine, group: string, kind: ResourceKind): void {
    const claim = claimOf(kind);
    if (!claim) return;
    this.held[m.idx]!.add(`${group}/${kind}`);
    const other = this.w.other(m.idx);
    if (other.up && this.holds(other.idx, group, claim)) {
      this.violation(`two owners of ${group}'s ${claim}: node${m.idx + 1} took it while node${other.idx + 1} holds it`);
    }
  }

  release(m: Machine, group: string, kind: ResourceKind): void {
    this.held[m.idx]!.delete(`${group}/${kind}`);
    if (group === m.cfg.self && claimOf(kind) && this.owesOwnGroup(m.idx)) this.expectOwnGroup(m);
  }

  releaseAll(m: Machine): void {
    this.held[m.idx]!.clear();
  }

  holdsResource(idx: NodeIdx, group: string, kind: ResourceKind): boolean {
    return this.held[idx]!.has(`${group}/${kind}`);
  }

  holds(idx: NodeIdx, group: string, claim: Claim): boolean {
    const h = this.held[idx]!;
    return claim === 'address' ? h.has(`${group}/service_ip`) : h.has(`${group}/filesystem`) || h.has(`${group}/log_replay`);
  }

  /**
   * A node decided its partner was dead. That is false if, over the whole detection window, the partner's agent
   * ran and some channel between them was clean: a network (heartbeats and ICMP would have answered) or the disk
   * on both sides (the mailbox ping would have).
   */
  checkFenceDecision(decider: NodeIdx): void {
    const w = this.w;
    const t = w.setup.timing;
    const windowMs = silenceAfter(t) + t.icmpTimeoutMs + t.diskProbeTimeoutMs;
    const from = w.now - windowMs;
    const partner = w.other(decider);
    const me = w.machines[decider]!;
    if (partner.agentRunningSince === null || partner.agentRunningSince > from) return;
    const clean = (since: number | null) => since !== null && since <= from;
    const netOk = [0, 1].some((net) => clean(this.cleanSince.net[net]!));
    const diskOk = clean(this.cleanSince.disk[decider]!) && clean(this.cleanSince.disk[partner.idx]!);
    if (netOk || diskOk) {
      this.violation(
        `false takeover: node${me.idx + 1} fenced node${partner.idx + 1}, alive and reachable ` +
        `(${netOk ? 'a network' : 'the disk'} clean for the last ${windowMs} ms)`,
      );
      return;
    }
    // A verdict on stale evidence: the partner's slot took a new record within the disk probe's window, long enough
    // before the verdict for the next read of ours to have seen it, and our side of the disk was clean meanwhile.
    const advancedAt = w.slotAdvancedAt[partner.idx]!;
    const seenBy = advancedAt + t.diskIntervalMs + w.setup.tickMs + DISK_MS[1] + 1;
    const ourDiskSince = this.cleanSince.disk[decider] ?? null;
    if (advancedAt >= w.now - t.diskProbeTimeoutMs && seenBy <= w.now && ourDiskSince !== null && ourDiskSince <= advancedAt) {
      this.violation(
        `stale verdict: node${me.idx + 1} fenced node${partner.idx + 1}, whose slot took a new record ` +
        `${Math.round(w.now - advancedAt)} ms earlier on a disk node${me.idx + 1} could read`,
      );
    }
  }

  /** When each channel became clean and has stayed so (null while it is not). Kept up to date by refresh(). */
  readonly cleanSince = { net: [0, 0] as (number | null)[], disk: [0, 0] as (number | null)[] };

  refresh(): void {
    const w = this.w;
    for (const net of [0, 1]) {
      const ok = w.netClean(net);
      if (!ok) this.cleanSince.net[net] = null;
      else if (this.cleanSince.net[net] === null) this.cleanSince.net[net] = w.now;
    }
    for (const m of w.machines) {
      const ok = w.diskClean(m);
      if (!ok) this.cleanSince.disk[m.idx] = null;
      else if (this.cleanSince.disk[m.idx] === null) this.cleanSince.disk[m.idx] = w.now;
    }
  }

  /**
   * A watchdog reset is the last resort: it must follow a frozen, stopped or crashed agent, a stop that hung or
   * failed, or a jump of the machine's clock. A reset of a machine whose agent ran all along means the core did not
   * stand down before its own lease ran out: it relied on the watchdog, and without one would have served on.
   */
  checkWatchdogReset(m: Machine): void {
    const w = this.w;
    const t = w.setup.timing;
    if (m.watchdog.asked) return;
    const from = w.now - (t.selfFenceLeaseMs + t.watchdogTimeoutMs + w.setup.tickMs);
    if (m.agentRunningSince === null || m.agentRunningSince > from || m.lastClockJumpAt >= from) return;
    // A stop begun just before a hang's window closed still hangs its full time.
    const excused = w.faults.some((f) => 'node' in f && f.node === m.idx && EXCUSES_A_RESET.includes(f.kind) &&
      f.at <= w.now && ('until' in f ? f.until : f.at) + (f.kind === 'stop_hang' ? f.hangMs : 0) >= from);
    if (excused) return;
    this.violation(`node${m.idx + 1}'s watchdog reset it while its agent ran: the agent did not stand down before its lease ran out`);
  }

  takeoverBoundMs(): number {
    return takeoverBoundMs(this.w.setup.timing, this.w.setup.tickMs, MAX_GROUP_START_MS);
  }

  noteCrash(victim: NodeIdx, f: Fault): void {
    const w = this.w;
    const survivor = w.other(victim);
    const bound = this.takeoverBoundMs();
    const crashEnd = 'until' in f ? f.until : w.now;
    if (crashEnd < w.now + bound) return; // it comes back before the bound: nothing to check
    const core = survivor.agent?.core;
    // A survivor watching its partner (hearing it, or seeing it on the disk only) owes the bound; one busy with
    // something else (starting, fenced, taking over) does not.
    if (!w.agentActive(survivor) || !core || !['normal', 'suspecting', 'probing', 'partner_degraded', 'fenced', 'reintegrating'].includes(core.phase)) return;
    // Only a survivor with no faults of its own around the crash owes the bound.
    const touched = (to: number, exceptOperator: boolean) => w.faults.some((g) => g !== f && 'node' in g &&
      g.node === survivor.idx && !(exceptOperator && g.kind === 'operator') && g.at <= to &&
      ('until' in g ? g.until : g.at) >= w.now - t0Slack(w));
    if (!touched(w.now + bound, false)) w.scheduleCheck('takeover', victim, w.now, w.now + bound);
    // Whatever the operator does with the partner's group meanwhile, the survivor serves its own to the end.
    if (!touched(crashEnd, true)) {
      w.scheduleCheck('own_group', victim, w.now, w.now + bound);
      this.ownGroupWatch[survivor.idx] = { victim, crashedAt: w.now, until: crashEnd };
    }
  }

  /** Per machine: from its takeover bound until its crashed partner returns, it must not let go of its own group. */
  private ownGroupWatch: ({ victim: NodeIdx; crashedAt: number; until: number } | null)[] = [null, null];

  /** Once the takeover bound has passed: the survivor serves its own group, and must go on doing so (release()). */
  checkOwnGroup(victim: NodeIdx): void {
    const survivor = this.w.other(victim);
    if (this.owesOwnGroup(survivor.idx)) this.expectOwnGroup(survivor);
  }

  private owesOwnGroup(idx: NodeIdx): boolean {
    const w = this.w;
    const watch = this.ownGroupWatch[idx];
    if (!watch || w.now >= watch.until) return false;
    const v = w.machines[watch.victim]!;
    const survivor = w.machines[idx]!;
    return !v.up && v.upSince <= watch.crashedAt && survivor.agentRunningSince !== null &&
      survivor.agentRunningSince <= watch.crashedAt && w.now >= watch.crashedAt + this.takeoverBoundMs();
  }

  private expectOwnGroup(survivor: Machine): void {
    const core = survivor.agent?.core;
    const own = survivor.cfg.self;
    if (!core || groupStatus(core.groups[own]!) !== 'online' || !this.holds(survivor.idx, own, 'address')) {
      const victim = this.ownGroupWatch[survivor.idx]!.victim;
      this.violation(`node${survivor.idx + 1} let go of its own group while node${victim + 1} was down (it is ${core?.phase ?? 'down'})`);
    }
  }

  checkTakeover(victim: NodeIdx, crashedAt: number): void {
    const w = this.w;
    const survivor = w.other(victim);
    const v = w.machines[victim]!;
    if (v.up || v.upSince > crashedAt) return;
    // A survivor that was itself reset meanwhile (its partner's fence command got there first) owes nothing.
    if (survivor.agentRunningSince === null || survivor.agentRunningSince > crashedAt) return;
    const core = survivor.agent?.core;
    const group = w.setup.coreConfig(victim).self;
    if (!core || groupStatus(core.groups[group]!) !== 'online' || !this.holds(survivor.idx, group, 'address')) {
      this.violation(
        `node${victim + 1} crashed at ${(crashedAt / 1000).toFixed(3)}s and was not taken over within ` +
        `${this.takeoverBoundMs()} ms (survivor is ${core?.phase ?? 'down'})`,
      );
    }
  }

  /** After the faults heal: both nodes normal, each serving its own group, nobody holding the other's. */
  checkConverged(): void {
    const w = this.w;
    const problems: string[] = [];
    for (const m of w.machines) {
      const name = `node${m.idx + 1}`;
      const core = m.agent?.core;
      if (!w.agentActive(m) || !core) {
        problems.push(`${name} has no running agent`);
        continue;
      }
      if (core.phase !== 'normal') problems.push(`${name} is ${core.phase}`);
      const own = core.groups[m.cfg.self]!;
      if (groupStatus(own) !== 'online') problems.push(`${name}'s own group is ${groupStatus(own)}`);
      if (groupHeld(core.groups[m.cfg.partner]!)) problems.push(`${name} still holds its partner's group`);
      if (!this.holds(m.idx, m.cfg.self, 'disk') || !this.holds(m.idx, m.cfg.self, 'address')) {
        problems.push(`${name} does not actually hold its own disk and address`);
      }
    }
    if (problems.length > 0) this.violation(`not converged ${w.setup.healMs} ms after the faults healed: ${problems.join('; ')}`);
  }
}

/** Faults under which a correct agent may still be reset by its watchdog: its stops hang or fail. */
const EXCUSES_A_RESET: readonly Fault['kind'][] = ['stop_hang', 'resource_failures'];

/** Faults of the survivor shortly before the crash still disturb it (a freeze just ended, a reboot just done). */
function t0Slack(w: World): number {
  return w.setup.timing.selfFenceLeaseMs * 2;
}
