// The watcher's controller: owns the clock and the tick timer, feeds what the listener and the route table report
// to the core, and carries out the core's effects through them. Every decision is the core's.
import type { Clock, HeartbeatDropReason, LogFn } from '../ports.ts';
import type { HeartbeatSource } from './listener.ts';
import type { RouteTable } from './route-table.ts';
import { watchStatus, type WatchStatus } from './status.ts';
import { initialWatchState, step } from './step.ts';
import { serverId, type Route, type WatchCoreConfig, type WatchEffect, type WatchEvent, type WatchState } from './types.ts';

export interface WatchControllerDeps {
  core: WatchCoreConfig;
  clock: Clock;
  listener: HeartbeatSource;
  routes: RouteTable;
  log: LogFn;
  tickMs: number;
}

export class WatchController {
  private state: WatchState | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly d: WatchControllerDeps) {}

  /** Reads the routes already in the table, then listens and ticks. Rejects if either cannot start. */
  async start(): Promise<void> {
    const d = this.d;
    this.state = initialWatchState(d.core, d.clock.now());
    const routes = await d.routes.list(d.core.services.map((s) => s.address));
    this.dispatch({ type: 'routes_found', routes });
    await d.listener.start((pair, node, net, addresses) => this.dispatch({ type: 'heartbeat', server: serverId(pair, node), net, addresses }));
    this.timer = setInterval(() => this.dispatch({ type: 'tick' }), d.tickMs);
  }

  status(): WatchStatus & { drops: Record<HeartbeatDropReason, number> } {
    if (!this.state) throw new Error('the watcher has not started');
    return { ...watchStatus(this.d.core, this.state, this.d.clock.now()), drops: this.d.listener.drops() };
  }

  /** Stops listening and ticking and waits for route changes under way. The routes in force stay. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.d.listener.close();
    await Promise.all(this.inFlight);
  }

  private dispatch(ev: WatchEvent): void {
    if (this.stopped || !this.state) return;
    for (const fx of step(this.d.core, this.state, ev, this.d.clock.now())) this.carryOut(fx);
  }

  private carryOut(fx: WatchEffect): void {
    const { log, routes } = this.d;
    switch (fx.type) {
      case 'log':
        log(fx.level, fx.message, fx.fields);
        return;
      case 'route_replace': {
        const r = fx.route;
        log('info', `routing ${r.address} via ${r.via} dev ${r.dev} src ${r.src}: ${fx.cause}`, routeFields('replace', r, fx.cause));
        this.track(routes.replace(r), r.address, r);
        return;
      }
      case 'route_remove': {
        const r = fx.route;
        log('info', `removing the route of ${r.address} via ${r.via}: ${fx.cause}`, routeFields('remove', r, fx.cause));
        this.track(routes.remove(r), r.address, null);
      }
    }
  }

  private track(change: Promise<{ ok: boolean; error?: string }>, address: string, route: Route | null): void {
    const done = change
      .then((r) => this.dispatch({ type: 'route_done', address, route, ok: r.ok, error: r.error }))
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }
}

function routeFields(action: string, r: Route, cause: string): Record<string, unknown> {
  return { event: 'route', action, address: r.address, via: r.via, dev: r.dev, src: r.src, owner: r.owner, cause };
}
