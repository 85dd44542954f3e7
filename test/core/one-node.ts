// One agent stepped by hand, for tests of single decisions: the real Controller with its ports answered by this
// harness, on a clock that only moves when a test says so. The node is node1 of the simulator's pair; its partner
// node2 is played by this harness (heartbeats that echo ours, a slot on the disk that changes while it lives, ICMP
// replies while its machine is up), and every mailbox cycle and resource operation succeeds after one tick unless a
// test says otherwise.
import { Controller } from '../../agent/daemon/controller.ts';
import type { NodeState } from '../../agent/core/state.ts';
import { emptyOutbox } from '../../agent/core/fence.ts';
import type { CoreEvent, Effect, Heartbeat, MailboxView, OperatorRequest, Outbox, StatusRecord } from '../../agent/core/types.ts';
import { noDrops, type Mailbox, type ResourceDriver } from '../../agent/ports.ts';
import { Future } from '../../agent/sim/future.ts';
import { simSetup } from '../../agent/sim/setup.ts';

export const cfg = simSetup({ reintegrate: 'manual', hasFenceCommand: false }).coreConfig(0);
const TICK_MS = 50;

export class OneNode {
  now = 0;
  /** Transitions and reports, in order: "from → to: cause", "level: message". */
  readonly trace: string[] = [];
  readonly sent: Heartbeat[] = [];
  /** Every start and stop asked of the resource layer, as "start node1/filesystem". */
  readonly ops: string[] = [];
  partner = { heartbeats: true, disk: true, icmp: true, maintenance: false };
  partnerOutbox: Outbox = emptyOutbox();
  diskOk = true;
  /** Every start of a resource fails (a group that cannot come back after a health failure). */
  failStarts = false;
  private partnerSeq = 0;
  private partnerCounter = 0;
  private lastPartnerHbAt = -Infinity;
  private slot: StatusRecord | null = null;
  private outbox: Outbox | null = null;
  /** Answers of the ports, given on the next tick. */
  private pending: Array<() => void> = [];
  private tick: () => void = () => {};
  /** The effects of the dispatch under way. */
  private effects: Effect[] = [];
  private readonly controller: Controller;

  constructor() {
    this.controller = new Controller({
      core: cfg,
      generation: 1,
      clock: { now: () => this.now },
      scheduler: { every: (_ms, fn) => {
        this.tick = fn;
        return () => {};
      } },
      transport: {
        start: () => Future.resolved(undefined),
        send: (hb) => void this.sent.push(hb),
        drops: () => noDrops(),
        traffic: () => ({}),
        close: () => Future.resolved(undefined),
      },
      prober: {
        probe: (_net, _timeoutMs, onReply) => {
          if (this.partner.icmp) this.pending.push(onReply);
        },
        close: () => {},
      },
      mailbox: this.mailbox(),
      resources: this.resources(),
      watchdog: { arm: () => {}, close: () => {} },
      fence: null,
      links: { poll: () => [] },
      extras: () => ({ addresses: [] }),
      log: () => {},
      tickMs: TICK_MS,
      observers: [{ stepped: (_ev, effects) => this.observe(effects) }],
    });
    void this.controller.start();
  }

  get s(): Readonly<NodeState> {
    return this.controller.snapshot().state;
  }

  /** Feeds one event now; the effects are carried out by the controller, the ports' answers queued. */
  feed(ev: CoreEvent): Effect[] {
    this.effects = [];
    this.controller.dispatch(ev);
    return this.effects;
  }

  /** Lets `ms` pass in ticks, delivering queued answers and the partner's heartbeats. */
  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += TICK_MS;
      const due = this.pending;
      this.pending = [];
      for (const answer of due) answer();
      if (this.partner.heartbeats && this.now - this.lastPartnerHbAt >= cfg.timing.heartbeatIntervalMs) {
        this.lastPartnerHbAt = this.now;
        for (const net of cfg.networks) this.feed({ type: 'heartbeat', net, hb: this.partnerHeartbeat() });
      }
      this.tick();
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
    return this.feed({ type: 'command', ...ev }).flatMap((fx) => (fx.type === 'report' ? [fx.message] : []));
  }

  private observe(effects: readonly Effect[]): void {
    this.effects.push(...effects);
    for (const fx of effects) {
      if (fx.type === 'transition') this.trace.push(`${fx.from} → ${fx.to}: ${fx.cause}`);
      if (fx.type === 'report') this.trace.push(`${fx.level}: ${fx.message}`);
    }
  }

  /** A cycle on a disk that is down never completes: the core's deadline fails it. */
  private mailbox(): Mailbox {
    return {
      cycle: (write) => {
        const done = new Future<MailboxView>();
        if (!this.diskOk) return done;
        if (write) {
          this.slot = write.slot;
          this.outbox = write.outbox;
        }
        if (this.partner.disk) this.partnerCounter++;
        const view: MailboxView = {
          ownSlot: this.slot, ownOutbox: this.outbox, inbox: { ...this.partnerOutbox }, partnerSlot: this.partnerStatus(),
        };
        this.pending.push(() => done.resolve(view));
        return done;
      },
      close: () => Future.resolved(undefined),
    };
  }

  private resources(): ResourceDriver {
    return {
      run: (group, resource, _kind, op) => {
        this.ops.push(`${op} ${group}/${resource}`);
        const done = new Future<{ ok: boolean; error?: string }>();
        const ok = !(this.failStarts && op === 'start');
        this.pending.push(() => done.resolve(ok ? { ok } : { ok, error: 'start failed (test)' }));
        return done;
      },
      monitor: () => [],
      idle: () => Future.resolved(undefined),
    };
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
