// What must hold in every simulated run. Safety is checked whenever a machine takes a resource; the takeover
// bound, the absence of false takeovers and convergence after the faults heal are checked at their moments.
import { silenceAfter } from '../core/detector.ts';
import { takeoverBoundMs } from '../core/lease.ts';
import { groupHeld, groupStatus } from '../core/resources.ts';
import type { ResourceKind } from '../core/types.ts';
import type { Fault, NodeIdx } from './faults.ts';
import { MAX_GROUP_START_MS, type Machine, type World } from './world.ts';

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
    const excused = w.faults.some((f) => 'node' in f && f.node === m.idx && EXCUSES_A_RESET.includes(f.kind) &&
      f.at <= w.now && ('until' in f ? f.until : f.at) >= from);
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
    if (!w.agentActive(survivor) || !core || !['normal', 'suspecting', 'probing', 'partner_degraded'].includes(core.phase)) return;
    // Only a survivor with no faults of its own around the crash owes the bound.
    const touched = w.faults.some((g) => g !== f && 'node' in g && g.node === survivor.idx &&
      g.at <= w.now + bound && ('until' in g ? g.until : g.at) >= w.now - t0Slack(w));
    if (touched) return;
    w.scheduleTakeoverCheck(victim, w.now, w.now + bound);
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
