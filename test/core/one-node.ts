// One core stepped by hand, for tests of single decisions: state + event + time → state + effects. The node is
// node1 of the simulator's pair; its partner node2 is played by this harness (heartbeats that echo ours, a slot on
// the disk that changes while it lives, ICMP replies while its machine is up), and every mailbox cycle and resource
// operation succeeds after one tick unless a test says otherwise.
import { step } from '../../agent/core/pairing.ts';
import { initialState, type NodeState } from '../../agent/core/state.ts';
import { emptyOutbox } from '../../agent/core/fence.ts';
import type { CoreEvent, Effect, Heartbeat, OperatorRequest, Outbox, StatusRecord } from '../../agent/core/types.ts';
import { simSetup } from '../../agent/sim/setup.ts';

export const cfg = simSetup({ reintegrate: 'manual', hasFenceCommand: false }).coreConfig(0);
const TICK_MS = 50;

export class OneNode {
  s: NodeState;
  now = 0;
  /** Transitions and reports, in order: "from → to: cause", "level: message". */
  readonly trace: string[] = [];
  readonly sent: Heartbeat[] = [];
  /** Every start and stop asked of the resource layer, as "start node1/filesystem". */
  readonly ops: string[] = [];
  partner = { heartbeats: true, disk: true, icmp: true, maintenance: false };
  partnerOutbox: Outbox = emptyOutbox();
  diskOk = true;
  private partnerSeq = 0;
  private partnerCounter = 0;
  private lastPartnerHbAt = -Infinity;
  private slot: StatusRecord | null = null;
  private outbox: Outbox | null = null;
  private pending: CoreEvent[] = [];

  constructor() {
    this.s = initialState(cfg, 0, 1);
  }

  /** Feeds one event now; the effects are carried out as the harness's world would, their answers queued. */
  feed(ev: CoreEvent): Effect[] {
    const { effects } = step(cfg, this.s, ev, this.now);
    for (const fx of effects) this.carryOut(fx);
    return effects;
  }

  /** Lets `ms` pass in ticks, delivering queued answers and the partner's heartbeats. */
  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += TICK_MS;
      const due = this.pending;
      this.pending = [];
      for (const ev of due) this.feed(ev);
      if (this.partner.heartbeats && this.now - this.lastPartnerHbAt >= cfg.timing.heartbeatIntervalMs) {
        this.lastPartnerHbAt = this.now;
        for (const net of cfg.networks) this.feed({ type: 'heartbeat', net, hb: this.partnerHeartbeat() });
      }
      this.feed({ type: 'tick' });
    }
  }

  /** Runs until the phase is `phase`, at most `ms`. */
  runUntil(phase: NodeState['phase'], ms = 10_000): void {
    const end = this.now + ms;
    while (this.s.phase !== phase) {
      if (this.now > end) throw new Error(`not ${phase} after ${ms} ms but ${this.s.phase}:\n${this.trace.join('\n')}`);
      this.run(TICK_MS);
    }
  }

  /** An operator command; returns what the core reported. */
  command(ev: OperatorRequest): string[] {
    const said = this.feed({ type: 'command', ...ev });
    return said.flatMap((fx) => (fx.type === 'report' ? [fx.message] : []));
  }

  private partnerStatus(): StatusRecord {
    return {
      node: cfg.partner, gen: 1, counter: this.partnerCounter, phase: 'normal', owns: [cfg.partner], isolated: false,
      pong: 0, ackFenceTerm: 0, handledReintegrate: 0, handledHandover: 0, handledTakeover: 0,
    };
  }

  private partnerHeartbeat(): Heartbeat {
    const ours = this.sent.at(-1);
    return {
      from: cfg.partner, gen: 1, seq: ++this.partnerSeq, sentAt: this.now, status: this.partnerStatus(),
      outbox: { ...this.partnerOutbox }, echo: ours ? { gen: ours.gen, seq: ours.seq } : null, grant: true,
      maintenance: this.partner.maintenance,
    };
  }

  private carryOut(fx: Effect): void {
    switch (fx.type) {
      case 'send_heartbeat':
        this.sent.push(fx.hb);
        return;
      case 'icmp_probe':
        if (this.partner.icmp) this.pending.push({ type: 'icmp_reply', net: fx.net, probeId: fx.probeId });
        return;
      case 'disk_cycle': {
        if (!this.diskOk) return; // the cycle hangs: the core's deadline fails it
        if (fx.write) {
          this.slot = fx.write.slot;
          this.outbox = fx.write.outbox;
        }
        if (this.partner.disk) this.partnerCounter++;
        this.pending.push({
          type: 'disk_done', opId: fx.opId, ok: true,
          view: {
            ownSlot: this.slot, ownOutbox: this.outbox, inbox: { ...this.partnerOutbox }, partnerSlot: this.partnerStatus(),
          },
        });
        return;
      }
      case 'start_resource':
      case 'stop_resource': {
        const op = fx.type === 'start_resource' ? 'start' : 'stop';
        this.ops.push(`${op} ${fx.group}/${fx.resource}`);
        this.pending.push({ type: 'resource_done', group: fx.group, resource: fx.resource, op, ok: true });
        return;
      }
      case 'transition':
        this.trace.push(`${fx.from} → ${fx.to}: ${fx.cause}`);
        return;
      case 'report':
        this.trace.push(`${fx.level}: ${fx.message}`);
        return;
      case 'watchdog':
      case 'run_fence_command':
        return;
    }
  }
}

/** A node that has booted and serves its own group, its partner alive on every channel. */
export function normalNode(): OneNode {
  const n = new OneNode();
  n.runUntil('normal');
  return n;
}

/** The partner dies: silent on the networks, its slot frozen, its machine gone from ICMP. */
export function partnerDies(n: OneNode): void {
  n.partner = { ...n.partner, heartbeats: false, disk: false, icmp: false };
}
