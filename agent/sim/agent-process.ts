// One run of the agent on a simulated machine: the real Controller, wired to the simulated world through the same
// ports (agent/ports.ts) that the daemon wires to sockets, disks and commands. Every effect of the core is carried
// out by the controller, as in production; this file only answers the ports from the world.
import { Controller } from '../daemon/controller.ts';
import { DeviceWatchdog, NoWatchdog, watchdogPetMs } from '../daemon/watchdog.ts';
import type { NodeState } from '../core/state.ts';
import type { GroupId, Heartbeat, MailboxView, NetId, ResourceKind } from '../core/types.ts';
import {
  noDrops, type Clock, type HeartbeatExtras, type HeartbeatTransport, type IcmpProber, type LogFn, type Mailbox,
  type MailboxWrite, type ResourceDriver, type Scheduler, type Watchdog, type WatchdogDevice,
} from '../ports.ts';
import { Future } from './future.ts';
import type { Machine, World } from './world.ts';

export const SIM_NETS: readonly NetId[] = ['a', 'b'];

/** A repeating timer of the agent's process: a frozen process misses its firings and fires once when it wakes. */
export interface SimTimer {
  ms: number;
  fn: () => void;
  cancelled: boolean;
  missed: boolean;
}

interface Probe {
  sentAt: number;
  timeoutMs: number;
  onReply: () => void;
}

type ResourceResult = { ok: boolean; error?: string };

export class SimAgent {
  readonly controller: Controller;
  /** What reached the agent while it was frozen, in order: it handles it once it runs again. */
  queue: Array<() => void> = [];
  readonly timers: SimTimer[] = [];
  private onHeartbeat: ((net: NetId, hb: Heartbeat, extras: HeartbeatExtras) => void) | null = null;
  private readonly probes = new Map<number, Probe>();
  private nextProbe = 0;
  private health: Array<{ group: GroupId; resource: string; ok: boolean; detail: string }> = [];
  /** The links as last reported; none at first, so that the first poll reports all. */
  private readonly linksSeen: Array<boolean | undefined> = [];

  constructor(private readonly w: World, private readonly m: Machine, readonly inc: number, generation: number) {
    const timing = w.setup.timing;
    const clock: Clock = { now: () => w.localTime(m) };
    // The trace reads as the agent's journal: "node2 probing → fencing_partner: …", "node1 warn: …".
    const log: LogFn = (level, message, fields) =>
      w.log(`node${m.idx + 1} ${fields?.event === 'transition' ? '' : `${level}: `}${message}`);
    this.controller = new Controller({
      core: m.cfg,
      generation,
      clock,
      scheduler: this.scheduler(),
      transport: this.transport(),
      prober: this.prober(),
      mailbox: this.mailbox(),
      resources: this.resources(),
      watchdog: timing.watchdogTimeoutMs === 0 ? new NoWatchdog(() => {}) : this.watchdog(clock),
      fence: w.setup.hasFenceCommand ? () => this.fence() : null,
      links: { poll: () => this.pollLinks() },
      extras: () => ({ addresses: [] }),
      log,
      tickMs: w.setup.tickMs,
      observers: [{ stepped: (_ev, effects, state) => {
        for (const fx of effects) {
          if (fx.type !== 'transition') continue;
          // The verdict is the move to fence: into power_fencing, or into fencing_partner straight from watching.
          // The move on from power_fencing to the wait is no new verdict, and the evidence it would be judged on
          // (the partner's slot, a second or more later) is not what the verdict was made on.
          const decided = fx.to === 'power_fencing' || (fx.to === 'fencing_partner' && fx.from !== 'power_fencing' && state.detector.stage === 'dead');
          if (decided) {
            w.inv.checkFenceDecision(m.idx);
          }
        }
      } }],
    });
  }

  get core(): Readonly<NodeState> {
    return this.controller.snapshot().state;
  }

  /** A heartbeat arrived on `net`: the transport hands it to the controller, as UdpHeartbeats does. */
  heartbeatArrived(net: NetId, hb: Heartbeat): void {
    this.onHeartbeat?.(net, hb, { addresses: [] });
  }

  /** An echo reply: counts only within the probe's timeout, as the ICMP adapter's callback does. */
  icmpReplied(probe: number): void {
    const p = this.probes.get(probe);
    if (!p) return;
    this.probes.delete(probe);
    if (this.w.localTime(this.m) - p.sentAt <= p.timeoutMs) p.onReply();
  }

  /** A deep check or the NFS server's monitor found a resource failed: the controller reads it on its next tick. */
  reportHealth(resource: string, detail: string): void {
    this.health.push({ group: this.m.cfg.self, resource, ok: false, detail });
  }

  private scheduler(): Scheduler {
    return {
      every: (ms, fn) => {
        const timer: SimTimer = { ms, fn, cancelled: false, missed: false };
        this.timers.push(timer);
        this.w.startTimer(this.m, this.inc, timer);
        return () => {
          timer.cancelled = true;
        };
      },
    };
  }

  private transport(): HeartbeatTransport {
    const w = this.w;
    const m = this.m;
    return {
      start: (onHeartbeat) => {
        this.onHeartbeat = onHeartbeat;
        return Future.resolved(undefined);
      },
      send: (hb) => {
        for (let net = 0; net < SIM_NETS.length; net++) w.send(m.idx, w.other(m.idx).idx, net, { type: 'hb', hb });
      },
      drops: () => noDrops(),
      traffic: () => ({}),
      close: () => {
        this.onHeartbeat = null;
        return Future.resolved(undefined);
      },
    };
  }

  private prober(): IcmpProber {
    return {
      probe: (net, timeoutMs, onReply) => {
        const probe = ++this.nextProbe;
        this.probes.set(probe, { sentAt: this.w.localTime(this.m), timeoutMs, onReply });
        this.w.send(this.m.idx, this.w.other(this.m.idx).idx, SIM_NETS.indexOf(net), { type: 'icmp_request', probe, inc: this.inc });
      },
      close: () => this.probes.clear(),
    };
  }

  private mailbox(): Mailbox {
    return {
      cycle: (write: MailboxWrite | null, deadlineMs, readIntents = []) => {
        const done = new Future<MailboxView>();
        this.w.submitDisk(this.m, { inc: this.inc, write, readIntents: [...readIntents], done });
        this.w.callLater(this.m, this.inc, deadlineMs, () => {
          if (done.pending) done.reject(new Error(`no answer within ${deadlineMs} ms`));
        });
        return done;
      },
      close: () => Future.resolved(undefined),
    };
  }

  private resources(): ResourceDriver {
    return {
      run: (group, resource, kind: ResourceKind, op) => {
        const done = new Future<ResourceResult>();
        this.w.beginResource(this.m, this.inc, { group, resource, kind, op }, done);
        return done;
      },
      monitor: () => {
        const failed = this.health;
        this.health = [];
        return failed;
      },
      idle: () => Future.resolved(undefined),
    };
  }

  private fence(): Future<ResourceResult> {
    const done = new Future<ResourceResult>();
    this.w.runFence(this.m, this.inc, done);
    return done;
  }

  /** The real DeviceWatchdog on the machine's device; the world notes whether the core asked for the reset itself. */
  private watchdog(clock: Clock): Watchdog {
    const device: WatchdogDevice = {
      open: () => this.w.watchdogOpened(this.m),
      pet: () => this.w.watchdogPetted(this.m),
      close: (magic) => this.w.watchdogClosed(this.m, magic),
    };
    const real = new DeviceWatchdog(device, clock, this.scheduler(), watchdogPetMs(this.w.setup.timing));
    return {
      arm: (until) => {
        this.m.watchdog.asked = until !== null && until <= clock.now();
        real.arm(until);
      },
      close: () => real.close(),
    };
  }

  /** Links whose state changed since the last poll (the first poll reports all), as LinkWatcher does. */
  private pollLinks(): Array<{ net: NetId; up: boolean }> {
    const changed: Array<{ net: NetId; up: boolean }> = [];
    for (let i = 0; i < SIM_NETS.length; i++) {
      const up = this.m.links[i]!;
      if (this.linksSeen[i] !== up) changed.push({ net: SIM_NETS[i]!, up });
      this.linksSeen[i] = up;
    }
    return changed;
  }
}
