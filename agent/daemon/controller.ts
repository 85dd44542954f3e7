// The agent's controller: owns the clock and the tick timer, turns what the adapters report into core events, and
// carries out the core's effects through the adapters. All protocol decisions are the core's; this file only wires.
import { groupStatus } from '../core/resources.ts';
import { step } from '../core/pairing.ts';
import { initialState, type NodeState } from '../core/state.ts';
import type { CoreConfig, CoreEvent, CoreTiming, Effect, GroupId, NetId, OperatorRequest } from '../core/types.ts';
import type {
  Clock, FenceAction, HeartbeatExtras, HeartbeatTransport, IcmpProber, LogFn, Mailbox, ResourceDriver, Scheduler,
  Watchdog,
} from '../ports.ts';

export interface LinkSource {
  /** Links whose state changed since the last call (the first call reports all). Cheap: read on every tick. */
  poll(): Array<{ net: NetId; up: boolean }>;
}

/** Watches the core from outside (timeline, metrics, systemd status): called after every step; must not act on it. */
export interface StepObserver {
  stepped(ev: CoreEvent, effects: readonly Effect[], state: Readonly<NodeState>, now: number): void;
}

/** The core's state as it is now, read only: what `hanfs status` is made of. */
export interface ControllerSnapshot {
  state: Readonly<NodeState>;
  now: number;
  startedAt: number;
}

export interface ControllerDeps {
  core: CoreConfig;
  generation: number;
  clock: Clock;
  scheduler: Scheduler;
  transport: HeartbeatTransport;
  prober: IcmpProber;
  mailbox: Mailbox;
  resources: ResourceDriver;
  watchdog: Watchdog;
  fence: FenceAction | null;
  links: LinkSource;
  extras: (owns: readonly GroupId[]) => HeartbeatExtras;
  log: LogFn;
  /** How often the core is stepped without news: controllerTickMs(). */
  tickMs: number;
  observers?: StepObserver[];
}

/** A fraction of the shortest protocol interval, so that no deadline of the core is missed by much. */
export function controllerTickMs(t: Pick<CoreTiming, 'heartbeatIntervalMs' | 'diskIntervalMs'>): number {
  return Math.max(5, Math.floor(Math.min(t.heartbeatIntervalMs, t.diskIntervalMs) / 4));
}

export class Controller {
  private state: NodeState;
  private cancelTicks: (() => void) | null = null;
  private queue: CoreEvent[] = [];
  private stepping = false;
  private stopped = false;
  private readonly startedAt: number;
  /** The reports of the step being run, so that a command can answer with what the core said. */
  private reports: string[] = [];

  constructor(private readonly d: ControllerDeps) {
    this.startedAt = d.clock.now();
    this.state = initialState(d.core, this.startedAt, d.generation);
  }

  /** Binds the transport, then steps the core: once at once, then every tick. */
  start(): PromiseLike<void> {
    return this.d.transport.start((net, hb) => this.dispatch({ type: 'heartbeat', net, hb })).then(() => {
      this.d.log('info', 'agent started', { node: this.d.core.self, generation: this.d.generation });
      this.tick();
      this.cancelTicks = this.d.scheduler.every(this.d.tickMs, () => this.tick());
    });
  }

  /** Stops stepping and closes the adapters; the watchdog decides itself whether it may be disarmed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTicks?.();
    this.cancelTicks = null;
    this.d.prober.close();
    this.d.watchdog.close();
    await Promise.allSettled([this.d.transport.close(), this.d.mailbox.close(), this.d.resources.idle()]);
  }

  /** Feeds one event to the core; events raised while a step runs wait their turn, so steps never nest. */
  dispatch(ev: CoreEvent): string[] {
    if (this.stopped) return [];
    this.queue.push(ev);
    if (this.stepping) return [];
    this.stepping = true;
    const said: string[] = [];
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        this.reports = [];
        const now = this.d.clock.now();
        const r = step(this.d.core, this.state, next, now);
        this.state = r.state;
        for (const fx of r.effects) this.effect(fx);
        for (const o of this.d.observers ?? []) o.stepped(next, r.effects, this.state, now);
        said.push(...this.reports);
      }
    } finally {
      this.stepping = false;
    }
    return said;
  }

  /** An operator command: the answer is what the core reported while handling it. */
  command(request: OperatorRequest): string[] {
    const said = this.dispatch({ type: 'command', ...request });
    return said.length > 0 ? said : [`${request.command}: accepted`];
  }

  private tick(): void {
    for (const change of this.d.links.poll()) this.dispatch({ type: 'link', ...change });
    for (const h of this.d.resources.monitor()) if (!h.ok) this.dispatch({ type: 'health', ...h });
    this.dispatch({ type: 'tick' });
  }

  private effect(fx: Effect): void {
    const d = this.d;
    switch (fx.type) {
      case 'send_heartbeat':
        d.transport.send(fx.hb, d.extras(fx.hb.status.owns));
        return;
      case 'icmp_probe':
        d.prober.probe(fx.net, d.core.timing.icmpTimeoutMs, () =>
          this.dispatch({ type: 'icmp_reply', net: fx.net, probeId: fx.probeId }));
        return;
      case 'disk_cycle':
        d.mailbox.cycle(fx.write, d.core.timing.diskIoTimeoutMs, fx.readIntents).then(
          (view) => this.dispatch({ type: 'disk_done', opId: fx.opId, ok: true, view }),
          (err: Error) => this.dispatch({ type: 'disk_done', opId: fx.opId, ok: false, error: err.message }),
        );
        return;
      case 'start_resource':
      case 'stop_resource': {
        const op = fx.type === 'start_resource' ? 'start' : 'stop';
        d.resources.run(fx.group, fx.resource, fx.kind, op).then(
          (r) => this.dispatch({ type: 'resource_done', group: fx.group, resource: fx.resource, op, ok: r.ok, error: r.error }),
          (err: Error) => this.dispatch({ type: 'resource_done', group: fx.group, resource: fx.resource, op, ok: false, error: err.message }),
        );
        return;
      }
      case 'watchdog':
        d.watchdog.arm(fx.until);
        return;
      case 'run_fence_command':
        if (!d.fence) {
          this.dispatch({ type: 'fence_command_done', ok: false, error: 'no fence command configured' });
          return;
        }
        d.fence().then(
          (r) => this.dispatch({ type: 'fence_command_done', ok: r.ok, error: r.error }),
          (err: Error) => this.dispatch({ type: 'fence_command_done', ok: false, error: err.message }),
        );
        return;
      case 'transition':
        d.log('info', `${fx.from} → ${fx.to}: ${fx.cause}`, { event: 'transition', from: fx.from, to: fx.to, cause: fx.cause });
        return;
      case 'report':
        this.reports.push(fx.message);
        d.log(fx.level, fx.message, { event: 'report' });
        return;
    }
  }

  /** Whether this node runs the group now, all of it: the deep checks only look at what is served here. */
  serves(group: GroupId): boolean {
    const g = this.state.groups[group];
    return !!g && groupStatus(g) === 'online';
  }

  snapshot(): ControllerSnapshot {
    return { state: this.state, now: this.d.clock.now(), startedAt: this.startedAt };
  }
}
